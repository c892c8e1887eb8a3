/**
 * Tool parameters as JSON Schema, and argument checking against them. A zod schema is converted
 * with `z.toJSONSchema` (draft-07, input shape: what the model must send) and checked with zod
 * itself so the handler sees zod's parsed value (defaults, transforms); a plain JSON Schema is
 * checked with ajv. Parameter-less tools get the empty object schema of hydra-protocol §5.1.
 * A schema with regular expressions (`pattern`, `patternProperties`, a zod `.regex`) or
 * `uniqueItems` (quadratic on a long array) is first checked off the main thread, bounded by the
 * call's signal (its timeout): a model-chosen argument cannot freeze the CLI.
 */
import AjvModule, { type Ajv, type Options } from 'ajv';
import { z, type ZodType } from 'zod';
import { OffThreadChecker } from './schema-worker.js';

const AjvCtor = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (options: Options) => Ajv;
// Formats need a plugin we do not ship; unknown keywords are tolerated (descriptions, examples, vendor keys).
// `ownProperties`: `required: ["toString"]` is not met by the prototype's toString. Each compiled schema
// is removed again at once (so recursive `$ref: "#"` resolves, and two tools may share an `$id`).
const AJV_OPTIONS: Options = { allErrors: true, strict: false, validateFormats: false, logger: false, ownProperties: true };
const ajv = new AjvCtor(AJV_OPTIONS);
const offThread = new OffThreadChecker(AJV_OPTIONS);

export type ArgumentCheckResult = { ok: true; value: unknown } | { ok: false; problem: string };
/** Checks one call's arguments; rejects when `signal` aborts first. */
export type ArgumentCheck = (args: unknown, signal: AbortSignal) => Promise<ArgumentCheckResult>;

export function isZodSchema(value: unknown): value is ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** The JSON Schema declared to the server; throws an Error whose message is the problem. */
export function toJsonSchema(parameters: Record<string, unknown> | ZodType | undefined): Record<string, unknown> {
  if (parameters === undefined) return { type: 'object', properties: {}, required: [] };
  const schema = isZodSchema(parameters) ? convertZod(parameters) : parameters;
  // `$schema` is noise on the wire and may name a draft ajv does not load; the shape is what counts.
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

function convertZod(schema: ZodType): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`zod schema cannot be expressed as JSON Schema (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** A checker for one tool's arguments; throws an Error when the JSON Schema does not compile. */
export function compileArguments(parameters: Record<string, unknown> | ZodType | undefined, jsonSchema: Record<string, unknown>): ArgumentCheck {
  checkTree(jsonSchema, new Set(), 0);
  let validate: ReturnType<Ajv['compile']>;
  try {
    validate = ajv.compile(jsonSchema);
  } catch (error) {
    // ajv follows a $ref chain that leads back to itself with no schema in between until the stack runs out.
    if (error instanceof RangeError) throw new Error('a "$ref" leads back to itself without a schema in between (a $ref loop)');
    throw error;
  } finally {
    ajv.removeSchema(jsonSchema); // compiled functions stand alone; do not keep every reloaded schema alive
  }
  const checkHere = isZodSchema(parameters)
    ? (args: unknown): ArgumentCheckResult => {
        const parsed = parameters.safeParse(args);
        if (parsed.success) return { ok: true, value: parsed.data };
        return { ok: false, problem: parsed.error.issues.map((issue) => `${['arguments', ...issue.path.map(String)].join('.')}: ${issue.message}`).join('; ') };
      }
    : (args: unknown): ArgumentCheckResult =>
        validate(args) ? { ok: true, value: args } : { ok: false, problem: ajv.errorsText(validate.errors, { dataVar: 'arguments' }) };
  if (!mayBeSlow(jsonSchema)) return async (args) => checkHere(args);
  const text = JSON.stringify(jsonSchema);
  offThread.warm();
  return async (args, signal) => {
    const result = await offThread.check(text, args, signal);
    // zod's own check follows (its messages, defaults, transforms): the same expressions, now known to be quick.
    if (!isZodSchema(parameters)) return result.ok ? { ok: true, value: args } : result;
    return checkHere(args);
  };
}

/** Deeper than any schema a person writes; past it a walk of the schema (ajv's too) could run out of stack. */
const MAX_SCHEMA_DEPTH = 200;

/**
 * Throws when the schema cannot be checked as written: a `__proto__` key anywhere (JSON.parse makes it
 * an own key, and ajv skips it, so it would never be checked), an object that contains itself (a code
 * config's cycle, which no JSON text can express), or nesting past MAX_SCHEMA_DEPTH.
 */
function checkTree(value: unknown, ancestors: Set<object>, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (ancestors.has(value)) throw new Error('the schema contains itself (a cycle); express recursion with "$ref": "#/..." instead');
  if (depth > MAX_SCHEMA_DEPTH) throw new Error(`nested more than ${MAX_SCHEMA_DEPTH} levels deep`);
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) throw new Error('a key named "__proto__" cannot be checked; rename it');
  ancestors.add(value);
  for (const child of Object.values(value)) checkTree(child, ancestors, depth + 1);
  ancestors.delete(value);
}

/** Whether checking against `schema` may take long on a hostile value: regular expressions, uniqueItems. */
function mayBeSlow(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(mayBeSlow);
  if (typeof schema !== 'object' || schema === null) return false;
  return Object.entries(schema).some(([key, value]) =>
    key === 'pattern' || key === 'patternProperties' || (key === 'uniqueItems' && value === true) ? true : mayBeSlow(value),
  );
}
