import { parseDocstring, type ParsedDocstring } from './docstring.js';
import { ToolSchemaError } from './errors.js';
import { parseModule, type PyFunction, type PyModule } from './python-ast.js';
import { cleandoc, splitLines, strip } from './python-text.js';
import { isLiteral, TypeReader, type JsonSchema } from './python-types.js';

export { ToolSchemaError, type ToolSchemaErrorKind } from './errors.js';

/** Letta's OpenAI-function shape, as stored in `Tool.json_schema`. */
export interface ToolJsonSchema {
  name: string;
  description: string;
  parameters: { type: 'object'; properties: Record<string, JsonSchema>; required: string[] };
  [key: string]: unknown;
}

export interface DeriveToolSchemaInput {
  sourceCode: string;
  /** `python` (the default, also for null), `typescript` or `javascript`. */
  sourceType?: string | null;
  /** An explicit schema wins over the source, as in Letta (`generate_schema_for_tool_creation`). */
  jsonSchema?: Record<string, unknown> | null;
  argsJsonSchema?: Record<string, unknown> | null;
}

export interface DerivedToolSchema {
  name: string;
  /** What Letta stores as `Tool.description` when the request gives none: the schema's description. */
  description: string | null;
  jsonSchema: Record<string, unknown>;
}

/** Parameters the server injects; they never appear in the schema. */
const RESERVED_PARAMETERS = new Set(['self', 'agent_state']);

/**
 * Derives a tool's name, description and JSON schema the way Letta does on `POST /v1/tools`, from a static read of the
 * source (never executed). Throws `ToolSchemaError`, whose kinds the HTTP layer maps to a 4xx.
 */
export function deriveToolSchema(input: DeriveToolSchemaInput): DerivedToolSchema {
  if (input.jsonSchema) return fromExplicitSchema(input.jsonSchema);
  const sourceType = input.sourceType ?? 'python';
  if (sourceType === 'typescript' || sourceType === 'javascript') {
    throw new ToolSchemaError(
      'schema_required',
      `${sourceType === 'typescript' ? 'TypeScript' : 'JavaScript'} tools require an explicit json_schema parameter. ` +
        'Unlike Python tools, schema cannot be auto-generated from TypeScript source code.',
    );
  }
  if (sourceType !== 'python') throw new ToolSchemaError('invalid_schema', `Unknown tool source type: ${sourceType}`);
  const module = parseModule(input.sourceCode);
  const fn = toolFunction(module);
  const schema = input.argsJsonSchema ? fromArgsJsonSchema(fn, input.argsJsonSchema) : fromSignature(module, fn);
  return { name: schema.name, description: schema.description, jsonSchema: schema };
}

/** The tool is the last top-level `def` of the source (Letta: `test_add_tool_with_multiple_functions_in_source_code`). */
export function toolFunction(module: PyModule): PyFunction {
  const fn = module.functions.at(-1);
  if (!fn) throw new ToolSchemaError('no_function', 'no function definition found in the source code');
  return fn;
}

function fromExplicitSchema(jsonSchema: Record<string, unknown>): DerivedToolSchema {
  const name = jsonSchema.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new ToolSchemaError('invalid_schema', "json_schema must have a non-empty string 'name'");
  }
  const description = typeof jsonSchema.description === 'string' ? jsonSchema.description : null;
  return { name, description, jsonSchema };
}

/** `generate_schema`: one property per parameter, typed from its annotation and described by the docstring. */
function fromSignature(module: PyModule, fn: PyFunction): ToolJsonSchema {
  if (!fn.docstring) {
    throw new ToolSchemaError('no_docstring', `function '${fn.name}' has no docstring`, fn.line, null);
  }
  const docstring = parseDocstringAt(fn);
  const types = new TypeReader(module);
  const schema: ToolJsonSchema = {
    name: fn.name,
    description: composeDescription(docstring, fn.docstring),
    parameters: { type: 'object', properties: {}, required: [] },
  };
  // Letta reads `node.args.args` only: positional-only, *args, keyword-only and **kwargs never reach the schema.
  for (const param of fn.params.filter((p) => p.kind === 'positional_or_keyword')) {
    if (RESERVED_PARAMETERS.has(param.name)) continue;
    const site = { line: param.line, argument: param.name, label: `parameter '${param.name}'` };
    if (!param.annotation) {
      throw new ToolSchemaError('missing_annotation', `${site.label} has no type annotation`, param.line, param.name);
    }
    const description = docstring.params.find((p) => p.name === param.name)?.description;
    if (!description) {
      throw new ToolSchemaError(
        'missing_description',
        `${site.label} has no description in the docstring`,
        param.line,
        param.name,
      );
    }
    const type = types.read(param.annotation);
    const property =
      type.t === 'model' ? types.modelSchema(type.cls) : types.toJsonSchema(type, site, param.annotation.text);
    property.description = description;
    schema.parameters.properties[param.name] = property;
    // A default that is not a literal is lost to the static read, so the parameter counts as required, as in Letta.
    const hasDefault = param.default !== null && isLiteral(param.default.node);
    if (!hasDefault && type.t !== 'optional') schema.parameters.required.push(param.name);
  }
  return schema;
}

function parseDocstringAt(fn: PyFunction): ParsedDocstring {
  try {
    return parseDocstring(fn.docstring ?? '');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ToolSchemaError('no_docstring', `the docstring of '${fn.name}' could not be parsed: ${why}`, fn.line);
  }
}

/** Short + long description, then the `Examples:` section if the description does not already hold one (§8.1). */
function composeDescription(docstring: ParsedDocstring, raw: string): string {
  const { shortDescription: short, longDescription: long } = docstring;
  let description = short && long ? `${short}\n\n${long}` : (short ?? long ?? 'No description available');
  const examples = examplesSection(raw);
  if (examples && !description.includes('Examples:')) description = `${description}\n\n${examples}`;
  return description;
}

/** `extract_examples_section`: from an `Examples:` line to the next unindented `Title:` line, on the raw docstring. */
function examplesSection(raw: string): string | null {
  if (!raw.includes('Examples:')) return null;
  const lines: string[] = [];
  let inside = false;
  for (const line of splitLines(strip(raw))) {
    const stripped = strip(line);
    if (!inside && stripped.startsWith('Examples:')) {
      inside = true;
      lines.push(line);
      continue;
    }
    if (inside) {
      if (stripped && !line.startsWith(' ') && stripped.endsWith(':')) break;
      lines.push(line);
    }
  }
  return lines.length > 0 ? strip(lines.join('\n')) || null : null;
}

const JSON_TYPES = new Set(['string', 'integer', 'number', 'boolean', 'array', 'object']);

/**
 * `generate_schema_from_args_schema_v2`: the arguments come from `args_json_schema`; the name from the function; the
 * description is the whole cleaned docstring (or "The {name} tool"), and no heartbeat is appended.
 */
function fromArgsJsonSchema(fn: PyFunction, argsJsonSchema: Record<string, unknown>): ToolJsonSchema {
  const declared = argsJsonSchema.properties;
  if (declared === undefined || declared === null || typeof declared !== 'object' || Array.isArray(declared)) {
    throw new ToolSchemaError('invalid_schema', "args_json_schema must be an object schema with 'properties'");
  }
  const requiredList = Array.isArray(argsJsonSchema.required) ? argsJsonSchema.required : [];
  const properties: Record<string, JsonSchema> = {};
  for (const [name, spec] of Object.entries(declared as Record<string, unknown>)) {
    const field = (spec ?? {}) as Record<string, unknown>;
    const type = typeof field.type === 'string' && JSON_TYPES.has(field.type) ? field.type : null;
    if (type === null) {
      throw new ToolSchemaError(
        'unsupported_type',
        `args_json_schema property '${name}' needs a 'type' of ${[...JSON_TYPES].join(', ')}`,
        null,
        name,
      );
    }
    const property: JsonSchema = { type };
    if (type === 'array') {
      const items = (field.items ?? {}) as Record<string, unknown>;
      property.items = { type: typeof items.type === 'string' ? items.type : 'string' };
    }
    property.description = typeof field.description === 'string' ? field.description : null;
    properties[name] = property;
  }
  const docstring = fn.docstring ? cleandoc(fn.docstring) : '';
  return {
    name: fn.name,
    description: docstring || `The ${fn.name} tool`,
    parameters: {
      type: 'object',
      properties,
      required: Object.keys(properties).filter((name) => requiredList.includes(name)),
    },
  };
}
