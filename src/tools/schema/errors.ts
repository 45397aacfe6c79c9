/** Why a tool's schema could not be derived; the HTTP layer maps every kind to a 4xx. */
export type ToolSchemaErrorKind =
  | 'syntax'
  | 'no_function'
  | 'no_docstring'
  | 'missing_annotation'
  | 'missing_description'
  | 'unsupported_type'
  | 'invalid_model'
  | 'schema_required'
  | 'invalid_schema';

/**
 * A typed failure of schema derivation. `line` is 1-based in the submitted source and `argument` names the parameter
 * (or model field) at fault, so the client is told where to look: "line 3: parameter 'x' has no description in the
 * docstring".
 */
export class ToolSchemaError extends Error {
  constructor(
    readonly kind: ToolSchemaErrorKind,
    readonly reason: string,
    readonly line: number | null = null,
    readonly argument: string | null = null,
  ) {
    super(line === null ? reason : `line ${line}: ${reason}`);
    this.name = 'ToolSchemaError';
  }
}
