export type Align = 'left' | 'right';

export interface Column {
  readonly header: string;
  readonly align?: Align;
}

/**
 * A plain-text table for a terminal: a header, a rule, one line per row, columns padded to their
 * widest cell. A cell with line breaks continues on the next lines in its own column.
 *
 * @example
 * textTable([{ header: 'index' }, { header: 'scans', align: 'right' }], [['hotels_pkey', '12']]);
 * // index        scans
 * // -----------  -----
 * // hotels_pkey     12
 */
export function textTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const split = rows.map((row) => columns.map((_, i) => (row[i] ?? '').split('\n')));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...split.map((cells) => Math.max(...(cells[i] ?? ['']).map((l) => l.length)))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (columns[i]?.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w)))];
  for (const cells of split) {
    const height = Math.max(...cells.map((c) => c.length));
    for (let l = 0; l < height; l++) out.push(line(cells.map((c) => c[l] ?? '')));
  }
  return out.join('\n');
}
