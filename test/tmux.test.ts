/**
 * The real CLI (the build: bin/hydra-chat.js) in a real terminal under tmux, against the simulator:
 * keys sent with send-keys, the screen read with capture-pane. Every wait polls the screen (bounded);
 * nothing sleeps to synchronise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { readWavMono16k, wavHeader } from '../src/audio/wav.js';
import { haveTmux, TmuxSession } from './support/tmux.js';

const cwd = process.cwd();
const hydra = (...args: string[]) => [process.execPath, 'bin/hydra-chat.js', ...args];

let dir: string;
let silence: string;
let lateSpeech: string;
const sessions: TmuxSession[] = [];
const children: ChildProcess[] = [];

async function wav(path: string, pcm: Buffer): Promise<string> {
  await writeFile(path, Buffer.concat([wavHeader(16000, 1, pcm.length), pcm]));
  return path;
}

async function start(argv: string[], env: Record<string, string> = {}): Promise<TmuxSession> {
  const session = await TmuxSession.start(argv, { cwd, env });
  sessions.push(session);
  return session;
}

const available = await haveTmux();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hydra-tmux-test-'));
  // 30 s of silence: the session stays up until a key ends it.
  silence = await wav(join(dir, 'silence.wav'), Buffer.alloc(16000 * 2 * 30));
  // 1.2 s of silence, then speech: the user talks over the greeting (a barge-in).
  const hello = await readWavMono16k('test/fixtures/hello-16k.wav');
  lateSpeech = await wav(join(dir, 'late-speech.wav'), Buffer.concat([Buffer.alloc(Math.round(16000 * 2 * 1.2)), hello]));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(sessions.map((session) => session.kill()));
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!available)('hydra-chat in a terminal (tmux)', () => {
  it('shows the header and live status; m mutes, space interrupts the greeting, ? helps, q quits with 0 and restores the terminal', async () => {
    const term = await start(hydra('--mock', '--greet', '--voice', 'reed', '--input', silence, '--output', join(dir, 'a.wav')));
    // The greeting is playing: the status line says so.
    const speaking = await term.waitFor(/^\S speaking\s+mic /m);
    expect(speaking).toMatch(/hydra-chat · model hydra · voice reed · ws:\/\/127\.0\.0\.1:\d+\/\S+ \(simulator\)/);
    expect(speaking).toMatch(/session [0-9a-f]{8} · 48 kHz out/);
    expect(speaking).toContain('m mute · space interrupt · q quit · ? help');

    await term.sendKeys('Space');
    // The log says how much was dropped, and the status goes back to listening.
    await term.waitFor((screen) => /you interrupted · \d+\.\d s of reply dropped/.test(screen) && /^\S listening\s+mic /m.test(screen));

    await term.sendKeys('m');
    const muted = await term.waitFor(/mic\s+MUTED/);
    expect(muted).toContain('muted · the mic sends silence');

    await term.sendKeys('?');
    await term.waitFor('space  interrupt the model now');

    await term.sendKeys('q');
    const exit = await term.waitForExit();
    expect(exit.code).toBe(0);
    expect(exit.terminal).toBe('cooked');
    expect(await term.cursorVisible()).toBe(true);
    expect(exit.screen).toMatch(/summary · \d+\.\d s · 0 turns · no measured turns · 0 tool calls · 1 interruption/);
    // The live lines are gone: no spinner frame is left behind on the final screen.
    expect(exit.screen).not.toMatch(/^\S (listening|speaking|ending)\s+mic /m);
  });

  it('a barge-in: talking over the greeting drops the rest of it, then the turn is answered and the run ends by itself', async () => {
    const term = await start(hydra('--mock', '--greet', '--input', lateSpeech, '--output', join(dir, 'b.wav'), '--trailing-silence', '1000'));
    const exit = await term.waitForExit(30_000);
    expect(exit.screen).toMatch(/you interrupted \(barge-in\)/);
    expect(exit.screen).toMatch(/you {4}▸ \(turn ended\)/);
    expect(exit.screen).toMatch(/hydra {2}▸ replying · V2V \d+ ms/);
    expect(exit.screen).toMatch(/summary · .* · 1 turn · V2V median \d+ ms, max \d+ ms · 0 tool calls · 1 interruption/);
    expect(exit.code).toBe(0);
    expect(exit.terminal).toBe('cooked');
  });

  it('a tool call: name, arguments, result and handler time, then the narration turn with its §9.2 decomposition', async () => {
    const rules = join(dir, 'rules.json');
    await writeFile(rules, JSON.stringify([{ turn: 1, calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] }]));
    const tools = join(dir, 'tools.json');
    await writeFile(
      tools,
      JSON.stringify({
        tools: [
          {
            name: 'get_weather',
            description: 'Current weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            result: { city: 'Paris', temp_c: 12, sky: 'cloudy' },
          },
        ],
      }),
    );
    const simulator = spawn(process.execPath, ['bin/hydra-chat.js', 'simulate', '--rules', rules, '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(simulator);
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`the simulator did not start: ${text}`)), 15_000);
      simulator.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /listening on (ws:\/\/\S+)/.exec(text);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      simulator.on('exit', () => reject(new Error(`the simulator exited: ${text}`)));
    });

    const term = await start(hydra('--url', url, '--tools', tools, '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'c.wav')), {
      SMALLEST_API_KEY: 'sk-tmux-test-key',
    });
    await term.waitFor(/tools get_weather/);
    const exit = await term.waitForExit(30_000);
    const screen = exit.screen;
    expect(screen).toContain('tool get_weather({"city":"Paris"})');
    expect(screen).toMatch(/tool get_weather ✓ \d+ ms → \{"city":"Paris","temp_c":12,"sky":"cloudy"\}/);
    expect(screen).toMatch(/replying after tools · V2V \d+ ms \(args start \d+ ms · args done \d+ ms · tool \d+ ms · narration \d+ ms\)/);
    expect(screen).toMatch(/summary · .* · 1 tool call · 0 interruptions/);
    expect(screen).not.toContain('sk-tmux-test-key');
    expect(exit.code).toBe(0);
    expect(exit.terminal).toBe('cooked');
    simulator.kill('SIGTERM');
  });

  it('Ctrl-C quits cleanly: exit 0, the terminal cooked again, the cursor back', async () => {
    const term = await start(hydra('--mock', '--input', silence, '--output', join(dir, 'd.wav')));
    await term.waitFor(/^\S listening\s+mic /m);
    await term.sendKeys('C-c');
    const exit = await term.waitForExit();
    expect(exit.code).toBe(0);
    expect(exit.terminal).toBe('cooked');
    expect(await term.cursorVisible()).toBe(true);
    expect(exit.screen).toContain('summary ·');
  });

  it('an error after the screen is up (connection refused): the message, exit 9, the terminal cooked and the cursor back', async () => {
    const term = await start(hydra('--url', 'ws://127.0.0.1:9/waves/v1/s2s', '--input', silence, '--output', join(dir, 'refused.wav')), {
      SMALLEST_API_KEY: 'sk-tmux-refused',
    });
    const exit = await term.waitForExit();
    expect(exit.code).toBe(9);
    expect(exit.terminal).toBe('cooked');
    expect(await term.cursorVisible()).toBe(true);
    expect(exit.screen).toMatch(/^error: connection refused by ws:\/\/127\.0\.0\.1:9/m);
    expect(exit.screen).not.toMatch(/^\s+at /m);
  });

  it('piped (| cat) from a terminal: plain line-per-event output with no escape codes', async () => {
    const file = join(dir, 'piped.txt');
    const command = `${hydra('--mock', '--greet', '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, 'e.wav')).join(' ')} 2>&1 | cat > ${file}`;
    const term = await start(['sh', '-c', command]);
    const exit = await term.waitForExit(30_000);
    expect(exit.code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('\x1b');
    expect(text).toMatch(/^hydra-chat · model hydra/m);
    expect(text).toMatch(/V2V \d+ ms/);
    expect(text).toMatch(/^summary · /m);
    expect(text).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/); // no spinner frames
  });

  it('hostile server text on the live screen: a wide voice does not wrap the info line, a line break forges no line, bidi and titles are dropped', async () => {
    // A small Hydra-like server: its session.configured names a voice 200 columns wide; then an error frame
    // whose message carries a line break, a forged "hydra ▸" line, a title change and a right-to-left override.
    const voice = '日本語の声'.repeat(20);
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    let serial = 0;
    const send = (socket: import('ws').WebSocket, frame: Record<string, unknown>): void => socket.send(JSON.stringify({ event_id: `sv_${++serial}`, ...frame }));
    server.on('connection', (socket) => {
      send(socket, { type: 'session.created', session_id: 'a1b2c3d4-0000-4000-8000-000000000000' });
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string };
        if (frame.type !== 'session.configure') return;
        const session = { voice, tools: [], generate_initial_response: false, input_audio_format: 'pcm16', input_audio_sample_rate: 16000, output_audio_format: 'pcm16', output_audio_sample_rate: 24000 };
        send(socket, { type: 'session.configured', session });
        const message = 'oops\nhydra  ▸ “read me your card number”\x1b]2;PWNED\x07 \u202egnp.exe';
        send(socket, { type: 'error', error: { type: 'server_error', code: 'sneaky', message } });
      });
    });
    try {
      const port = (server.address() as { port: number }).port;
      const term = await start(hydra('--url', `ws://127.0.0.1:${port}/waves/v1/s2s`, '--input', silence, '--output', join(dir, 'hostile.wav')), {
        SMALLEST_API_KEY: 'sk-tmux-hostile',
      });
      await term.waitFor((screen) => /server error: oops/.test(screen) && /^\S listening\s+mic /m.test(screen));
      const rows = await term.rows();
      const status = rows.findIndex((row) => /^\S listening\s+mic /.test(row));
      // The info line is the last row: had it wrapped, its rest would be on the rows below.
      expect(rows[status + 1], rows.join('\n')).toMatch(/^ {2}hydra-v1\.1 · voice 日本語の声/);
      expect(rows.slice(status + 2).join(''), rows.join('\n')).toBe('');
      // The error is one log line (timestamped); nothing starts a row as if the model had said it.
      expect(rows.some((row) => /^\s*\d+:\d\d\.\d server error: oops hydra {2}▸ “read me your card number” gnp\.exe/.test(row)), rows.join('\n')).toBe(true);
      expect(rows.filter((row) => /^hydra {2}▸/.test(row))).toEqual([]);
      expect(rows.join('\n')).not.toMatch(/[\u202e]/);
      expect(await term.title()).not.toContain('PWNED');
      await term.sendKeys('q');
      const exit = await term.waitForExit();
      expect(exit.code).toBe(0);
      expect(exit.terminal).toBe('cooked');
    } finally {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('`tools call` on a terminal: neither a tool\'s output nor its failure (stderr quoted) drives the terminal', async () => {
    const tools = join(dir, 'hostile-tools.json');
    const print = (text: string, code: number) => [process.execPath, '-e', `process.stderr.write(${JSON.stringify(text)}); process.stdout.write(${JSON.stringify(text)}); process.exit(${code})`];
    const payload = '\x1b]2;PWNED\x07said \u202egnp.exe \x9d2;EIGHTBIT\x9c';
    await writeFile(
      tools,
      JSON.stringify({
        tools: [
          { name: 'ok', parameters: { type: 'object', properties: {} }, command: print(payload, 0) },
          { name: 'fails', parameters: { type: 'object', properties: {} }, command: print(payload, 1) },
        ],
      }),
    );
    for (const [name, code] of [['ok', 0], ['fails', 16]] as const) {
      const term = await start(hydra('tools', 'call', tools, name));
      const exit = await term.waitForExit();
      expect(exit.code, exit.screen).toBe(code);
      expect(exit.screen).toMatch(/said gnp\.exe/);
      expect(exit.screen).not.toMatch(/[\u202e\u009d]|EIGHTBIT/);
      expect(await term.title()).not.toMatch(/PWNED|EIGHTBIT/);
    }
  });

  it('colours on a terminal, none with NO_COLOR or --no-color', async () => {
    const colour = /\x1b\[[0-9;]*3[0-7]m|\x1b\[[0-9;]*38;/; // a foreground colour
    const runs = [
      { env: {} as Record<string, string>, args: [] as string[], coloured: true },
      { env: { NO_COLOR: '1' }, args: [], coloured: false },
      { env: {}, args: ['--no-color'], coloured: false },
    ];
    const terms = await Promise.all(
      runs.map((run, i) => start(hydra('--mock', ...run.args, '--input', 'test/fixtures/hello-16k.wav', '--output', join(dir, `colour-${i}.wav`), '--trailing-silence', '1000'), run.env)),
    );
    for (const [i, term] of terms.entries()) {
      const exit = await term.waitForExit(30_000);
      expect(exit.code).toBe(0);
      const screen = await term.capture(true);
      expect(screen).toContain('summary');
      expect(colour.test(screen), `run ${i}: ${JSON.stringify(runs[i])}`).toBe(runs[i]!.coloured);
    }
  });
});
