import fc from 'fast-check';

/**
 * Schema-guided request generation for the fuzz campaign: every operation of an OpenAPI document becomes an
 * arbitrary of HTTP requests whose parameters and bodies mostly follow the schema (so requests reach the handlers
 * behind validation) and are often bent out of it (wrong types, huge and odd strings, traversal in ids, broken JSON,
 * oversized bodies), so both the validation layer and the code behind it see hostile input.
 */

type Schema = Record<string, unknown>;
type Doc = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface FuzzRequest {
  method: string;
  /** The route as the document writes it, for the report. */
  route: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Ids a request may name: real ones of each kind, so some requests reach existing objects. */
export type KnownIds = Record<string, string[]>;

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** A path segment; a lone surrogate, which no URL can carry, is sent as the invalid UTF-8 bytes it would be. */
function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value
      .replace(/[\ud800-\udfff]/g, '\u0000')
      .split('\u0000')
      .map(encodeURIComponent)
      .join('%ED%A0%80');
  }
}

/** Query values as text: objects (some without a prototype) as JSON. */
const asText = (value: unknown): string =>
  value !== null && typeof value === 'object' ? (JSON.stringify(value) ?? '') : String(value);

const hostileStrings = fc.constantFrom(
  '',
  ' ',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '%00',
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  'e\u0301\u200d\u202e',
  '🧠'.repeat(50),
  "' OR 1=1 --",
  '"; DROP TABLE agents; --',
  '${{7*7}}',
  '<script>alert(1)</script>',
  'NaN',
  '1e309',
  '-1',
  '9223372036854775808',
  'null',
  'true',
  '[]',
  '{}',
  'agent-',
  'agent-00000000-0000-0000-0000-000000000000',
);

const hugeString = fc.constantFrom(100_000, 1_000_000).map((n) => 'x'.repeat(n));

/** A value of any JSON type, including the extremes. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileStrings,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 53, -(2 ** 53), 1e308, -1e308, 0.5),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

const rare = <T>(weight: number, arb: fc.Arbitrary<T>) => ({ weight, arbitrary: arb });

/** A deeply nested body, to check that no parser or walker recurses without bound. */
const deepBody = fc
  .tuple(fc.integer({ min: 200, max: 100_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"n":'.repeat(depth) + '1' + '}'.repeat(depth),
  )
  .map((text) => ({ headers: { 'content-type': 'application/json' }, body: text }));

let oversized: { headers: Record<string, string>; body: string } | undefined;
/** Just over Cairn's default 10 MiB body limit; built once, it is 11 MB. */
const oversizedBody = () =>
  (oversized ??= {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: 'x'.repeat(11 * 1024 * 1024) }),
  });

export class RequestFuzzer {
  private readonly schemas: Record<string, Schema>;
  /** Schemas recur (through `$ref`) all over the document; each is turned into an arbitrary once per depth. */
  private readonly built = new WeakMap<Schema, fc.Arbitrary<unknown>[]>();

  constructor(
    private readonly doc: Doc,
    private readonly ids: KnownIds,
  ) {
    this.schemas = doc.components?.schemas ?? {};
  }

  /** One arbitrary request over every operation of the document, each operation equally likely. */
  requests(): fc.Arbitrary<FuzzRequest> {
    const operations = Object.entries(this.doc.paths).flatMap(([route, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.has(method))
        .map(([method, operation]) => ({ route, method: method.toUpperCase(), operation })),
    );
    // Built on first use: the document has hundreds of operations and most bodies nest several schemas deep.
    const built = new Map<number, fc.Arbitrary<FuzzRequest>>();
    return fc.nat({ max: operations.length - 1 }).chain((i) => {
      let request = built.get(i);
      if (!request) {
        const { route, method, operation } = operations[i]!;
        request = this.request(route, method, operation);
        built.set(i, request);
      }
      return request;
    });
  }

  private request(route: string, method: string, operation: Operation): fc.Arbitrary<FuzzRequest> {
    const params = operation.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path');
    const queryParams = params.filter((p) => p.in === 'query');
    const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
    const multipart = operation.requestBody?.content?.['multipart/form-data'] !== undefined;
    return fc
      .record({
        path: fc.tuple(...pathParams.map((p) => this.pathValue(p))),
        query: fc.tuple(...queryParams.map((p) => fc.option(this.queryValue(p), { freq: 2 }))),
        body: this.body(bodySchema, multipart),
        slash: fc.boolean(),
      })
      .map(({ path, query, body, slash }) => {
        let url = route;
        pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodeSegment(path[i]!))));
        if (slash && !url.endsWith('/')) url += '/';
        const search = new URLSearchParams();
        queryParams.forEach((p, i) => {
          const value = query[i];
          if (value === null || value === undefined) return;
          for (const v of Array.isArray(value) ? value : [value]) search.append(p.name, asText(v));
        });
        const qs = search.toString();
        return { method, route, path: qs ? `${url}?${qs}` : url, ...body };
      });
  }

  private pathValue(param: Parameter): fc.Arbitrary<string> {
    const kind = param.name.replace(/_id$/, '');
    const known = this.ids[kind] ?? [];
    return fc.oneof(
      ...(known.length ? [{ weight: 6, arbitrary: fc.constantFrom(...known) }] : []),
      rare(
        2,
        fc.string({ maxLength: 12 }).map((s) => `${kind}-${s}`),
      ),
      rare(
        2,
        hostileStrings.filter((s) => s !== ''),
      ),
      rare(1, fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })),
      rare(
        1,
        fc.constantFrom(2_000, 20_000).map((n) => 'a'.repeat(n)),
      ),
    );
  }

  private queryValue(param: Parameter): fc.Arbitrary<unknown> {
    return fc.oneof(
      rare(5, this.value(param.schema ?? {}, 0)),
      rare(2, hostileStrings),
      rare(1, fc.constantFrom(-1, 0, 1_000_000, 2 ** 31)),
      rare(
        1,
        fc.constantFrom(5_000, 50_000).map((n) => 'q'.repeat(n)),
      ),
    );
  }

  private body(
    schema: Schema | undefined,
    multipart: boolean,
  ): fc.Arbitrary<{ headers: Record<string, string>; body?: string | Buffer }> {
    const json = (value: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
    const broken = fc
      .constantFrom('{', '{"a":', '[1,2', '{"a":1}}', 'nul', '\u0000', '{"__proto__":{"x":1}}', '"\\ud800"')
      .map((text) => ({ headers: { 'content-type': 'application/json' }, body: text }));
    const wrongType = fc.constantFrom(
      { headers: { 'content-type': 'text/plain' }, body: 'hello' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' },
      { headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nbroken' },
      { headers: { 'content-type': 'application/json; charset=utf-16' }, body: '{}' },
    );
    const none = fc.constant({ headers: {} });
    return fc.oneof(
      rare(schema ? 12 : 2, schema ? this.value(schema, 0).map(json) : none),
      rare(2, anyValue.map(json)),
      rare(1, deepBody),
      rare(1, broken),
      rare(multipart ? 3 : 1, wrongType),
      rare(1, none),
      // Rare: each one is 11 MB on the wire.
      {
        weight: 1,
        arbitrary: fc.integer({ min: 0, max: 19 }).chain((n) => (n === 0 ? fc.constant(oversizedBody()) : none)),
      },
    );
  }

  /** Values that follow `schema`, with a chance at every node of something else entirely. */
  private value(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    const faithful = this.faithful(schema, depth);
    // A huge string is rare per node, or nearly every body would carry one and the campaign would test only that.
    return fc.oneof(rare(90, faithful), rare(10, anyValue), rare(depth === 0 ? 0 : 1, hugeString));
  }

  private faithful(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    if (depth > 6) return fc.constant(null);
    const cached = this.built.get(schema)?.[depth];
    if (cached) return cached;
    const arbitrary = this.build(schema, depth);
    const byDepth = this.built.get(schema) ?? [];
    byDepth[depth] = arbitrary;
    this.built.set(schema, byDepth);
    return arbitrary;
  }

  private build(schema: Schema, depth: number): fc.Arbitrary<unknown> {
    const ref = schema.$ref as string | undefined;
    if (ref) {
      const target = this.schemas[ref.split('/').pop()!];
      return target ? this.faithful(target, depth + 1) : anyValue;
    }
    const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (alternatives?.length) return fc.oneof(...alternatives.map((s) => this.faithful(s, depth + 1)));
    if (Array.isArray(schema.allOf) && schema.allOf.length) return this.faithful(schema.allOf[0] as Schema, depth + 1);
    if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...(schema.enum as unknown[]));
    if ('const' in schema) return fc.constant(schema.const);
    const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : (schema.type as string | undefined);
    switch (type) {
      case 'string':
        if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
        return fc.oneof(
          fc.string({ maxLength: Math.min(Number(schema.maxLength ?? 40), 40) }),
          rare(1, fc.string({ unit: 'grapheme', maxLength: 20 })),
        );
      case 'integer':
        return fc.integer({
          min: Number(schema.minimum ?? -1_000),
          max: Math.min(Number(schema.maximum ?? 1_000_000), 2 ** 31),
        });
      case 'number':
        return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array':
        return fc.array(this.value((schema.items as Schema) ?? {}, depth + 1), { maxLength: 4 });
      case 'object':
      case undefined: {
        const properties = (schema.properties ?? {}) as Record<string, Schema>;
        const names = Object.keys(properties);
        if (!names.length) return type === 'object' ? fc.dictionary(fc.string({ maxLength: 8 }), anyValue) : anyValue;
        const required = new Set((schema.required as string[] | undefined) ?? []);
        const model = Object.fromEntries(names.map((n) => [n, this.value(properties[n]!, depth + 1)]));
        return fc.record(model, { requiredKeys: names.filter((n) => required.has(n)) });
      }
      default:
        return anyValue;
    }
  }
}
