/**
 * Scenario files: JSON and YAML load, invalid ones fail naming file and field; preparation (tools,
 * timing against the greeting, missing WAV, missing espeak-ng); the TTS cache; argument matching.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HydraError } from '../src/errors.js';
import { argumentsMatch } from '../src/scenario/match.js';
import { prepareScenario } from '../src/scenario/prepare.js';
import { loadScenario } from '../src/scenario/schema.js';
import { synthesize, ttsCacheDir } from '../src/scenario/tts.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-scenario-schema-'));
  env = { XDG_CACHE_HOME: join(dir, 'cache') };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scenarioFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** The HydraError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<HydraError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HydraError);
  return error as HydraError;
}

describe('loading scenarios', () => {
  it('loads every shipped YAML example', async () => {
    for (const name of ['greeting', 'tools', 'barge-in']) {
      const scenario = await loadScenario(`examples/${name}.yaml`);
      expect(scenario.name).toBe(name);
      expect(scenario.turns.length).toBeGreaterThan(0);
    }
    const tools = await loadScenario('examples/tools.yaml');
    expect(tools.turns[0]!.mock?.calls.map((call) => call.name)).toEqual(['get_weather', 'lookup_order']);
    expect(tools.dir).toMatch(/examples$/);
  });

  it('loads JSON with every timing and expectation form', async () => {
    const scenario = await loadScenario('test/fixtures/scenario/valid.json');
    expect(scenario.name).toBe('from-json');
    expect(scenario.turns[0]!.wav).toBe('../hello-16k.wav');
    expect(scenario.turns[1]!.timing).toEqual({ bargeInAfterMs: 500, trailingSilenceMs: 200 });
    expect(scenario.expect?.noErrors).toEqual(['rate_limit_exceeded']);
  });

  it.each([
    ['no-turns.yaml', 'name: x\nturns: []\n', 'turns'],
    ['say-and-wav.yaml', 'name: x\nturns:\n  - say: hi\n    wav: a.wav\n', 'turns.0'],
    ['bad-timing.yaml', 'name: x\nturns:\n  - say: hi\n    timing: { bargeInAfterMs: soon }\n', 'turns.0.timing.bargeInAfterMs'],
    ['two-timings.yaml', 'name: x\nturns:\n  - say: hi\n    timing: { reply: wait, bargeInAfterMs: 10 }\n', 'turns.0.timing'],
    ['typo.yaml', 'name: x\nturns:\n  - say: hi\n    expect: { notool: true }\n', 'turns.0.expect'],
    ['bad-name.json', '{"name": "a b", "turns": [{"say": "hi"}]}', 'name'],
    ['bad-noerrors.yaml', 'name: x\nturns: [{ say: hi }]\nexpect: { noErrors: 3 }\n', 'expect.noErrors'],
    [
      'bad-schema.yaml',
      'name: x\nturns:\n  - say: hi\n    expect: { tool: { name: t, arguments: { $schema: true, type: 12 } } }\n',
      'turns.0.expect.tool.arguments',
    ],
  ])('rejects %s naming the file and %s', async (name, text, field) => {
    const path = await scenarioFile(name, text);
    const error = await failure(loadScenario(path));
    expect(error.code).toBe('config-invalid');
    expect(error.message).toContain(path);
    expect(error.message).toContain(`${field}:`);
  });

  it('reports syntax errors and missing files as config-invalid', async () => {
    const yaml = await scenarioFile('syntax.yaml', 'name: x\nturns: [\n');
    expect((await failure(loadScenario(yaml))).message).toMatch(/syntax\.yaml: not valid YAML/);
    const json = await scenarioFile('syntax.json', '{"name": ');
    expect((await failure(loadScenario(json))).message).toMatch(/syntax\.json: not valid JSON/);
    const missing = await failure(loadScenario(join(dir, 'nope.yaml')));
    expect(missing.code).toBe('config-invalid');
    expect(missing.message).toContain('nope.yaml');
  });
});

describe('preparing scenarios', () => {
  it('synthesizes say: turns, reads wav: turns and builds simulator rules', async () => {
    const prepared = await prepareScenario(await loadScenario('examples/tools.yaml'), { env });
    expect(prepared.audio).toHaveLength(2);
    expect(prepared.audio[0]!.length).toBeGreaterThan(16000 * 2); // over a second of speech
    expect(prepared.rules).toEqual([{ turn: 1, calls: prepared.scenario.turns[0]!.mock!.calls }]);
    expect(prepared.tools?.().declarations().map((tool) => tool.name)).toEqual(['get_weather', 'lookup_order']);
    expect(prepared.session).toMatchObject({ voice: 'reed', generate_initial_response: false });
    expect(prepared.session.instructions).toMatch(/shop assistant/); // from tools.json
  });

  it('rejects a mock call of an undeclared tool and a barge-in over a missing greeting', async () => {
    const undeclared = await scenarioFile('undeclared.yaml', 'name: x\nturns:\n  - say: hi\n    mock: { calls: [{ name: t, arguments: {} }] }\n');
    const error = await failure(loadScenario(undeclared).then((s) => prepareScenario(s, { env })));
    expect(error.code).toBe('config-invalid');
    expect(error.message).toContain('turns.0.mock.calls.0.name');
    const noGreeting = await scenarioFile('no-greeting.yaml', 'name: x\nturns:\n  - say: hi\n    timing: { overGreeting: true }\n');
    const timing = await failure(loadScenario(noGreeting).then((s) => prepareScenario(s, { env })));
    expect(timing.message).toMatch(/no-greeting\.yaml: turns\.0\.timing: .*greet/);
  });

  it('fails with input-file for a missing WAV and for a missing espeak-ng', async () => {
    const missingWav = await scenarioFile('missing-wav.yaml', 'name: x\nturns:\n  - wav: ./nowhere.wav\n');
    const wav = await failure(loadScenario(missingWav).then((s) => prepareScenario(s, { env })));
    expect(wav.code).toBe('input-file');
    expect(wav.message).toContain('nowhere.wav');
    const say = await scenarioFile('say.yaml', 'name: x\nturns:\n  - say: a sentence nobody has cached yet\n');
    const espeak = await failure(loadScenario(say).then((s) => prepareScenario(s, { env, espeak: 'espeak-ng-not-installed' })));
    expect(espeak.code).toBe('input-file');
    expect(espeak.message).toContain('install espeak-ng, or give the turn a wav');
  });
});

describe('tts cache', () => {
  it('caches by text and voice under $XDG_CACHE_HOME/hydra-chat/tts', async () => {
    const cache = ttsCacheDir(env);
    expect(cache).toBe(join(dir, 'cache', 'hydra-chat', 'tts'));
    const first = await synthesize('Caching test.', { env });
    const files = await readdir(cache);
    const second = await synthesize('Caching test.', { env, command: 'espeak-ng-not-installed' }); // served from the cache
    expect(second.equals(first)).toBe(true);
    await synthesize('Caching test.', { env, voice: 'en-gb' });
    expect((await readdir(cache)).length).toBe(files.length + 1);
  });
});

describe('argument expectations', () => {
  it('partial match: given keys must be equal, nested objects partially, arrays exactly', () => {
    expect(argumentsMatch({ city: 'Paris' }, '{"city":"Paris","units":"c"}').ok).toBe(true);
    expect(argumentsMatch({ where: { city: 'Paris' } }, '{"where":{"city":"Paris","zip":"75001"}}').ok).toBe(true);
    expect(argumentsMatch({ city: 'Paris' }, '{"city":"Lyon"}')).toEqual({ ok: false, why: 'arguments.city: expected "Paris", got "Lyon"' });
    expect(argumentsMatch({ days: [1, 2] }, '{"days":[1,2,3]}').ok).toBe(false);
    expect(argumentsMatch({ city: 'Paris' }, '{}')).toEqual({ ok: false, why: 'arguments.city: missing' });
    expect(argumentsMatch({}, 'not json').ok).toBe(false);
  });

  it('a $schema key makes it a JSON Schema checked with ajv', () => {
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^A' } } };
    expect(argumentsMatch(schema, '{"id":"A17"}').ok).toBe(true);
    const result = argumentsMatch(schema, '{"id":"B2"}');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.why).toMatch(/pattern/);
  });

  it('schemas as tools use them: recursive ($ref "#"), a shared $id, and required names from Object.prototype met only by own keys', () => {
    const tree = { $schema: true, type: 'object', properties: { name: { type: 'string' }, child: { $ref: '#' } } };
    expect(argumentsMatch(tree, '{"child":{"child":{"name":"leaf"}}}').ok).toBe(true);
    expect(argumentsMatch(tree, '{"child":{"child":{"name":5}}}').ok).toBe(false);
    const a = { $schema: true, $id: 'https://example.com/args', type: 'object' };
    expect(argumentsMatch(a, '{}').ok).toBe(true);
    expect(argumentsMatch({ ...a }, '{}').ok).toBe(true);
    const named = { $schema: true, type: 'object', required: ['toString'] };
    expect(argumentsMatch(named, '{}').ok).toBe(false);
    expect(argumentsMatch(named, '{"toString":"x"}').ok).toBe(true);
  });
});
