import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/** Marks what follows: plain JSON, or base64 of Brotli-compressed JSON. */
const PLAIN = 'j';
const BROTLI = 'b';
/** A Buffer inside a value travels as `{ [BUFFER]: base64 }` (JSON would spell it byte by byte). */
const BUFFER = '$buf';

/**
 * The serializer of the Redis tier. bentocache hands it the whole entry (value, creation time,
 * expiry, tags) and needs a string back, so a value of `compressMinBytes` or more (as JSON) is stored
 * as a marker plus base64 of its Brotli form. Buffers (pre-compressed HTTP bodies) survive the trip.
 * The memory tier never serializes: it keeps the objects themselves.
 *
 * @example
 * const s = l2Serializer(1024);
 * s.deserialize(s.serialize({ value: 'x'.repeat(5000) })); // { value: 'xxxx…' }, stored as ~40 bytes
 */
export function l2Serializer(compressMinBytes: number) {
  // An entry read from Redis is promoted to memory as bentocache does it: decoded, encoded again and
  // handed to the memory driver, which decodes it once more (see objectMemoryDriver). The last
  // decoded entry is remembered so that those two extra rounds cost a comparison, not Brotli twice.
  let last: { text: string; entry: Record<string, unknown> } | undefined;
  return {
    serialize(value: unknown): string {
      const entry = value as Record<string, unknown> | null;
      if (last && entry && sameEntry(entry, last.entry)) return last.text;
      const json = JSON.stringify(value, replacer);
      if (json.length < compressMinBytes) return PLAIN + json;
      const packed = brotliCompressSync(json, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 4,
          [constants.BROTLI_PARAM_SIZE_HINT]: json.length,
        },
      });
      return BROTLI + packed.toString('base64');
    },
    deserialize(text: string): unknown {
      if (last && text === last.text) return last.entry;
      const marker = text.charAt(0);
      const body =
        marker === BROTLI
          ? brotliDecompressSync(Buffer.from(text.slice(1), 'base64')).toString('utf8')
          : marker === PLAIN
            ? text.slice(1)
            : text;
      const parsed: unknown = JSON.parse(body, reviver);
      if (parsed !== null && typeof parsed === 'object')
        last = { text, entry: parsed as Record<string, unknown> };
      return parsed;
    },
  };
}

/** The same entry: bentocache rebuilds the object around the same value when it re-encodes it. */
function sameEntry(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return (
    typeof a.createdAt === 'number' &&
    a.value !== undefined &&
    a.value === b.value &&
    a.createdAt === b.createdAt &&
    a.logicalExpiration === b.logicalExpiration &&
    sameTags(a.tags, b.tags)
  );
}

function sameTags(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((t, i) => t === b[i]);
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  return Buffer.isBuffer(original) ? { [BUFFER]: original.toString('base64') } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && BUFFER in value) {
    const encoded = (value as Record<string, unknown>)[BUFFER];
    if (typeof encoded === 'string') return Buffer.from(encoded, 'base64');
  }
  return value;
}
