/**
 * Tools through the real CLI: the agent file's instructions, voice and tools reach session.configure,
 * flags override them, and editing the file mid-session re-declares the tools (session.update).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, isFrame, startCli, type JsonLine } from './support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'hydra-tools-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const agent = (tools: string[]) => ({
  instructions: 'You are a concise concierge.',
  voice: 'reed',
  tools: tools.map((name) => ({ name, parameters: { type: 'object', properties: {} }, result: { ok: true } })),
});

const sent = (type: string) => (line: JsonLine): boolean => line.dir === 'out' && line.frame?.type === type;

describe('--tools', () => {
  it('declares the file’s agent, lets flags win, and hot-reloads the tools mid-session', async () => {
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify(agent(['opening_hours'])));
    const run = startCli(
      ['--mock', '--json', '--tools', file, '--voice', 'knox', '--input', 'test/fixtures/hello-16k.wav', '--trailing-silence', '8000'],
      {},
    );
    const configure = (await run.waitFor(sent('session.configure'))) as JsonLine & { frame: { session: Record<string, unknown> } };
    expect(configure.frame.session.instructions).toBe('You are a concise concierge.');
    expect(configure.frame.session.voice).toBe('knox');
    expect((configure.frame.session.tools as { name: string }[]).map((tool) => tool.name)).toEqual(['opening_hours']);
    await run.waitFor(isFrame('session.configured'));

    // A broken edit: the old tools stay, nothing is sent.
    const before = run.lines.length;
    writeFileSync(file, '{ "tools": [ oops');
    const rejected = await run.waitFor((line) => line.event === 'tools-reload', 10_000, before);
    expect(rejected.ok).toBe(false);
    expect(rejected.error).toContain(file);
    expect(run.lines.slice(before).some(sent('session.update'))).toBe(false);

    // A valid edit: session.update with the new list, answered by session.updated.
    writeFileSync(file, JSON.stringify(agent(['opening_hours', 'lookup_order'])));
    const update = (await run.waitFor(sent('session.update'), 10_000, before)) as JsonLine & { frame: { session: { tools: { name: string }[] } } };
    expect(update.frame.session.tools.map((tool) => tool.name)).toEqual(['opening_hours', 'lookup_order']);
    await run.waitFor(isFrame('session.updated'), 10_000, before);
    expect(await run.exited).toBe(0);
  }, 40_000);

  it('an invalid tools file stops the start with a message naming file, tool and field', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ tools: [{ name: 'x', parameters: { type: 'object' } }] }));
    const run = await cli(['--mock', '--tools', file, '--input', 'test/fixtures/hello-16k.wav']);
    expect(run.code).toBe(11);
    expect(run.stderr).toContain(file);
    expect(run.stderr).toMatch(/tool "x"/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
