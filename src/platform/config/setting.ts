import type { Static, TSchema } from 'typebox';

/**
 * One environment variable: how it is validated, its default, its line in the README's table and
 * where its value lands in the typed config. Built with {@link setting}, which infers the value's
 * type from the schema, the default and the transform, so the config's type is derived from the rows
 * ({@link ConfigOf}) instead of being written a second time.
 */
export interface Setting<P extends string = string, V = unknown> {
  /** Dot-separated place in the config object: `'db.poolMax'` lands in `config.db.poolMax`. */
  readonly path: P;
  readonly env: string;
  readonly schema: TSchema;
  /** Used when the variable is unset or empty. Without one the value is `undefined`. */
  readonly default?: string | number | boolean;
  readonly description: string;
  /**
   * Turns the validated value (or the default) into the config's value; `undefined` passes through.
   * Identity unless the row gives a `transform`.
   */
  readonly toValue: (value: unknown) => V;
}

/**
 * Declares one setting; see {@link Setting}. The default must satisfy the schema's type, and a
 * setting without a default is typed `T | undefined` in the config.
 *
 * @example
 * setting({
 *   path: 'db.dataDir',
 *   env: 'INNKEEP_DATA_DIR',
 *   schema: Type.String({ minLength: 1 }),
 *   default: './.innkeep',
 *   transform: (dir) => resolve(dir),
 *   description: 'Where the embedded PostgreSQL keeps its data.',
 * }); // config.db.dataDir: string
 */
export function setting<
  const P extends string,
  S extends TSchema,
  D extends Static<S> & (string | number | boolean) = never,
  R = Static<S>,
>(row: {
  readonly path: P;
  readonly env: string;
  readonly schema: S;
  readonly default?: D;
  readonly description: string;
  readonly transform?: (value: Static<S>) => R;
}): Setting<P, [D] extends [never] ? R | undefined : R> {
  const { transform, ...rest } = row;
  return {
    ...rest,
    toValue: (value) => (value === undefined || !transform ? value : transform(value as Static<S>)) as R,
  };
}

/**
 * The config object's type, derived from a list of settings: each row's path becomes nested,
 * read-only properties holding its value's type.
 *
 * @example
 * type C = ConfigOf<[Setting<'http.port', number>, Setting<'log.level', 'info' | 'debug'>]>;
 * // { readonly http: { readonly port: number }; readonly log: { readonly level: 'info' | 'debug' } }
 */
export type ConfigOf<Rows extends readonly Setting[]> = Expand<
  UnionToIntersection<
    { [I in keyof Rows]: Rows[I] extends Setting<infer P, infer V> ? Nest<P, V> : never }[number]
  >
>;

type Nest<P extends string, V> = P extends `${infer Head}.${infer Rest}`
  ? { readonly [K in Head]: Nest<Rest, V> }
  : { readonly [K in P]: V };

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** Merges the intersections `UnionToIntersection` leaves, so editors and errors show plain objects. */
type Expand<T> = T extends object ? { readonly [K in keyof T]: Expand<T[K]> } : T;
