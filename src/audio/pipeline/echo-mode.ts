/**
 * Which echo stage a chat gets (--echo cancel|guard|off, --echo-guard, --no-echo-guard), chosen once
 * when the chat starts.
 */
import { HydraError } from '../../errors.js';
import { EchoGuard } from '../echo-guard.js';
import type { EchoStage } from './stage.js';
import { echoCancelStage, echoGuardStage } from './stages.js';

/** The options that decide it (a subset of the chat command's). */
export type EchoOptions = { echo?: string | undefined; echoGuard?: boolean | undefined; input?: string | undefined; output?: string | undefined };

/**
 * --echo: the stage that keeps the model from hearing itself through the speaker (none without mic +
 * speaker, or off). `cancel` (the default): the acoustic echo canceller, its far end what was handed to
 * PortAudio (the speaker's onPlayed tap), with the echo guard gating only until it has converged.
 */
export async function echoStage(options: EchoOptions, frameMs: number, playing: () => boolean): Promise<EchoStage | null> {
  const mode = echoMode(options);
  if (options.input !== undefined || options.output !== undefined || mode === 'off') return null;
  const guard = echoGuardStage(new EchoGuard(), frameMs, playing);
  if (mode === 'guard') return guard;
  const { createEchoCanceller } = await import('../echo/canceller.js');
  const canceller = createEchoCanceller({ frameMs });
  // A developer's recording of what the canceller is given (src/audio/echo/trace.ts).
  const trace = process.env.HYDRA_CHAT_ECHO_TRACE;
  if (!trace) return echoCancelStage(canceller, guard);
  const { traceCanceller } = await import('../echo/trace.js');
  return echoCancelStage(traceCanceller(canceller, trace), guard);
}

/** --echo cancel|guard|off (cancel by default); --no-echo-guard is `off`, --echo-guard is `guard`. */
export function echoMode(options: EchoOptions): 'cancel' | 'guard' | 'off' {
  if (options.echo !== undefined) {
    if (options.echo !== 'cancel' && options.echo !== 'guard' && options.echo !== 'off') {
      throw new HydraError('usage', `--echo must be cancel, guard or off (got ${JSON.stringify(options.echo)})`);
    }
    return options.echo;
  }
  if (options.echoGuard === false) return 'off';
  if (options.echoGuard === true) return 'guard';
  return 'cancel';
}
