/**
 * Everything a scenario needs before the first connection: each turn's audio (espeak-ng for `say:`,
 * the WAV for `wav:`), the agent (scenario fields over the tools file's), the tools file loaded and
 * checked against the turns' mock calls, and the simulator rules for --mock. Fails early and clearly.
 */
import { resolve } from 'node:path';
import { readWavMono16k } from '../audio/wav.js';
import type { ToolRunner } from '../chat.js';
import { HydraError } from '../errors.js';
import type { ToolRule } from '../mock/rules.js';
import { pickModel } from '../models.js';
import type { SessionConfig } from '../protocol.js';
import type { LoadedAgent } from '../tools/index.js';
import type { Scenario } from './schema.js';
import { synthesize } from './tts.js';

export type PreparedScenario = {
  scenario: Scenario;
  /** 16 kHz mono PCM16 of each turn, in order. */
  audio: Buffer[];
  model: string;
  session: SessionConfig;
  greet: boolean;
  /** A fresh tool runner for one session, or undefined when the agent has no tools. */
  tools: (() => ToolRunner) | undefined;
  /** Simulator rules built from the turns' `mock.calls` (turn i → the i-th completed user turn). */
  rules: ToolRule[];
};

export async function prepareScenario(scenario: Scenario, options: { env?: NodeJS.ProcessEnv; espeak?: string } = {}): Promise<PreparedScenario> {
  const { agent } = scenario;
  let loaded: LoadedAgent | null = null;
  let makeTools: (() => ToolRunner) | undefined;
  if (agent.tools !== undefined) {
    const tools = await import('../tools/index.js');
    const agentConfig = await tools.loadAgentConfig(resolve(scenario.dir, agent.tools));
    loaded = agentConfig;
    makeTools = () => tools.createToolRunner(agentConfig);
  }
  const declared = new Set(loaded?.tools.map((tool) => tool.name) ?? []);
  scenario.turns.forEach((turn, i) => {
    turn.mock?.calls.forEach((call, j) => {
      if (!declared.has(call.name)) {
        const why = agent.tools === undefined ? 'the agent declares no tools (set agent.tools)' : `"${call.name}" is not a tool in ${agent.tools}`;
        throw new HydraError('config-invalid', `${scenario.path}: turns.${i}.mock.calls.${j}.name: ${why}; the simulator only calls declared tools`);
      }
    });
  });

  const instructions = agent.instructions ?? loaded?.instructions;
  const voice = agent.voice ?? loaded?.voice;
  const greet = agent.greet ?? loaded?.greet ?? false;
  scenario.turns.forEach((turn, i) => {
    const overGreeting = turn.timing?.overGreeting === true || (i === 0 && turn.timing?.bargeInAfterMs !== undefined);
    if (overGreeting && (i > 0 || !greet)) {
      throw new HydraError('config-invalid', `${scenario.path}: turns.${i}.timing: only the first turn can talk over the greeting, and only when the agent greets (agent.greet: true)`);
    }
  });
  const audio = await Promise.all(
    scenario.turns.map((turn) =>
      turn.wav !== undefined
        ? readWavMono16k(resolve(scenario.dir, turn.wav))
        : synthesize(turn.say!, {
            ...(scenario.tts?.voice === undefined ? {} : { voice: scenario.tts.voice }),
            ...(scenario.tts?.wpm === undefined ? {} : { wpm: scenario.tts.wpm }),
            ...(options.env === undefined ? {} : { env: options.env }),
            ...(options.espeak === undefined ? {} : { command: options.espeak }),
          }),
    ),
  );

  const rules = scenario.turns.flatMap((turn, i) => (turn.mock ? [{ turn: i + 1, calls: turn.mock.calls }] : []));
  return {
    scenario,
    audio,
    model: pickModel(voice, agent.model ?? loaded?.model),
    session: {
      ...(instructions === undefined ? {} : { instructions }),
      ...(voice === undefined ? {} : { voice }),
      generate_initial_response: greet,
    },
    greet,
    tools: makeTools,
    rules,
  };
}
