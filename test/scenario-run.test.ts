/**
 * `run <scenario>` end to end against the in-process simulator (--mock): the shipped examples pass,
 * a false expectation fails with a reason and the command throws 'scenario-failed', the run folder
 * holds its four files, and --runs 2 aggregates. Sessions run concurrently to keep the file quick.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';
import { HydraError } from '../src/errors.js';
import { registerRunCommand } from '../src/scenario/command.js';
import type { Report } from '../src/scenario/report.js';
import { runScenarioFile } from '../src/scenario/suite.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-scenario-run-'));
  env = { XDG_CACHE_HOME: join(dir, 'cache') };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `hydra-chat run …` through commander; resolves with stdout lines, or the error it threw. */
async function command(args: string[]): Promise<{ out: string[]; err: string[]; error: unknown }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().exitOverride();
  registerRunCommand(program, { out: (line) => out.push(line), err: (line) => err.push(line), env, signal: new AbortController().signal });
  const error = await program.parseAsync(['node', 'hydra-chat', 'run', ...args]).then(
    () => null,
    (e: unknown) => e,
  );
  return { out, err, error };
}

/** Left and right channel peaks of an interleaved stereo PCM16 buffer. */
function channelPeaks(pcm: Buffer): [number, number] {
  let left = 0;
  let right = 0;
  for (let i = 0; i + 3 < pcm.length; i += 4) {
    left = Math.max(left, Math.abs(pcm.readInt16LE(i)));
    right = Math.max(right, Math.abs(pcm.readInt16LE(i + 2)));
  }
  return [left, right];
}

const failures = (report: Report) => report.runs.flatMap((run) => [run.reason].filter(Boolean));

describe.concurrent('hydra-chat run --mock', () => {
  it.each(['greeting', 'tools', 'barge-in'])('examples/%s.yaml passes', async (name) => {
    const report = await runScenarioFile(`examples/${name}.yaml`, { mock: true, responseDelayMs: 50, outDir: join(dir, name), env });
    expect(failures(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.summary).toMatchObject({ runs: 1, passedRuns: 1, passRate: 100 });
    if (name === 'tools') {
      const turn = report.runs[0]!.turns[0]!;
      expect(turn.calls.map((call) => [call.name, call.ok])).toEqual([
        ['get_weather', true],
        ['lookup_order', true],
      ]);
      expect(report.summary.toolV2v.count).toBe(1);
      expect(report.summary.toolV2v.steps?.responseCreateMs).toBeGreaterThanOrEqual(150); // the §5.4 debounce
    }
    if (name === 'greeting') expect(report.runs[0]!.greeting).toMatchObject({ interrupted: false });
    if (name === 'barge-in') expect(report.runs[0]!.turns.map((turn) => turn.interrupted)).toEqual([true, false]);
  });

  it('writes the run folder: report.json, report.md, transcript.jsonl, a stereo 48 kHz conversation.wav', async () => {
    const out = join(dir, 'folder');
    const report = await runScenarioFile('examples/greeting.yaml', { mock: true, responseDelayMs: 50, outDir: out, env });
    expect(report.outDir).toBe(out);
    expect((await readdir(out)).sort()).toEqual(['conversation.wav', 'report.json', 'report.md', 'transcript.jsonl']);

    const lines = (await readFile(join(out, 'transcript.jsonl'), 'utf8')).trim().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as { t: number; dir?: string; frame?: { type: string; audio?: string }; audio?: { frames: number } });
    const times = entries.map((entry) => entry.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const types = entries.flatMap((entry) => (entry.frame ? [`${entry.dir} ${entry.frame.type}`] : []));
    expect(types).toEqual(expect.arrayContaining(['out session.configure', 'in session.configured', 'in input_audio_buffer.speech_stopped', 'in response.done']));
    expect(entries.some((entry) => entry.frame?.type === 'input_audio_buffer.append')).toBe(false); // counted, not dumped
    expect(entries.filter((entry) => entry.dir === 'out' && entry.audio).reduce((sum, entry) => sum + entry.audio!.frames, 0)).toBeGreaterThan(50);
    expect(lines.join('\n')).not.toMatch(/"delta":"[A-Za-z0-9+/]{100,}/); // audio deltas elided

    const wav = await readWav(join(out, 'conversation.wav'));
    expect([wav.sampleRate, wav.channels]).toEqual([48000, 2]);
    const [left, right] = channelPeaks(wav.pcm);
    expect(left).toBeGreaterThan(1000); // the user's question
    expect(right).toBeGreaterThan(1000); // the greeting and the reply

    const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
    expect(json.passed).toBe(true);
    expect(json.runs[0]!.turns[0]!.checks.map((check) => check.name)).toEqual(['noTool', 'minReplyMs', 'maxV2vMs', 'notInterrupted']);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toMatch(/^# Scenario greeting: passed/);
  });

  it('fails a scenario whose expected tool is never called, with the reason, and throws scenario-failed', async () => {
    const out = join(dir, 'failing');
    const { error, out: lines } = await command(['test/fixtures/scenario/missing-tool.yaml', '--mock', '--out', out]);
    expect(error).toBeInstanceOf(HydraError);
    expect((error as HydraError).code).toBe('scenario-failed');
    expect((error as HydraError).message).toMatch(/turn 1 tool: expected get_weather; no tool was called/);
    expect(lines.some((line) => /^turn 1\/1 .*reply/.test(line))).toBe(true); // live progress
    expect(lines.join('\n')).toMatch(/FAIL tool: expected get_weather/); // the table
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
    expect(report.passed).toBe(false);
    expect(report.runs[0]!.turns[0]!.checks).toEqual([{ name: 'tool', ok: false, detail: 'expected get_weather; no tool was called' }]);
  });

  it('--runs 2 --concurrency 2 aggregates both runs into one report', async () => {
    const out = join(dir, 'runs');
    const { error, out: lines } = await command(['test/fixtures/scenario/short.yaml', '--mock', '--runs', '2', '--concurrency', '2', '--out', out, '--json']);
    expect(error).toBeNull();
    const report = JSON.parse(lines.join('\n')) as Report;
    expect(report.runs.map((run) => [run.run, run.passed])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(report.summary).toMatchObject({ runs: 2, passedRuns: 2, turns: 2, passedTurns: 2, passRate: 100, retries: 0 });
    expect(report.summary.nonToolV2v.count).toBe(2);
    expect(report.summary.nonToolV2v.maxMs).toBeGreaterThanOrEqual(report.summary.nonToolV2v.medianMs!);
    expect((await readdir(out)).sort()).toEqual(['report.json', 'report.md', 'run-1', 'run-2']);
    expect((await readdir(join(out, 'run-2'))).sort()).toEqual(['conversation.wav', 'report.json', 'transcript.jsonl']);
    expect(new Set(report.runs.map((run) => run.sessionId)).size).toBe(2);
  });

  it('rejects bad flags as usage errors and a missing key as no-api-key, before connecting', async () => {
    const runs = await command(['examples/greeting.yaml', '--mock', '--runs', '0']);
    expect((runs.error as HydraError).code).toBe('usage');
    const key = await command(['test/fixtures/scenario/short.yaml', '--url', 'ws://127.0.0.1:9/none', '--out', join(dir, 'never')]);
    expect((key.error as HydraError).code).toBe('no-api-key');
    await expect(readdir(join(dir, 'never'))).rejects.toThrow();
  });
});
