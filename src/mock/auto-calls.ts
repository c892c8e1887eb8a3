/**
 * Tool calls the simulator makes on its own when the client declares tools and no `rules` are set:
 * on user turn N it calls the ((N − 1) mod count)-th declared tool (round-robin), with arguments made
 * up from that tool's JSON Schema. Deterministic: the same schema always gives the same arguments.
 * Bounded whatever the schema says (a client's `minItems: 1e10` or `minLength: 1e9` must not take the
 * simulator down): arrays get at most MAX_ITEMS items, strings at most MAX_STRING characters, and one
 * call at most MAX_VALUES values; past the budget a value is null (the client's check then answers an
 * error output, a round trip all the same). Only a schema's own keys count (`__proto__` is a key).
 */
import type { Tool } from '../protocol.js';

type Schema = Record<string, unknown>;

const MAX_ITEMS = 8;
const MAX_STRING = 256;
const MAX_VALUES = 1000;
/** Values still allowed in the arguments being made. */
type Budget = { left: number };

/** The one call for completed user turn `turn` (1-based), or none when no tool is declared. */
export function autoCallForTurn(tools: readonly Tool[], turn: number): { name: string; arguments: string }[] {
  if (tools.length === 0) return [];
  const tool = tools[(turn - 1) % tools.length]!;
  const args = exampleFor(tool.parameters ?? { type: 'object', properties: {} }, 'value', 0, { left: MAX_VALUES });
  return [{ name: tool.name, arguments: JSON.stringify(isRecord(args) ? args : {}) }];
}

/** A value that satisfies the common JSON Schema keywords (type, enum, const, default, examples, bounds, formats). */
export function exampleFor(schema: unknown, key: string, depth: number, budget: Budget = { left: MAX_VALUES }): unknown {
  if (!isRecord(schema) || depth > 8 || budget.left <= 0) return null;
  budget.left--;
  const own = (keyword: string): unknown => (Object.hasOwn(schema, keyword) ? schema[keyword] : undefined);
  if (Object.hasOwn(schema, 'const')) return schema.const;
  if (Object.hasOwn(schema, 'default')) return schema.default;
  const examples = own('examples');
  if (Array.isArray(examples) && examples.length) return examples[0];
  const choices = own('enum');
  if (Array.isArray(choices) && choices.length) return choices[0];
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const options = own(keyword);
    if (Array.isArray(options) && options.length) return exampleFor(firstNonNull(options), key, depth + 1, budget);
  }
  const parts = own('allOf');
  if (Array.isArray(parts)) return exampleFor(merged(parts.filter(isRecord)), key, depth + 1, budget);
  switch (typeOf(schema)) {
    case 'object':
      return objectExample(schema, depth, budget);
    case 'array': {
      const wanted = Number(own('minItems') ?? 1);
      const count = Number.isFinite(wanted) ? Math.min(MAX_ITEMS, Math.max(1, Math.floor(wanted))) : 1;
      return Array.from({ length: count }, () => exampleFor(own('items') ?? { type: 'string' }, key, depth + 1, budget));
    }
    case 'integer':
      return Math.ceil(numberExample(schema));
    case 'number':
      return numberExample(schema);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return stringExample(schema, key);
  }
}

function objectExample(schema: Schema, depth: number, budget: Budget): Record<string, unknown> {
  const properties = Object.hasOwn(schema, 'properties') && isRecord(schema.properties) ? schema.properties : {};
  return Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, exampleFor(property, name, depth + 1, budget)]));
}

/** allOf parts merged key by key into a prototype-less object: a part's `__proto__` key stays a key. */
function merged(parts: Schema[]): Schema {
  const out: Schema = Object.create(null) as Schema;
  for (const part of parts) for (const [key, value] of Object.entries(part)) out[key] = value;
  return out;
}

function numberExample(schema: Schema): number {
  const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
  const low = num(schema.minimum) ?? (num(schema.exclusiveMinimum) !== undefined ? num(schema.exclusiveMinimum)! + 1 : undefined);
  const high = num(schema.maximum) ?? (num(schema.exclusiveMaximum) !== undefined ? num(schema.exclusiveMaximum)! - 1 : undefined);
  if (low !== undefined) return low;
  if (high !== undefined) return Math.min(1, high);
  return 1;
}

const FORMATS: Record<string, string> = {
  date: '2026-05-23',
  'date-time': '2026-05-23T12:00:00Z',
  time: '12:00:00',
  email: 'user@example.com',
  uri: 'https://example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
};

function stringExample(schema: Schema, key: string): string {
  const format = typeof schema.format === 'string' && Object.hasOwn(FORMATS, schema.format) ? FORMATS[schema.format] : undefined;
  if (format) return format;
  const minLength = typeof schema.minLength === 'number' && schema.minLength > 0 ? Math.min(MAX_STRING, schema.minLength) : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  return `example ${key}`.padEnd(minLength, 'x').slice(0, maxLength);
}

function typeOf(schema: Schema): string {
  const type = Array.isArray(schema.type) ? schema.type.find((entry) => entry !== 'null') : schema.type;
  if (typeof type === 'string') return type;
  return isRecord(schema.properties) ? 'object' : schema.items !== undefined ? 'array' : 'string';
}

function firstNonNull(options: unknown[]): unknown {
  return options.find((option) => !(isRecord(option) && option.type === 'null')) ?? options[0];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
