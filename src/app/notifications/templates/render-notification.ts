import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta/core';
import { Compile } from 'typebox/compile';
import { type NotificationType, notificationTypes, type TemplateContext } from './notification-types.ts';
import { TemplateDataError } from './template-data-error.ts';

export interface RenderedNotification {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

// Every interpolation is escaped: HTML-escaped in the HTML part. The plain-text part has no markup
// to escape, so its "escape" drops control characters instead (a payload must not be able to fake
// lines or terminal sequences in a text viewer); tabs and line breaks stay.
const html = new Eta({ autoEscape: true, autoTrim: [false, 'nl'], cache: true });
// Text templates trim by hand (`-%>`): automatic trimming would also eat the blank lines after values.
const text = new Eta({ autoEscape: true, autoTrim: false, cache: true, escapeFunction: plainText });

/**
 * The templates, read once when this module is first imported: `html/<type>.eta`, `text/<type>.eta`
 * and each folder's `layout.eta` and partials, found next to this file whatever the working
 * directory. A type without both templates fails here, at startup, not at its first e-mail.
 */
for (const [engine, folder] of [
  [html, 'html'],
  [text, 'text'],
] as const) {
  const dir = join(import.meta.dirname, folder);
  const names = readdirSync(dir).filter((f) => f.endsWith('.eta'));
  for (const file of names)
    engine.loadTemplate(`@${file.slice(0, -4)}`, readFileSync(join(dir, file), 'utf8'));
  for (const type of Object.keys(notificationTypes)) {
    if (!names.includes(`${type}.eta`)) throw new Error(`${folder}/${type}.eta is missing`);
  }
}

const validators = new Map(
  Object.entries(notificationTypes).map(([type, def]) => [type, Compile((def as NotificationType).schema)]),
);

/**
 * A notification as an e-mail: its subject and its HTML and plain-text bodies, from the row's
 * `type` and `payload`. A payload that does not fit its type (a field missing or of the wrong
 * kind), or a type without templates, throws a TemplateDataError naming the field.
 *
 * @example
 * renderNotification('booking_confirmed', { bookingId: 7, hotelName: 'Harbour View', checkIn: '2026-06-01', checkOut: '2026-06-04' },
 *   { publicUrl: 'https://innkeep.example', recipientName: 'Ada' }).subject; // 'Booking #7 confirmed: Harbour View'
 */
export function renderNotification(
  type: string,
  data: unknown,
  context: { publicUrl: string; recipientName?: string },
): RenderedNotification {
  const def = Object.hasOwn(notificationTypes, type)
    ? (notificationTypes[type as keyof typeof notificationTypes] as NotificationType)
    : undefined;
  const validator = validators.get(type);
  if (!def || !validator) {
    throw new TemplateDataError(type, undefined, `no e-mail template for the notification type "${type}"`);
  }
  if (!validator.Check(data)) {
    const issues = validator.Errors(data).map(describeIssue);
    const first = issues[0];
    throw new TemplateDataError(
      type,
      first?.field,
      `the ${type} notification's data is invalid: ${issues.map((i) => i.text).join('; ')}`,
    );
  }
  const ctx: TemplateContext = {
    publicUrl: context.publicUrl.replace(/\/+$/, ''),
    recipientName: context.recipientName,
  };
  const { subject, view } = def.build(data, ctx);
  const it = { ...view, subject: oneLine(subject), publicUrl: ctx.publicUrl };
  return {
    subject: it.subject,
    html: html.render(`@${type}`, it),
    text: tidy(text.render(`@${type}`, it)),
  };
}

interface Issue {
  readonly field: string | undefined;
  readonly text: string;
}

/** typebox's error as `field: problem`, the field as a path (`hotelName`, `guest/name`). */
function describeIssue(error: {
  instancePath: string;
  keyword: string;
  message: string;
  params: unknown;
}): Issue {
  const path = error.instancePath.replace(/^\//, '');
  if (error.keyword === 'required') {
    const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
    const fields = missing.map((name) => (path ? `${path}/${name}` : name));
    return { field: fields[0], text: fields.map((f) => `${f} is missing`).join('; ') };
  }
  return { field: path || undefined, text: `${path || 'the data'} ${error.message}` };
}

/** A subject is one header line: line breaks and other control characters become spaces. */
function oneLine(subject: string): string {
  return subject.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim();
}

/** Plain text with at most one blank line in a row, ending with one line break. */
function tidy(body: string): string {
  return `${body.replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

function plainText(value: unknown): string {
  return String(value).replace(/[^\P{Cc}\t\n]/gu, '');
}
