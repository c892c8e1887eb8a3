/**
 * Test support: the real shell (startChat) on a scripted microphone against a simulator, with a
 * get_weather tool declared. `observe` sees every chat event; `quit` ends the run.
 */
import { createClockSink } from '../../src/audio/clock-sink.js';
import { startChat, type ChatEvent, type ToolRunner } from '../../src/chat.js';
import type { Simulator } from '../../src/mock/server.js';
import { scriptedSource } from '../fixtures/faults/harness.js';

export const WEATHER_TOOL: ReturnType<ToolRunner['declarations']>[number] = {
  type: 'function',
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};

export function startEngine(sim: Simulator, options: { run: ToolRunner['run']; observe: (event: ChatEvent) => void; timeoutMs?: number }) {
  const source = scriptedSource({ speed: 2 });
  const controller = new AbortController();
  const chat = startChat({
    url: sim.url,
    model: 'hydra',
    apiKey: 'test-key',
    session: { voice: 'reed' },
    source,
    openSink: async (rate) => createClockSink(rate),
    tools: { declarations: () => [WEATHER_TOOL], run: options.run },
    observe: options.observe,
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(options.timeoutMs ?? 25_000)]),
  });
  return { chat, source, quit: () => controller.abort() };
}
