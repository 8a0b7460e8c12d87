import { Ajv, type Options } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FastifyValidationResult } from 'fastify/types/schema.js';

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
 * Text becomes a number only when written in plain decimal digits: ajv's coercion is `Number(text)`,
 * which reads `0x10` as 16, `1e3` as 1000 and ` 7 ` as 7.
 */
export function requestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const text = compilerFor({ coerceTypes: 'array' });
  const json = compilerFor({ coerceTypes: false });
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return json.compile(schema as object);
    return withPlainNumbers(text.compile(schema as object), numericFields(schema as SchemaNode));
  };
}

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
}

type NumberKind = 'integer' | 'number';

const PLAIN: Record<NumberKind, RegExp> = { integer: /^-?\d+$/, number: /^-?\d+(\.\d+)?$/ };

/** The top-level properties whose values must be numbers (or arrays of them), with their kind. */
function numericFields(schema: SchemaNode): [string, NumberKind][] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, prop]): [string, NumberKind][] => {
    const kind = numberKind(prop.type === 'array' && prop.items ? prop.items : prop);
    return kind ? [[name, kind]] : [];
  });
}

/** 'integer' or 'number' when every alternative of the schema is one (a string alternative may hold any text). */
function numberKind(schema: SchemaNode): NumberKind | undefined {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const kinds = alternatives.map(numberKind);
    if (kinds.some((k) => k === undefined)) return undefined;
    return kinds.includes('number') ? 'number' : 'integer';
  }
  return schema.type === 'integer' || schema.type === 'number' ? schema.type : undefined;
}

type Validator = ((data: unknown) => boolean) & { errors?: FastifyValidationResult['errors'] };

function withPlainNumbers(validate: Validator, fields: [string, NumberKind][]): Validator {
  if (fields.length === 0) return validate;
  const checked: Validator = (data) => {
    const record = (data ?? {}) as Record<string, unknown>;
    for (const [name, kind] of fields) {
      const value = record[name];
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v === 'string' && !PLAIN[kind].test(v)) {
          checked.errors = [
            {
              instancePath: `/${name}`,
              schemaPath: `#/properties/${name}/type`,
              keyword: 'type',
              params: { type: kind },
              message:
                kind === 'integer' ? 'must be a whole number in decimal digits' : 'must be a decimal number',
            },
          ];
          return false;
        }
      }
    }
    const ok = validate(data);
    checked.errors = validate.errors ?? null;
    return ok;
  };
  return checked;
}
