import { Ajv, type Options } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS; under NodeNext its default import is the module namespace.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

const COMMON: Options = {
  useDefaults: true,
  // Unknown properties are errors, never silently dropped: a typo ("minrating") is reported.
  removeAdditional: false,
  allErrors: false,
  addUsedSchema: false,
  strict: false,
};

function compilerFor(options: Options): Ajv {
  const ajv = new Ajv({ ...COMMON, ...options });
  addFormats(ajv);
  return ajv;
}

/**
 * One validator per part of the request. Query strings, path parameters and headers arrive as text
 * and are coerced to the schema's types (`?page=2` is the number 2); JSON bodies already carry types,
 * so they are not coerced: `{"guests": "2"}` is a 400, not silently the number 2.
 */
export function requestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const text = compilerFor({ coerceTypes: 'array' });
  const json = compilerFor({ coerceTypes: false });
  return ({ schema, httpPart }) => (httpPart === 'body' ? json : text).compile(schema as object);
}
