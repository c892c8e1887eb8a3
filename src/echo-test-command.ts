/**
 * `hydra-chat echo-test`: opens the speaker and the microphone the user named (or the defaults),
 * measures the echo path (src/audio/echo/echo-test.ts) and prints the figures and a recommendation,
 * or one JSON object with --json.
 */
import { measureEcho, type EchoTestResult } from './audio/echo/echo-test.js';
import { LiveAudio } from './audio/live.js';
import { jsonText } from './ui/json-text.js';
import type { Output } from './ui/output.js';
import { cleanField } from './ui/sanitize.js';

export type EchoTestOptions = { inputDevice?: string; outputDevice?: string; json?: boolean };

/** Opens the devices the user named (or the defaults), runs the echo test, closes them: also doctor's echo check. */
export async function runEchoTest(
  options: { inputDevice?: string | undefined; outputDevice?: string | undefined },
  signal: AbortSignal,
): Promise<EchoTestResult & { input: string; output: string; durationMs: number }> {
  const started = performance.now();
  const live = new LiveAudio({ inputDevice: options.inputDevice, outputDevice: options.outputDevice, signal });
  // Both devices are resolved first, so a wrong name fails before anything opens.
  await live.devices();
  const [mic, speaker] = await Promise.all([live.microphone(20), live.speaker(16000)]);
  try {
    const result = await measureEcho(mic, speaker, signal);
    return { ...result, input: mic.device.name, output: speaker.device.name, durationMs: Math.round(performance.now() - started) };
  } finally {
    await Promise.all([mic.close(), speaker.close()]);
  }
}

export async function runEchoTestCommand(options: EchoTestOptions, context: { out: Output; signal: AbortSignal; print: (line: string) => void }): Promise<number> {
  const { input, output, ...result } = await runEchoTest(options, context.signal);
  if (options.json) {
    // Device names are whatever the system (or a Bluetooth peer) calls them: one escaped line all the same.
    context.print(jsonText({ ...result, input, output }));
    return 0;
  }
  const { out } = context;
  out.line(`echo test: ${(result.probeMs / 1000).toFixed(1)} s of noise played on "${cleanField(output, 80)}", heard on "${cleanField(input, 80)}"`);
  if (result.delayMs === null) {
    out.line(`  no echo found (the microphone heard ${result.couplingDb <= -100 ? 'nothing' : `${result.couplingDb} dB relative to what was played`})`);
  } else {
    out.line(`  delay     ${Math.round(result.delayMs)} ms (handed to the speaker → heard by the microphone)`);
    out.line(`  coupling  ${result.couplingDb} dB (echo level relative to what was played)`);
    out.line(`  ERLE      ${result.erleDb ?? '?'} dB (echo removed by the canceller)`);
  }
  out.line(`→ ${result.recommendation}`);
  return 0;
}
