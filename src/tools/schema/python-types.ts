import { ToolSchemaError } from './errors.js';
import type { PyClass, PyExpr, PyModule, Written } from './python-ast.js';

/**
 * Type annotations, read statically, mapped to JSON schema the way Letta's `type_to_json_schema_type` and its
 * pydantic path (`pydantic_model_to_json_schema` over `model_json_schema()`) map the real types.
 */
export type PyType =
  | { t: 'primitive'; json: 'string' | 'integer' | 'boolean' | 'number' }
  | { t: 'list'; item: PyType | null }
  | { t: 'dict'; parameterized: boolean }
  | { t: 'optional'; inner: PyType }
  | { t: 'union' }
  | { t: 'literal'; values: unknown[] }
  | { t: 'tuple'; items: PyType[] | 'variadic' }
  | { t: 'none' }
  | { t: 'model'; cls: PyClass }
  | { t: 'enum'; values: unknown[] }
  | { t: 'unknown' };

export type JsonSchema = Record<string, unknown>;

const PRIMITIVES: Record<string, 'string' | 'integer' | 'boolean' | 'number'> = {
  str: 'string',
  int: 'integer',
  bool: 'boolean',
  float: 'number',
};
const ENUM_BASES = new Set(['Enum', 'StrEnum', 'IntEnum']);

/** Where an annotation sits, for the message of an error about it. */
export interface Site {
  line: number;
  argument: string;
  /** "parameter 'x'" or "field 'x' of model 'M'". */
  label: string;
}

export class TypeReader {
  private readonly models = new Map<string, PyClass>();
  private readonly enums = new Map<string, PyClass>();

  constructor(module: PyModule) {
    for (const cls of module.classes) {
      if (cls.bases.some((b) => baseName(b) === 'BaseModel')) this.models.set(cls.name, cls);
      else if (cls.bases.some((b) => ENUM_BASES.has(baseName(b) ?? ''))) this.enums.set(cls.name, cls);
    }
  }

  read(annotation: Written<PyExpr>): PyType {
    return this.resolve(annotation.node);
  }

  private resolve(node: PyExpr): PyType {
    if (node.k === 'const' && node.kind === 'none') return { t: 'none' };
    if (node.k === 'binop' && node.op === '|') return this.union([...flattenPipes(node)]);
    const name = typeName(node);
    if (name !== null) return this.named(name);
    if (node.k !== 'sub') return { t: 'unknown' };
    const origin = typeName(node.value);
    const args = node.slice.k === 'tuple' ? node.slice.elts : [node.slice];
    switch (origin) {
      case 'Optional':
        return args.length === 1 ? { t: 'optional', inner: this.resolve(args[0] as PyExpr) } : { t: 'unknown' };
      case 'Union':
        return this.union(args);
      case 'List':
      case 'list':
        return args.length === 1 ? { t: 'list', item: this.resolve(args[0] as PyExpr) } : { t: 'unknown' };
      case 'Dict':
      case 'dict':
        return { t: 'dict', parameterized: true };
      case 'Literal': {
        const values = args.map((a) => (a.k === 'const' && a.kind !== 'ellipsis' ? a.value : undefined));
        return values.includes(undefined) ? { t: 'unknown' } : { t: 'literal', values };
      }
      case 'Tuple':
      case 'tuple': {
        const last = args[args.length - 1];
        if (args.length === 2 && last?.k === 'const' && last.kind === 'ellipsis')
          return { t: 'tuple', items: 'variadic' };
        return { t: 'tuple', items: args.map((a) => this.resolve(a)) };
      }
      default:
        return { t: 'unknown' };
    }
  }

  private named(name: string): PyType {
    const primitive = PRIMITIVES[name];
    if (primitive) return { t: 'primitive', json: primitive };
    if (name === 'list' || name === 'List') return { t: 'list', item: null };
    if (name === 'dict' || name === 'Dict') return { t: 'dict', parameterized: false };
    if (name === 'None') return { t: 'none' };
    const model = this.models.get(name);
    if (model) return { t: 'model', cls: model };
    const enumClass = this.enums.get(name);
    if (enumClass) {
      const values = enumClass.assignments.map((a) => (a.value.node.k === 'const' ? a.value.node.value : undefined));
      if (!values.includes(undefined)) return { t: 'enum', values };
    }
    return { t: 'unknown' };
  }

  private union(members: PyExpr[]): PyType {
    const types = members.map((m) => this.resolve(m));
    const others = types.filter((t) => t.t !== 'none');
    if (others.length === types.length) return { t: 'union' };
    return others.length === 1 ? { t: 'optional', inner: others[0] as PyType } : { t: 'union' };
  }

  /** `type_to_json_schema_type`. */
  toJsonSchema(type: PyType, site: Site, written: string): JsonSchema {
    switch (type.t) {
      case 'optional':
        return this.toJsonSchema(type.inner, site, written);
      case 'union':
        throw unsupported(site, written, 'general Union types are not supported');
      case 'list':
        if (type.item === null) return { type: 'array', items: { type: 'string' } };
        return { type: 'array', items: this.toJsonSchema(type.item, site, written) };
      case 'literal':
        return { type: 'string', enum: type.values };
      case 'enum':
        return { type: 'string', enum: type.values };
      case 'tuple':
        if (type.items === 'variadic') {
          throw unsupported(site, written, 'variable-length tuples (Tuple[X, ...]) are not supported');
        }
        if (type.items.length === 0) throw unsupported(site, written, 'a tuple type needs at least one element');
        return {
          type: 'array',
          prefixItems: type.items.map((item) => this.toJsonSchema(item, site, written)),
          minItems: type.items.length,
          maxItems: type.items.length,
        };
      case 'dict':
        if (type.parameterized) {
          throw unsupported(
            site,
            written,
            'dictionary types with type arguments are not supported (use a Pydantic model, or a bare dict)',
          );
        }
        return { type: 'object' };
      case 'model':
        return this.modelSchema(type.cls);
      case 'primitive':
        return { type: type.json };
      case 'none':
        return { type: 'null' };
      case 'unknown':
        throw unsupported(site, written, 'it has no corresponding JSON schema type');
    }
  }

  /** `pydantic_model_to_json_schema`: the model's fields as an object, each with its `Field(description=…)`. */
  modelSchema(cls: PyClass, seen: string[] = []): JsonSchema {
    if (seen.includes(cls.name)) {
      throw new ToolSchemaError('invalid_model', `model '${cls.name}' refers to itself`, cls.line, cls.name);
    }
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const field of cls.fields) {
      const site: Site = {
        line: field.line,
        argument: field.name,
        label: `field '${field.name}' of model '${cls.name}'`,
      };
      const { description, hasDefault } = readField(field.value);
      if (description === null) {
        throw new ToolSchemaError(
          'missing_description',
          `${site.label} has no description (give it Field(..., description="…"))`,
          field.line,
          field.name,
        );
      }
      properties[field.name] = this.fieldSchema(this.read(field.annotation), site, field.annotation.text, description, [
        ...seen,
        cls.name,
      ]);
      if (!hasDefault) required.push(field.name);
    }
    return { type: 'object', properties, required };
  }

  /** One model field after Letta's `clean_property`: only the type survives, plus the description. */
  private fieldSchema(type: PyType, site: Site, written: string, description: string, seen: string[]): JsonSchema {
    const inner = type.t === 'optional' ? type.inner : type;
    switch (inner.t) {
      case 'model':
        return { ...this.modelSchema(inner.cls, seen), description };
      case 'list': {
        const item = inner.item;
        const items =
          item === null
            ? { type: 'string' }
            : item.t === 'model'
              ? this.modelSchema(item.cls, seen)
              : { type: String(this.toJsonSchema(item, site, written).type) };
        return { type: 'array', items, description };
      }
      case 'literal':
      case 'enum':
        return { type: typeof inner.values[0] === 'number' ? 'integer' : 'string', description };
      case 'dict':
        return { type: 'object', description };
      default:
        return { type: this.toJsonSchema(inner, site, written).type, description };
    }
  }
}

/** `Field(..., description=…)`, `Field(default, …)`, or a plain literal default. */
function readField(value: Written<PyExpr> | null): { description: string | null; hasDefault: boolean } {
  if (!value) return { description: null, hasDefault: false };
  const node = value.node;
  if (node.k === 'call' && typeName(node.func) === 'Field') {
    const described = node.keywords.find((k) => k.name === 'description')?.value;
    const description = described?.k === 'const' && described.kind === 'str' ? String(described.value) : null;
    const first = node.args[0];
    const positionalDefault =
      first !== undefined && isLiteral(first) && !(first.k === 'const' && first.kind === 'ellipsis');
    const keywordDefault = node.keywords.some((k) => k.name === 'default' || k.name === 'default_factory');
    return { description, hasDefault: positionalDefault || keywordDefault };
  }
  return { description: null, hasDefault: isLiteral(node) };
}

/** What `ast.literal_eval` accepts. */
export function isLiteral(node: PyExpr): boolean {
  switch (node.k) {
    case 'const':
      return true;
    case 'tuple':
    case 'list':
    case 'set':
      return node.elts.every(isLiteral);
    case 'dict':
      return node.keys.every(isLiteral) && node.values.every(isLiteral);
    case 'unary':
      return (node.op === '-' || node.op === '+') && node.operand.k === 'const' && isNumeric(node.operand);
    case 'binop':
      return (
        (node.op === '+' || node.op === '-') &&
        node.right.k === 'const' &&
        node.right.kind === 'complex' &&
        (isNumeric(node.left) || (node.left.k === 'unary' && isLiteral(node.left)))
      );
    case 'call':
      return typeName(node.func) === 'set' && node.args.length === 0 && node.keywords.length === 0;
    default:
      return false;
  }
}

function isNumeric(node: PyExpr): boolean {
  return node.k === 'const' && (node.kind === 'int' || node.kind === 'float' || node.kind === 'complex');
}

/** `X` or `typing.X` / `pydantic.X`: the name a type is known by. */
function typeName(node: PyExpr): string | null {
  if (node.k === 'name') return node.id;
  if (
    node.k === 'attr' &&
    node.value.k === 'name' &&
    ['typing', 'pydantic', 'enum', 'typing_extensions'].includes(node.value.id)
  ) {
    return node.attr;
  }
  return null;
}

function baseName(node: PyExpr): string | null {
  return typeName(node);
}

function* flattenPipes(node: PyExpr): Generator<PyExpr> {
  if (node.k === 'binop' && node.op === '|') {
    yield* flattenPipes(node.left);
    yield* flattenPipes(node.right);
  } else yield node;
}

function unsupported(site: Site, written: string, why: string): ToolSchemaError {
  return new ToolSchemaError(
    'unsupported_type',
    `${site.label} has type '${written}': ${why}`,
    site.line,
    site.argument,
  );
}
