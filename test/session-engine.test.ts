/**
 * The reducer's bounds through the real shell and the real simulator: 100 tool calls in one turn
 * (issue 13 item 13) and call ids that are Object.prototype names (item 12) are each answered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatEvent, ToolRunner } from '../src/chat.js';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import { MAX_OPEN_CALLS } from '../src/session.js';
import { isNote, Log, silence, simLog, tone } from './fixtures/faults/harness.js';
import { startEngine } from './support/engine.js';

const simulators: Simulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

describe('many tool calls against the simulator', () => {
  it('100 calls in one turn: every call_id gets exactly one output, then one response.create and the narration', async () => {
    const calls = Array.from({ length: 100 }, (_, i) => ({ name: 'get_weather', arguments: { city: `city ${i}` } }));
    const sim = await createSimulator({ responseDelayMs: 20, realtimeFactor: 20, rules: [{ turn: 1, calls }] });
    simulators.push(sim);
    const log = simLog(sim);
    // The tools answer only once the client has read all 100 calls: they are open at once.
    let allRead!: () => void;
    const sent = new Promise<void>((resolve) => (allRead = resolve));
    let dones = 0;
    const events = new Log<ChatEvent>();
    const observe = (event: ChatEvent): void => {
      events.push(event);
      if (event.type === 'frame' && event.direction === 'in' && event.frame.type === 'response.function_call_arguments.done' && (dones += 1) === calls.length) allRead();
    };
    let ran = 0;
    const run: ToolRunner['run'] = async () => {
      ran += 1;
      await sent;
      return { ok: true, output: '{"temp_c":3}', durationMs: 1 };
    };
    const { chat, source, quit } = startEngine(sim, { run, observe });
    await events.waitFor(isNote('configured'), 'configured');
    void source.say(Buffer.concat([tone(500), silence(800)]));
    await events.waitFor((e) => e.type === 'metric', 'the narration after the tools', 20_000);
    quit();
    await chat.done;

    const callIds = log.frames.items.filter((f) => f.dir === 'out' && f.frame.type === 'response.function_call_arguments.done').map((f) => String(f.frame.call_id));
    expect(callIds).toHaveLength(100);
    const outputs = log.client('conversation.item.create').map((f) => (f.frame as { item: { call_id: string; output: string } }).item);
    expect(outputs.map((o) => o.call_id).sort()).toEqual([...callIds].sort());
    expect(ran).toBe(MAX_OPEN_CALLS);
    expect(outputs.filter((o) => /too many tool calls at once/.test(o.output))).toHaveLength(100 - MAX_OPEN_CALLS);
    expect(log.client('response.create')).toHaveLength(1);
    const errors = log.frames.items.filter((f) => f.dir === 'out' && f.frame.type === 'error');
    expect(errors).toEqual([]); // no tool_response_timeout: the simulator got every output
  }, 40_000);
});
