import { z } from 'zod';
import { idPattern, type IdPrefix } from '../lib/ids.js';

/** A path or body id of one primitive type; anything else is a 422, as in Letta. */
export const idOf = (prefix: IdPrefix) =>
  z.string().regex(idPattern(prefix), { message: `Invalid ${prefix} id format; expected '${prefix}-<uuid4>'` });

/** A query parameter that may repeat (`tags=a&tags=b`); a single occurrence arrives as a plain string. */
export const queryArray = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) => (value === undefined || value === '' ? undefined : Array.isArray(value) ? value : [value]),
    z.array(item).optional(),
  );

/**
 * Query booleans arrive as the strings `true` / `false`. The fallback is a zod default (not a preprocess
 * result) so that the OpenAPI document shows the parameter as optional with its default.
 */
export const queryBool = (fallback: boolean) =>
  z.preprocess((value) => {
    if (value === '') return undefined;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return value;
  }, z.boolean().default(fallback));

export const queryOptionalBool = () =>
  z.preprocess((value) => {
    if (value === undefined || value === '') return undefined;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return value;
  }, z.boolean().optional());

const toNumber = (value: unknown) =>
  value === undefined || value === '' ? undefined : typeof value === 'string' ? Number(value) : value;
const intBetween = (options: { min?: number; max?: number }) =>
  z
    .number()
    .int()
    .min(options.min ?? Number.MIN_SAFE_INTEGER)
    .max(options.max ?? Number.MAX_SAFE_INTEGER);

export const queryInt = (options: { min?: number; max?: number } = {}) =>
  z.preprocess(toNumber, intBetween(options).optional());

/** A page size; its default is a zod default so that the OpenAPI document shows it. */
export const queryLimit = (defaultLimit: number) =>
  z.preprocess(toNumber, intBetween({ min: 1, max: 10_000 }).default(defaultLimit));

export const queryString = () => z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

export const orderSchema = z.enum(['asc', 'desc']);

/** The `before`/`after`/`limit`/`order` cursor parameters shared by paged lists. */
export const pageQuery = (defaultLimit: number) =>
  z.object({
    before: queryString(),
    after: queryString(),
    limit: queryLimit(defaultLimit),
    order: z.preprocess((v) => (v === '' ? undefined : v), orderSchema.optional()),
  });

export type PageQuery = {
  before?: string | undefined;
  after?: string | undefined;
  limit: number;
  order?: 'asc' | 'desc' | undefined;
};

export const jsonObject = z.record(z.string(), z.unknown());

/** Nullable-and-optional, the shape of most optional Letta fields. */
export const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

export const detailSchema = z.object({ detail: z.unknown() }).meta({ id: 'ErrorDetail' });
