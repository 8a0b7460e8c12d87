import type { SwaggerTransformObject } from '@fastify/swagger';
import { COMPONENT } from './components.ts';

type Json = Record<string, unknown>;

/**
 * @fastify/swagger's `transformObject`: the generated document, last. Every schema route-transform.ts
 * marked with a component name is kept once under components.schemas and replaced by a `$ref` (innermost
 * first, so a page references its items' component).
 */
export const transformDocument: SwaggerTransformObject = (documentObject) => {
  if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
  const doc = documentObject.openapiObject as Json & { components?: Json; paths?: Json };
  const components = (doc.components ?? {}) as Json;
  const schemas: Json = { ...((components.schemas as Json | undefined) ?? {}) };
  const lift = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(lift);
    if (typeof node !== 'object' || node === null) return node;
    const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, lift(v)]));
    const name = copy[COMPONENT];
    if (typeof name !== 'string') return copy;
    delete copy[COMPONENT];
    schemas[name] ??= copy;
    return { $ref: `#/components/schemas/${name}` };
  };
  const paths = lift(doc.paths ?? {});
  return {
    ...doc,
    components: { ...components, schemas: sortedByKey(schemas) },
    paths,
  } as ReturnType<SwaggerTransformObject>;
};

function sortedByKey(object: Json): Json {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
