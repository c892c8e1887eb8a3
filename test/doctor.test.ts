/**
 * `hydra-chat doctor` (issue 16 item 5): the real CLI against the real simulator, a closed port, real
 * PortAudio on virtual devices, and without any devices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/mock/server.js';
import { cli } from './support/cli-process.js';
import { startVirtualAudio, type VirtualAudio } from './support/virtual-audio.js';
import { closedPort } from './support/ports.js';

const KEY = 'sk-doctor-secret-0123456789';
let simulator: Simulator;
let sessionsStarted = 0;
beforeAll(async () => {
  simulator = await createSimulator({ port: 0, profile: 'aug-2026' });
  simulator.on('server-frame', (_id, frame) => {
    if (frame.type === 'session.created') sessionsStarted += 1;
  });
});
afterAll(async () => simulator.close());

describe('hydra-chat doctor', () => {
  it('no sound devices: says which, with the fix, and exits 20; the endpoint answers 401 and the key is never printed', async () => {
    const run = await cli(['doctor', '--url', simulator.url], { SMALLEST_API_KEY: KEY });
    expect(run.code).toBe(20);
    expect(run.stdout).toMatch(/^✓ node\s+v\d+/m);
    expect(run.stdout).toMatch(/^✓ portaudio\s+naudiodon loads/m);
    expect(run.stdout).toMatch(/^✗ microphone\s+no input device found\n {2}fix: hydra-chat devices/m);
    expect(run.stdout).toMatch(/^✗ speaker\s+no output device found\n {2}fix: hydra-chat devices/m);
    expect(run.stdout).toMatch(/^✓ api key\s+present in SMALLEST_API_KEY, 27 characters \(not shown/m);
    expect(run.stdout).toMatch(/^✓ endpoint\s+127\.0\.0\.1:\d+ answers: HTTP 401 to an upgrade without a key/m);
    expect(run.stdout).toMatch(/^not ready for live chat: microphone, speaker/m);
    expect(run.stdout + run.stderr).not.toContain(KEY);
    expect(sessionsStarted).toBe(0); // the probe never starts a (billed) session
  });

  it('a closed port: connection refused, the fix, exit 20 (--no-audio, --json)', async () => {
    const port = await closedPort();
    const run = await cli(['doctor', '--no-audio', '--json', '--url', `ws://127.0.0.1:${port}/waves/v1/s2s`]);
    expect(run.code).toBe(20);
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.find((e) => e.name === 'endpoint')).toMatchObject({ status: 'fail', fix: expect.stringContaining(`hydra-chat simulate --port ${port}`) });
    // A local endpoint needs no key.
    expect(events.find((e) => e.name === 'api key')).toMatchObject({ status: 'ok' });
    expect(events.at(-1)).toMatchObject({ event: 'doctor', ok: false, blocking: ['endpoint'] });
  });

  it('a remote endpoint without a key: the key blocks', async () => {
    const run = await cli(['doctor', '--no-audio', '--url', 'wss://doctor.invalid/waves/v1/s2s']);
    expect(run.code).toBe(20);
    expect(run.stdout).toMatch(/^✗ api key\s+no API key\n {2}fix: export SMALLEST_API_KEY=/m);
    expect(run.stdout).toMatch(/^✗ dns\s+cannot resolve doctor\.invalid/m);
  });

  it('the PortAudio addon missing: the command that builds it', async () => {
    const run = await cli(['doctor', '--url', simulator.url], { HYDRA_CHAT_NAUDIODON: '/nonexistent/naudiodon.node' });
    expect(run.code).toBe(20);
    expect(run.stdout).toMatch(/^✗ portaudio\s+.*\n {2}fix: .*npm rebuild naudiodon/m);
  });
});

describe('hydra-chat doctor with virtual sound devices', () => {
  let audio: VirtualAudio;
  beforeAll(async () => {
    audio = await startVirtualAudio();
  }, 30_000);
  afterAll(async () => audio?.stop());

  it('microphone and speaker open; ready for live chat, exit 0', async () => {
    const run = await cli(['doctor', '--url', simulator.url], { ...audio.env, SMALLEST_API_KEY: KEY });
    expect(run.stdout).toMatch(/^✓ microphone\s+"\S.*" opens$/m);
    expect(run.stdout).toMatch(/^✓ speaker\s+"\S.*" opens$/m);
    expect(run.stdout).toMatch(/^. echo test/m);
    expect(run.stdout).toMatch(/^ready for live chat$/m);
    expect(run.code).toBe(0);
  });

  it('with the speaker looped into the mic, the echo test measures the path and gives its advice', async () => {
    const undo = await audio.echo(100);
    try {
      const run = await cli(['doctor', '--json', '--url', simulator.url], { ...audio.env, SMALLEST_API_KEY: KEY });
      const checks = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; name?: string; status?: string; detail?: string });
      const echo = checks.find((check) => check.event === 'check' && check.name === 'echo test');
      // The path is found and measured (0 dB loopback: coupling near 0 dB). The advice is the canceller,
      // or headphones when the freshly loaded loopback still moves and the canceller falls short (a warning).
      expect(echo?.detail).toMatch(/^delay \d+ ms · coupling -?\d+(\.\d)? dB · ERLE -?\d+(\.\d)? dB → (speakers: --echo cancel|echo too strong: use headphones)$/);
      expect(Number(/coupling (-?[\d.]+) dB/.exec(echo!.detail!)![1])).toBeGreaterThan(-6);
      expect(echo?.status).toBe(echo?.detail?.endsWith('--echo cancel') ? 'ok' : 'warn');
      expect(run.code).toBe(0);
    } finally {
      await undo();
    }
  }, 30_000);

  it('a device name that matches nothing is a failure naming the devices', async () => {
    const run = await cli(['doctor', '--url', simulator.url, '--input-device', 'no-such-mic'], audio.env);
    expect(run.code).toBe(20);
    expect(run.stdout).toMatch(/^✗ microphone\s+.*no-such-mic/m);
  });
});
