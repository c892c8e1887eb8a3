/**
 * `hydra-chat doctor`: is this machine ready for a live chat? Node, the PortAudio addon, the microphone and
 * speaker (exist and open), the key (present; never printed), the endpoint (DNS, TLS, an HTTP upgrade
 * without a key: no session starts), and the echo test when both devices work. Each failure names the one
 * command that fixes it; exit 20 when something blocks live chat.
 */
import type { Command } from 'commander';
import { loadUserSettings } from '../config/settings.js';
import { DEFAULT_URL, pickModel } from '../models.js';
import { isLoopbackUrl } from '../server-url.js';
import { registerSecret, registerUrlSecrets } from '../redact.js';
import type { Output } from '../ui/output.js';
import { cleanField } from '../ui/sanitize.js';
import { audioChecks } from './audio.js';
import { DOCTOR_EXIT, skip, type Check } from './check.js';
import { echoCheck } from './echo-check.js';
import { endpointChecks } from './endpoint.js';
import { keyCheck, nodeCheck } from './environment.js';

type DoctorOptions = { url?: string; apiKey?: string; model?: string; voice?: string; inputDevice?: string; outputDevice?: string; audio?: boolean };

export function registerDoctorCommand(command: Command, context: { output: () => Output; signal: AbortSignal; setExit: (code: number) => void }): void {
  command
    .description('check that live chat can work here: Node, PortAudio, devices, key, endpoint, echo')
    .option('--url <ws-url>', 'endpoint to check (default: the user file, else the service)')
    .option('--api-key <key>', 'key to look for (default: SMALLEST_API_KEY); it is never printed or sent')
    .option('--model <tag>', 'model for the upgrade probe')
    .option('--input-device <id|name>', 'microphone to open')
    .option('--output-device <id|name>', 'speaker to open')
    .option('--no-audio', 'skip the audio checks (a server with no sound card)')
    .action(async (local: DoctorOptions, self: Command) => {
      const out = context.output();
      const global = self.parent!.opts<DoctorOptions>();
      const user = (await loadUserSettings(process.env))?.settings ?? {};
      const pick = <K extends keyof DoctorOptions>(key: K): DoctorOptions[K] => local[key] ?? global[key];
      const url = pick('url') ?? user.url ?? DEFAULT_URL;
      const keyFromFlag = pick('apiKey');
      const key = keyFromFlag ?? process.env.SMALLEST_API_KEY;
      registerSecret(key);
      registerUrlSecrets(url);
      const model = pickModel(pick('voice') ?? user.voice, pick('model') ?? user.model);

      const checks: Check[] = [];
      const report = (check: Check): void => {
        checks.push(check);
        out.json({ event: 'check', ...check });
        out.line(line(check, out));
      };
      report(nodeCheck());
      if (local.audio === false) {
        report(skip('audio', 'skipped (--no-audio)'));
      } else {
        const audio = await audioChecks({ inputDevice: pick('inputDevice') ?? user.inputDevice, outputDevice: pick('outputDevice') ?? user.outputDevice, signal: context.signal });
        for (const check of audio.checks) report(check);
        report(audio.microphone && audio.speaker ? await echoCheck({ inputDevice: pick('inputDevice'), outputDevice: pick('outputDevice'), signal: context.signal }) : skip('echo test', 'needs a working microphone and speaker'));
      }
      report(keyCheck(key, keyFromFlag !== undefined ? 'flag' : 'env', isLoopbackUrl(url)));
      for (const check of await endpointChecks(url, model)) report(check);

      const blocking = checks.filter((check) => check.status === 'fail' && check.blocks !== false);
      out.json({ event: 'doctor', ok: blocking.length === 0, blocking: blocking.map((check) => check.name) });
      out.line(
        blocking.length === 0
          ? out.chalk.green('ready for live chat')
          : out.chalk.red(`not ready for live chat: ${blocking.map((check) => check.name).join(', ')} (fixes above)`),
      );
      if (blocking.length > 0) context.setExit(DOCTOR_EXIT);
    });
}

function line(check: Check, out: Output): string {
  const { chalk } = out;
  const mark = { ok: chalk.green('✓'), warn: chalk.yellow('!'), fail: chalk.red('✗'), skip: chalk.dim('-') }[check.status];
  // Details carry device names, error messages and the --url as given: cleaned like every log line.
  const detail = cleanField(check.detail);
  const text = `${mark} ${check.name.padEnd(11)} ${check.status === 'skip' ? chalk.dim(detail) : detail}`;
  return check.fix === undefined ? text : `${text}\n  ${chalk.dim('fix:')} ${cleanField(check.fix)}`;
}
