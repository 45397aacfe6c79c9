import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';
import { unprocessable, type ValidationIssue } from '../lib/errors.js';
import { oversizedArrays } from './request-limits.js';

/** Lets handlers see the parsed (output) types of the zod schemas a route declares. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

const httpPartLoc: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/**
 * Validation failures become FastAPI-shaped 422s naming the field (`loc`), which is what Letta's clients parse.
 * The parsed value replaces the raw one, so defaults and coercions reach the handler.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = httpPartLoc[httpPart ?? 'body'] ?? 'body';
  return (data: unknown) => {
    if (part === 'body') {
      const tooLong = oversizedArrays(data);
      if (tooLong.length) return { error: unprocessable(tooLong) };
    }
    const result = schema.safeParse(part === 'body' && data === undefined ? {} : data);
    if (result.success) return { value: result.data };
    const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
      type: issue.code,
      loc: [part, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      msg: issue.code === 'invalid_type' && issue.input === undefined ? 'Field required' : issue.message,
      ...(issue.input !== undefined && typeof issue.input !== 'object' ? { input: issue.input } : {}),
    }));
    return { error: unprocessable(issues) };
  };
};
