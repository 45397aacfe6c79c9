import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

// CI and developers keep `shared/` beside the checkout; CAIRN_LETTA_OPENAPI points elsewhere when it is not.
const upstreamPath =
  process.env.CAIRN_LETTA_OPENAPI ?? fileURLToPath(new URL('../../../shared/letta-api/openapi.json', import.meta.url));

let ajv: Ajv2020 | undefined;

/** The upstream document itself, for tests that compare Cairn's wire types with its components. */
export function upstreamOpenapi(): { components: { schemas: Record<string, Record<string, unknown>> } } {
  return JSON.parse(readFileSync(upstreamPath, 'utf8')) as never;
}

function validator(): Ajv2020 {
  if (ajv) return ajv;
  // Upstream's document is the contract the SDKs were generated from; responses must satisfy its schemas.
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  if (!existsSync(upstreamPath)) {
    throw new Error(
      `Letta's OpenAPI document is not at ${upstreamPath}: keep shared/ beside the checkout (as CI does) or set CAIRN_LETTA_OPENAPI`,
    );
  }
  ajv.addSchema(JSON.parse(readFileSync(upstreamPath, 'utf8')), 'letta');
  return ajv;
}

/** Asserts that `value` matches the named schema of the upstream Letta OpenAPI document. */
export function expectLettaSchema(name: string, value: unknown): void {
  const validate = validator().getSchema(`letta#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name} in the upstream OpenAPI document`);
  const ok = validate(value);
  expect(ok ? [] : validate.errors, `response does not match Letta's ${name} schema`).toEqual([]);
}
