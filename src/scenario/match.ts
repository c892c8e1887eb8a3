/**
 * Tool-argument expectations, one rule (see schema.ts): an object with a top-level `$schema` key is
 * a JSON Schema checked with ajv (the `$schema` value itself is ignored, so any draft URL or `true`
 * works); any other object is a partial match — given keys must be present and equal, nested
 * objects partially, arrays and scalars exactly.
 */
import Ajv from 'ajv';
import { redact } from '../redact.js';
import type { ValidateFunction } from 'ajv';

type AjvInstance = { compile(schema: object): ValidateFunction; removeSchema(schema: object): unknown; errorsText(errors?: ValidateFunction['errors']): string };
const AjvCtor = ((Ajv as unknown as { default?: unknown }).default ?? Ajv) as new (options: object) => AjvInstance;
// As for tools (src/tools/schema.ts): own properties only, and each schema removed once compiled, so
// a recursive `$ref: "#"` resolves and two expectations may share an `$id`.
const ajv = new AjvCtor({ allErrors: false, strict: false, validateFormats: false, ownProperties: true });
const compiled = new WeakMap<object, ValidateFunction>();

export function isSchema(expected: Record<string, unknown>): boolean {
  return Object.hasOwn(expected, '$schema');
}

/** Compiles an argument schema; throws with ajv's message when it is not a valid JSON Schema. */
export function compileSchema(expected: Record<string, unknown>): ValidateFunction {
  const cached = compiled.get(expected);
  if (cached) return cached;
  const { $schema: _ignored, ...schema } = expected;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } finally {
    ajv.removeSchema(schema);
  }
  compiled.set(expected, validate);
  return validate;
}

/** Whether the call's arguments text meets the expectation, and if not, why. */
export function argumentsMatch(expected: Record<string, unknown>, argumentsText: string): { ok: true } | { ok: false; why: string } {
  let actual: unknown;
  try {
    actual = JSON.parse(argumentsText);
  } catch {
    return { ok: false, why: `arguments are not JSON: ${redact(argumentsText).slice(0, 80)}` };
  }
  if (isSchema(expected)) {
    const validate = compileSchema(expected);
    return validate(actual) ? { ok: true } : { ok: false, why: `arguments ${ajv.errorsText(validate.errors)}` };
  }
  const mismatch = partialMismatch(expected, actual, 'arguments');
  return mismatch === null ? { ok: true } : { ok: false, why: mismatch };
}

function partialMismatch(expected: unknown, actual: unknown, at: string): string | null {
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return `${at}: expected an object, got ${JSON.stringify(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      if (!Object.hasOwn(actual, key)) return `${at}.${key}: missing`;
      const inner = partialMismatch(value, actual[key], `${at}.${key}`);
      if (inner !== null) return inner;
    }
    return null;
  }
  return deepEqual(expected, actual) ? null : `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
