/**
 * Scenario files (`hydra-chat run <scenario>`): the zod schema and a loader for JSON or YAML.
 *
 * A scenario is one scripted conversation: an agent, then user turns spoken in order, each with
 * optional simulator behaviour (`mock`) and expectations (`expect`).
 *
 * `timing` says when a turn is spoken (at most one of; checked again once the agent is known):
 *  - `reply: wait` (default): after the previous reply (or the greeting) has finished playing;
 *  - `bargeInAfterMs: N`: once the previous reply (or greeting) has played N ms, talking over it;
 *  - `overGreeting: true` (first turn, agent.greet only): as soon as the greeting starts playing.
 * `trailingSilenceMs` holds the next step back until that much silence followed this turn's audio.
 *
 * `mock.calls` become simulator rules for `--mock`: turn i of the list is the simulator's i-th
 * completed user turn (1-based; the greeting is not a user turn).
 *
 * Tool argument expectations follow one rule: an `arguments` object with a top-level `$schema`
 * key is a JSON Schema the actual arguments must satisfy (ajv); any other object is a partial
 * match — every key given must be present with an equal value, objects compared recursively the
 * same way, arrays and scalars compared exactly.
 *
 * `expect.noErrors`: `true` = no server error frame at all; a list = none of these error codes.
 */
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HydraError } from '../errors.js';
import { compileSchema, isSchema } from './match.js';
import { CONFIG_FILE_MAX_BYTES, readTextFile, TextFileError } from '../text-file.js';

const ToolExpect = z
  .strictObject({
    name: z.string().min(1),
    arguments: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((tool, ctx) => {
    if (tool.arguments === undefined || !isSchema(tool.arguments)) return;
    try {
      compileSchema(tool.arguments);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['arguments'], message: `not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}` });
    }
  });
export type ToolExpect = z.infer<typeof ToolExpect>;

const TurnExpect = z.strictObject({
  /** These tool calls happen on this turn (one object or a list for parallel calls). */
  tool: z.union([ToolExpect, z.array(ToolExpect).min(1)]).optional(),
  /** No tool is called on this turn. */
  noTool: z.boolean().optional(),
  /** At least this much reply audio played. */
  minReplyMs: z.number().nonnegative().optional(),
  /** speech_stopped → first reply audio at most this long. */
  maxV2vMs: z.number().positive().optional(),
  /** The reply played to its end. */
  notInterrupted: z.boolean().optional(),
  /** The reply was cut off by the next turn (barge-in). */
  interrupted: z.boolean().optional(),
});
export type TurnExpect = z.infer<typeof TurnExpect>;

const Timing = z
  .strictObject({
    reply: z.literal('wait').optional(),
    bargeInAfterMs: z.number().int().nonnegative().optional(),
    overGreeting: z.boolean().optional(),
    trailingSilenceMs: z.number().int().nonnegative().optional(),
  })
  .refine((t) => [t.reply !== undefined, t.bargeInAfterMs !== undefined, t.overGreeting === true].filter(Boolean).length <= 1, {
    message: 'give at most one of reply, bargeInAfterMs, overGreeting',
  });
export type Timing = z.infer<typeof Timing>;

const MockCall = z.strictObject({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()) });

const Turn = z
  .strictObject({
    say: z.string().min(1).optional(),
    wav: z.string().min(1).optional(),
    timing: Timing.optional(),
    mock: z.strictObject({ calls: z.array(MockCall).min(1) }).optional(),
    expect: TurnExpect.optional(),
  })
  .refine((t) => (t.say === undefined) !== (t.wav === undefined), { message: 'give exactly one of say or wav' });
export type Turn = z.infer<typeof Turn>;

const Agent = z.strictObject({
  instructions: z.string().optional(),
  voice: z.string().optional(),
  model: z.string().optional(),
  /** Tools file (JSON/TS, see `hydra-chat tools check`), relative to the scenario file. */
  tools: z.string().min(1).optional(),
  greet: z.boolean().optional(),
});

const ScenarioFile = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only (it names the run folder)'),
    agent: Agent.default({}),
    /** espeak-ng voice and speed for `say:` turns. */
    tts: z.strictObject({ voice: z.string().optional(), wpm: z.number().int().min(80).max(450).optional() }).optional(),
    /** Give up waiting for a turn's reply after this long (from the end of the turn's audio). */
    replyTimeoutMs: z.number().int().positive().optional(),
    /** Simulator settings for --mock. */
    mock: z.strictObject({ responseDelayMs: z.number().int().nonnegative().optional() }).optional(),
    turns: z.array(Turn).min(1),
    expect: z
      .strictObject({
        noErrors: z.union([z.boolean(), z.array(z.string().min(1))]).optional(),
        allTurnsAnswered: z.boolean().optional(),
      })
      .optional(),
  });
export type ScenarioFile = z.infer<typeof ScenarioFile>;

/** A loaded scenario: the file's content plus where it lives (paths resolve against `dir`). */
export type Scenario = ScenarioFile & { path: string; dir: string };

/** Parse and validate a scenario file; every problem is a 'config-invalid' naming file and field. */
export async function loadScenario(path: string, signal?: AbortSignal): Promise<Scenario> {
  let text: string;
  try {
    text = await readTextFile(path, { maxBytes: CONFIG_FILE_MAX_BYTES, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (!(error instanceof TextFileError)) throw error;
    if (error.code === 'ABORT_ERR') throw new HydraError('interrupted', `stopped while waiting for ${path}`);
    throw new HydraError('config-invalid', `cannot read scenario ${path}: ${error.why}`, { cause: error });
  }
  return parseScenario(text, path);
}

/** Validate scenario text; `path` names the file in errors and anchors relative paths. */
export function parseScenario(text: string, path: string): Scenario {
  const data = parseText(text, path);
  const parsed = ScenarioFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || '(root)';
    throw new HydraError('config-invalid', `${path}: ${field}: ${issue.message}`, {
      hint: 'see examples/*.yaml for the scenario format',
    });
  }
  const absolute = resolve(path);
  return { ...parsed.data, path: absolute, dir: dirname(absolute) };
}

function parseText(text: string, path: string): unknown {
  const json = extname(path).toLowerCase() === '.json';
  try {
    return json ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new HydraError('config-invalid', `${path}: not valid ${json ? 'JSON' : 'YAML'}: ${message}`, { cause: error });
  }
}

/** The expected calls of a turn as a list. */
export function expectedCalls(expect: TurnExpect | undefined): ToolExpect[] {
  if (expect?.tool === undefined) return [];
  return Array.isArray(expect.tool) ? expect.tool : [expect.tool];
}
