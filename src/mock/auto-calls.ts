/**
 * Tool calls the simulator makes on its own when the client declares tools and no `rules` are set:
 * on user turn N it calls the ((N − 1) mod count)-th declared tool (round-robin), with arguments made
 * up from that tool's JSON Schema. Deterministic: the same schema always gives the same arguments.
 */
import type { Tool } from '../protocol.js';

type Schema = Record<string, unknown>;

/** The one call for completed user turn `turn` (1-based), or none when no tool is declared. */
export function autoCallForTurn(tools: readonly Tool[], turn: number): { name: string; arguments: string }[] {
  if (tools.length === 0) return [];
  const tool = tools[(turn - 1) % tools.length]!;
  const args = exampleFor(tool.parameters ?? { type: 'object', properties: {} }, 'value', 0);
  return [{ name: tool.name, arguments: JSON.stringify(isRecord(args) ? args : {}) }];
}

/** A value that satisfies the common JSON Schema keywords (type, enum, const, default, examples, bounds, formats). */
export function exampleFor(schema: unknown, key: string, depth: number): unknown {
  if (!isRecord(schema) || depth > 8) return null;
  if ('const' in schema) return schema.const;
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const options = schema[keyword];
    if (Array.isArray(options) && options.length) return exampleFor(firstNonNull(options), key, depth + 1);
  }
  if (Array.isArray(schema.allOf)) return exampleFor(Object.assign({}, ...schema.allOf.filter(isRecord)), key, depth + 1);
  switch (typeOf(schema)) {
    case 'object':
      return objectExample(schema, depth);
    case 'array': {
      const count = Math.max(1, Number(schema.minItems ?? 1));
      return Array.from({ length: count }, () => exampleFor(schema.items ?? { type: 'string' }, key, depth + 1));
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

function objectExample(schema: Schema, depth: number): Record<string, unknown> {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  return Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, exampleFor(property, name, depth + 1)]));
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
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  if (format) return format;
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
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
