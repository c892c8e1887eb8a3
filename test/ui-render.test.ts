/**
 * The screen as pure functions of state: events fold into UiState (ui/state.ts), UiState renders
 * to text (ui/render.ts). No terminal, no clock: every call gets `now`. Plus the plain view end to
 * end with a fake output and a fake keyboard.
 */
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../src/chat.js';
import { HydraError } from '../src/errors.js';
import { createOutput } from '../src/ui/output.js';
import {
  fit,
  renderHeader,
  renderInfo,
  renderLogEntry,
  renderMeter,
  renderStatus,
  renderSummary,
  statusLabel,
  visibleLength,
} from '../src/ui/render.js';
import { flushLog, initialUiState, setLevels, setMuted, stepEvent, type LogEntry, type UiState } from '../src/ui/state.js';
import { createView, type KeyInput } from '../src/ui/view.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });
const header = { model: 'hydra-v1.1', voice: 'reed', url: 'wss://api.example/waves/v1/s2s?api_key=***', tools: ['get_weather'], mock: false };

function fold(events: ChatEvent[], options: { verbose?: boolean; start?: UiState } = {}): { state: UiState; log: LogEntry[]; text: string[] } {
  let state = options.start ?? initialUiState(header, { now: 0, verbose: options.verbose ?? false });
  const log: LogEntry[] = [];
  events.forEach((event, index) => {
    const step = stepEvent(state, event, (index + 1) * 100);
    state = step.state;
    log.push(...step.log);
  });
  const text = log.map((entry) => renderLogEntry(entry, { chalk: plain, startedAt: 0, timestamps: false }));
  return { state, log, text };
}

const note = (n: Extract<ChatEvent, { type: 'note' }>['note']): ChatEvent => ({ type: 'note', note: n });
const phase = (p: 'listening' | 'user-speaking' | 'thinking' | 'responding' | 'running-tool'): ChatEvent => ({ type: 'connection', detail: { status: 'phase', phase: p } });

describe('state: events → what the screen knows', () => {
  it('follows the connection and updates the header when connected and configured', () => {
    const { state, text } = fold([
      { type: 'connection', detail: { status: 'connecting', attempt: 0 } },
      { type: 'connection', detail: { status: 'connected', sessionId: 'sess-1234abcd-5678' } },
      note({ kind: 'configured', voice: 'reed', outputSampleRate: 24000, tools: 1 }),
    ]);
    expect(state.header).toMatchObject({ sessionId: 'sess-1234abcd-5678', outputRate: 24000, serverTools: 1 });
    expect(state.activity).toBe('listening');
    expect(text).toEqual([
      'connecting to wss://api.example/waves/v1/s2s?api_key=***',
      'connected · session sess-1234abcd-5678',
      'configured · voice reed · output 24000 Hz · 1 tool',
    ]);
  });

  it('walks the status through a turn: listening → you’re speaking → thinking → speaking', () => {
    let state = fold([note({ kind: 'configured', outputSampleRate: 48000, tools: 0 })]).state;
    expect(statusLabel(state, 0)).toBe('listening');
    state = fold([phase('user-speaking')], { start: state }).state;
    expect(statusLabel(state, 0)).toBe("you're speaking");
    state = fold([phase('thinking')], { start: state }).state;
    expect(statusLabel(state, 0)).toBe('thinking');
    state = fold([phase('responding')], { start: state }).state;
    expect(statusLabel(state, 0)).toBe('speaking');
    // The server finished sending, the speaker still plays: still speaking, then listening.
    state = setLevels(fold([phase('listening')], { start: state }).state, { inputDb: -100, outputDb: -20, playing: true });
    expect(statusLabel(state, 0)).toBe('speaking');
    expect(statusLabel(setLevels(state, { inputDb: -100, outputDb: -100, playing: false }), 0)).toBe('listening');
  });

  it('counts down a server-full retry', () => {
    const { state, text } = fold([
      { type: 'connection', detail: { status: 'retrying', why: 'server-full', inMs: 4000, attempt: 1, error: new HydraError('server-full', 'full') } },
    ]);
    expect(text).toEqual(['server full · retrying in 4.0 s (attempt 2)']);
    // The event was folded at now = 100, so the next attempt is due at 4100.
    expect(statusLabel(state, 100)).toBe('server full · retrying in 4 s');
    expect(statusLabel(state, 2200)).toBe('server full · retrying in 2 s');
    expect(statusLabel(state, 4100)).toBe('server full · retrying in 0 s');
    const again = fold([{ type: 'connection', detail: { status: 'connecting', attempt: 1 } }], { start: state });
    expect(statusLabel(again.state, 0)).toBe('reconnecting (attempt 2)');
    expect(again.state.retry).toBeNull();
  });

  it('logs a key interruption with how much of the reply was dropped, once', () => {
    const { state, text } = fold([
      { type: 'played', responseId: 'resp_1', playedMs: 400, droppedMs: 1234, reason: 'key' },
      note({ kind: 'interrupted', responseId: 'resp_1', by: 'key' }),
      note({ kind: 'response-done', responseId: 'resp_1', status: 'cancelled', reason: 'client_cancelled' }),
    ]);
    expect(text).toEqual(['you interrupted · 1.2 s of reply dropped (0.4 s played)', 'reply cancelled (client cancelled)']);
    expect(state.stats.interruptions).toBe(1);
  });

  it('a barge-in before any audio played still counts; space with nothing playing says so', () => {
    const early = fold([note({ kind: 'interrupted', responseId: 'resp_2', by: 'user' })]);
    expect(early.text).toEqual(['you interrupted (barge-in) · before the reply played']);
    expect(early.state.stats.interruptions).toBe(1);
    const idle = fold([{ type: 'played', responseId: 'resp_1', playedMs: 1600, droppedMs: 0, reason: 'key' }]);
    expect(idle.text).toEqual(['nothing to interrupt']);
    expect(idle.state.stats.interruptions).toBe(0);
  });

  it('shows tool calls: arguments streaming in the status, then the call, the result with its time, and the §9.2 turn', () => {
    let { state } = fold([
      note({ kind: 'tool-args', callId: 'c1', name: 'get_weather', argumentsText: '{"city":"Pa' }),
      phase('running-tool'),
    ]);
    expect(statusLabel(state, 300)).toBe('running tool get_weather ◂ {"city":"Pa');
    const call = fold([note({ kind: 'tool-call', callId: 'c1', name: 'get_weather', argumentsText: '{"city":"Paris"}' })], { start: state });
    state = call.state;
    expect(call.text).toEqual(['tool get_weather({"city":"Paris"})']);
    expect(statusLabel(state, 1600)).toBe('running tool get_weather · 1.5 s');
    const long = 'x'.repeat(300);
    const done = fold(
      [
        note({ kind: 'tool-result', callId: 'c1', name: 'get_weather', ok: true, output: long, durationMs: 12.4 }),
        { type: 'metric', turn: 1, metric: { kind: 'tool', v2vMs: 900, tool: { argsStartMs: 310, argsDoneMs: 420, toolRunMs: 12, outputsSentMs: 440, responseCreateMs: 640, narrationStartMs: 900 } } },
      ],
      { start: state },
    );
    expect(done.text[0]).toBe(`tool get_weather ✓ 12 ms → ${'x'.repeat(119)}…`);
    expect(done.text[1]).toBe('hydra  ▸ replying after tools · V2V 900 ms (args start 310 ms · args done 420 ms · tool 12 ms · narration 900 ms)');
    expect(done.state.tools).toEqual([]);
    expect(done.state.stats).toMatchObject({ toolCalls: 1, turns: 1, v2v: [900] });
    const failed = fold([note({ kind: 'tool-result', callId: 'c2', name: 'lookup', ok: false, output: '{"error":"boom"}', durationMs: 3 })]);
    expect(failed.text).toEqual(['tool lookup ✗ 3 ms → {"error":"boom"}']);
    expect(failed.state.stats.toolErrors).toBe(1);
  });

  it('logs usage tokens, noise, server warnings and errors in plain words', () => {
    const { text, state } = fold([
      note({ kind: 'response-done', responseId: 'r', status: 'completed', usage: { input_tokens: 40, output_tokens: 70, total_tokens: 110 } }),
      note({ kind: 'noise-discarded' }),
      note({ kind: 'warning', code: 'model_deprecated', message: "model 'hydra' is deprecated; use hydra-v1.0" }),
      note({ kind: 'server-error', code: 'tool_response_timeout', message: 'no tool output within 10000 ms' }),
      note({ kind: 'server-error', code: 'weird_thing', message: '' }),
    ]);
    expect(text[0]).toBe('response done · 110 tokens (40 in, 70 out)');
    expect(text[1]).toBe('noise ignored · the server discarded that turn');
    expect(text[2]).toBe("warning: model 'hydra' is deprecated; use hydra-v1.0");
    expect(text[3]).toBe(
      'server error: the server stopped waiting for a tool result (the tool took too long) — no tool output within 10000 ms (tool_response_timeout)',
    );
    expect(text[4]).toBe('server error: weird thing (weird_thing)');
    expect(state.stats).toMatchObject({ tokens: 110, noise: 1 });
  });

  it('joins assistant transcript deltas into one line at the end of the response (not twice)', () => {
    const { text } = fold([
      note({ kind: 'response-started', responseId: 'r1' }),
      note({ kind: 'transcript', role: 'assistant', text: 'Hello!' }),
      note({ kind: 'transcript', role: 'assistant', text: ' How can I help?' }),
      note({ kind: 'transcript', role: 'assistant', text: 'Hello! How can I help?' }), // item.done repeats it
      note({ kind: 'response-done', responseId: 'r1', status: 'completed' }),
      note({ kind: 'transcript', role: 'user', text: 'what is the weather ' }),
    ]);
    expect(text).toEqual(['hydra  ▸ “Hello! How can I help?”', 'you    ▸ “what is the weather”']);
  });

  it('labels the greeting: a reply that came before the user said anything', () => {
    const { text } = fold([
      note({ kind: 'response-started', responseId: 'g' }),
      note({ kind: 'response-done', responseId: 'g', status: 'completed', usage: { input_tokens: 40, output_tokens: 80, total_tokens: 120 } }),
      note({ kind: 'speech-stopped' }),
      note({ kind: 'response-started', responseId: 'r' }),
      note({ kind: 'response-done', responseId: 'r', status: 'completed' }),
    ]);
    expect(text).toEqual(['hydra  ▸ greeting', 'response done · 120 tokens (40 in, 80 out)', 'you    ▸ (turn ended)']);
  });

  it('--verbose: every frame type with its time, runs of audio frames folded into one line', () => {
    const frame = (direction: 'in' | 'out', type: string, at: number, extra: Record<string, unknown> = {}): ChatEvent => ({
      type: 'frame',
      direction,
      at,
      frame: { type, ...extra },
    });
    const events = [
      frame('out', 'session.configure', 12, { session: { voice: 'reed' } }),
      frame('in', 'response.output_audio.delta', 1500, { response_id: 'r', delta: '<3840 bytes>' }),
      frame('in', 'response.output_audio.delta', 1540, { response_id: 'r', delta: '<3840 bytes>' }),
      frame('in', 'response.output_audio.done', 1600, { response_id: 'r' }),
      frame('out', 'input_audio_buffer.append', 1620, { audio: '<640 bytes>' }),
    ];
    const { state, text } = fold(events, { verbose: true });
    expect(text).toEqual([
      '→ 0:00.0 session.configure {"session":{"voice":"reed"}}',
      '← 0:01.5 response.output_audio.delta ×2 (7680 bytes of audio)',
      '← 0:01.6 response.output_audio.done {"response_id":"r"}',
    ]);
    expect(flushLog(state).log.map((entry) => entry.text)).toEqual(['→ 0:01.6 input_audio_buffer.append (640 bytes of audio)']);
    expect(fold(events).text).toEqual([]); // not without --verbose
  });
});

describe('render: state → text', () => {
  const base = initialUiState(header, { now: 0, verbose: false });

  it('renders the header with model, voice, redacted endpoint and tools', () => {
    expect(renderHeader(base, plain)).toEqual([
      'hydra-chat · model hydra-v1.1 · voice reed · wss://api.example/waves/v1/s2s?api_key=***',
      'tools get_weather',
    ]);
    expect(renderHeader({ ...base, header: { ...header, tools: [], mock: true } }, plain)).toEqual([
      'hydra-chat · model hydra-v1.1 · voice reed · wss://api.example/waves/v1/s2s?api_key=*** (simulator)',
    ]);
  });

  it('meters move with the level', () => {
    expect(renderMeter(-100, 10)).toBe('··········');
    expect(renderMeter(-30, 10)).toBe('█████·····');
    expect(renderMeter(0, 10)).toBe('██████████');
    expect(renderMeter(6, 10)).toBe('██████████');
  });

  it('the status line: activity, both meters, elapsed time; MUTED replaces the mic meter', () => {
    const state = setLevels({ ...base, activity: 'listening' }, { inputDb: -30, outputDb: -100 });
    const line = renderStatus(state, { chalk: plain, now: 65_000, width: 120 });
    expect(line).toMatch(/^listening\s+mic ██████······  -30 dB {2}out ············ {3}-∞ dB {2}1:05$/);
    const muted = renderStatus(setMuted(state, true, 0).state, { chalk: plain, now: 65_000, width: 120 });
    expect(muted).toMatch(/mic {2}MUTED {6}/);
    expect(muted).not.toContain('-30 dB');
  });

  it('never draws wider than the terminal, with or without colour', () => {
    const state = { ...base, activity: 'running-tool' as const, tools: [{ callId: 'c', name: 'a_very_long_tool_name', args: '{"q":"' + 'y'.repeat(200), status: 'streaming' as const, since: 0 }] };
    for (const chalk of [plain, colour]) {
      for (const width of [40, 80, 120]) {
        expect(visibleLength(renderStatus(state, { chalk, now: 0, width }))).toBeLessThanOrEqual(width - 2);
        expect(visibleLength(renderInfo(state, { chalk, width }))).toBeLessThanOrEqual(width - 1);
      }
    }
    expect(fit('\x1b[1mabcdef\x1b[22m', 4)).toBe('\x1b[1mabc…\x1b[0m');
  });

  it('the info line: session, rate, tools and keys', () => {
    const state = fold([
      { type: 'connection', detail: { status: 'connected', sessionId: '1175ef98-044b-4a8c' } },
      note({ kind: 'configured', voice: 'reed', outputSampleRate: 48000, tools: 1 }),
    ]).state;
    expect(renderInfo(state, { chalk: plain, width: 200 })).toBe(
      '  hydra-v1.1 · voice reed · session 1175ef98 · 48 kHz out · tools: get_weather  │  m mute · space interrupt · q quit · ? help',
    );
  });

  it('the exit summary: duration, turns, median/max V2V, tool calls, interruptions, recording', () => {
    const state: UiState = { ...base, stats: { v2v: [300, 500, 400], turns: 3, toolCalls: 1, toolErrors: 0, interruptions: 2, tokens: 0, noise: 0 } };
    const text = renderSummary(state, { reason: 'user-quit', sessionId: 's', turns: 3 }, { now: 42_000, chalk: plain, recordingPath: 'talk.wav' });
    expect(text).toBe('summary · 42.0 s · 3 turns · V2V median 400 ms, max 500 ms · 1 tool call · 2 interruptions · recording: talk.wav');
    const empty = renderSummary(base, { reason: 'user-quit', sessionId: '', turns: 0 }, { now: 1000, chalk: plain });
    expect(empty).toBe('summary · 1.0 s · 0 turns · no measured turns · 0 tool calls · 0 interruptions');
  });

  it('colour only when asked: no escape codes from a level-0 chalk', () => {
    const { log } = fold([
      { type: 'played', responseId: 'r', playedMs: 1, droppedMs: 900, reason: 'speech-started' },
      note({ kind: 'tool-result', callId: 'c', name: 't', ok: true, output: 'ok', durationMs: 1 }),
      note({ kind: 'server-error', code: 'x', message: 'y' }),
    ]);
    for (const entry of log) {
      expect(renderLogEntry(entry, { chalk: plain, startedAt: 0, timestamps: true })).not.toContain('\x1b');
      expect(renderLogEntry(entry, { chalk: colour, startedAt: 0, timestamps: true })).toContain('\x1b[');
    }
    expect(renderLogEntry(log[0]!, { chalk: plain, startedAt: 0, timestamps: true })).toBe('0:00.1 you interrupted (barge-in) · 0.9 s of reply dropped (0.0 s played)');
  });

  it('a barge-in on a speaker says when it went silent (issue 15); without a device it does not', () => {
    const { log } = fold([
      { type: 'played', responseId: 'r', playedMs: 1, droppedMs: 900, reason: 'speech-started', residueMs: 14, outputLatencyMs: 40, silentAfterMs: 54 },
      { type: 'played', responseId: 's', playedMs: 1, droppedMs: 900, reason: 'key', residueMs: 0, outputLatencyMs: null, silentAfterMs: null },
    ]);
    expect(renderLogEntry(log[0]!, { chalk: plain, startedAt: 0, timestamps: false })).toMatch(/^you interrupted \(barge-in\) · silent after 54 ms · 0\.9 s of reply dropped/);
    expect(renderLogEntry(log[1]!, { chalk: plain, startedAt: 0, timestamps: false })).toMatch(/^you interrupted · 0\.9 s of reply dropped/);
  });

  it('single events render on their own (the deprecation hint included)', () => {
    const start = initialUiState({ ...header, model: 'hydra' }, { now: 0, verbose: false });
    const { text } = fold([note({ kind: 'warning', code: 'model_deprecated', message: "model 'hydra' is deprecated" }), { type: 'metric', turn: 1, metric: { kind: 'plain', v2vMs: 301.4 } }], { start });
    expect(text[0]).toContain('--model hydra-v1.0');
    expect(text[1]).toBe('hydra  ▸ replying · V2V 301 ms');
  });
});

describe('the plain view (not a TTY) with a keyboard', () => {
  function fakeKeys(): KeyInput & { raw: boolean[]; press(key: string): void; listening(): number } {
    const listeners = new Set<(data: Buffer) => void>();
    const raw: boolean[] = [];
    return {
      isTTY: true,
      raw,
      setRawMode: (mode: boolean) => raw.push(mode),
      on: (_event, listener) => listeners.add(listener),
      off: (_event, listener) => listeners.delete(listener),
      resume: () => undefined,
      pause: () => undefined,
      press: (key) => {
        for (const listener of [...listeners]) listener(Buffer.from(key));
      },
      listening: () => listeners.size,
    };
  }

  it('prints one plain line per event, handles m / space / ? / q / Ctrl-C, and restores raw mode on close', () => {
    let written = '';
    const out = createOutput({ stdout: { write: (text: string) => (written += text) }, stderr: { write: () => undefined }, json: false, color: false, quiet: false });
    const keys = fakeKeys();
    let clock = 0;
    let raised = 0;
    const view = createView({ out, input: keys, verbose: false, header, now: () => clock, raiseInterrupt: () => (raised += 1) });
    let muted = false;
    let interrupts = 0;
    let quits = 0;
    view.attach({ interrupt: () => (interrupts += 1), toggleMute: () => (muted = !muted), quit: () => (quits += 1), levels: () => ({ inputDb: -100, outputDb: -100 }) });
    expect(keys.raw).toEqual([true]);
    clock = 500;
    view.observe({ type: 'metric', turn: 1, metric: { kind: 'plain', v2vMs: 420 } });
    keys.press('m');
    expect(view.state().muted).toBe(true);
    keys.press(' ');
    keys.press('?');
    keys.press('q');
    keys.press('q');
    keys.press('\u0003');
    keys.press('\x1b[A'); // an arrow key: ignored
    expect({ interrupts, quits, raised, muted }).toEqual({ interrupts: 1, quits: 1, raised: 1, muted: true });
    view.summary({ reason: 'user-quit', sessionId: 's', turns: 1 }, { recordingPath: 'r.wav' });
    expect(keys.raw).toEqual([true, false]);
    expect(keys.listening()).toBe(0);
    view.close(); // twice is fine
    expect(written).not.toContain('\x1b');
    expect(written.split('\n')).toEqual([
      'hydra-chat · model hydra-v1.1 · voice reed · wss://api.example/waves/v1/s2s?api_key=***',
      'tools get_weather',
      'hydra  ▸ replying · V2V 420 ms',
      'muted · the mic sends silence until you press m again',
      'keys:',
      '  m      mute / unmute the microphone (silence keeps streaming)',
      '  space  interrupt the model now',
      '  q      quit (Ctrl-C too)',
      '  ?      this help',
      'quitting…',
      'summary · 0.5 s · 1 turn · V2V median 420 ms, max 420 ms · 0 tool calls · 0 interruptions · recording: r.wav',
      '',
    ]);
  });

  it('--quiet prints nothing but still takes keys', () => {
    let written = '';
    const out = createOutput({ stdout: { write: (text: string) => (written += text) }, stderr: { write: () => undefined }, json: false, color: false, quiet: true });
    const keys = fakeKeys();
    const view = createView({ out, input: keys, verbose: false, header });
    let muted = false;
    view.attach({ interrupt: () => undefined, toggleMute: () => (muted = !muted), quit: () => undefined, levels: () => ({ inputDb: -100, outputDb: -100 }) });
    view.observe({ type: 'metric', turn: 1, metric: { kind: 'plain', v2vMs: 420 } });
    keys.press('m');
    view.summary({ reason: 'user-quit', sessionId: 's', turns: 1 }, {});
    expect(muted).toBe(true);
    expect(written).toBe('');
    expect(out.interactive).toBe(false);
  });
});

describe('server and model text cannot drive the terminal (issue 13 item 9)', () => {
  const HOSTILE = [
    '\x1b]0;pwned title\x07', // window title
    '\x1b]52;c;ZWNobyBwd25lZA==\x07', // OSC 52 clipboard write
    '\x1b[2J\x1b[H', // clear the screen, cursor home
    '\x1bc', // full reset
    '\x9b31m', // 8-bit CSI
    '\x9d0;eight-bit title\x9c', // 8-bit OSC … ST
    '\x1bP+q544e\x1b\\', // DCS
    '\r\b\x07\x00\x7f', // bare controls
  ].join('');
  const ESCAPES = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
  const rendered = (events: ChatEvent[], chalk = plain): string =>
    fold(events).log.map((entry) => renderLogEntry(entry, { chalk, startedAt: 0, timestamps: true })).join('\n');

  it.each<[string, ChatEvent]>([
    ['an error message', note({ kind: 'server-error', code: 'weird', message: `bad${HOSTILE}thing`, param: `p${HOSTILE}` })],
    ['a warning', note({ kind: 'warning', code: 'w', message: `careful${HOSTILE}` })],
    ['a user transcript', note({ kind: 'transcript', role: 'user', text: `hi${HOSTILE}` })],
    ['a tool name and its arguments', note({ kind: 'tool-call', callId: 'c', name: `get${HOSTILE}`, argumentsText: `{"a":"${HOSTILE}"}` })],
    ['a tool result', note({ kind: 'tool-result', callId: 'c', name: `t${HOSTILE}`, ok: false, output: `invalid arguments: ${HOSTILE}`, durationMs: 3 })],
    ['an anomaly', note({ kind: 'anomaly', key: 'k', message: `ignored a malformed frame (x${HOSTILE}): y` })],
    ['a session id', { type: 'connection', detail: { status: 'connected', sessionId: `sess${HOSTILE}` } }],
  ])('%s: no escape sequence or control character survives, the words do', (_name, event) => {
    for (const chalk of [plain, colour]) {
      const text = rendered([event], chalk).replace(/\x1b\[[0-9;]*m/g, ''); // chalk's own colours are ours
      expect(text).not.toMatch(ESCAPES);
      expect(text).not.toMatch(/pwned title|ZWNob|eight-bit title/);
    }
  });

  it('the assistant transcript and the live status and info lines are cleaned too', () => {
    const text = rendered([note({ kind: 'response-started', responseId: 'r' }), note({ kind: 'transcript', role: 'assistant', text: `Sure${HOSTILE}.` }), note({ kind: 'response-done', responseId: 'r', status: 'completed' })]);
    expect(text).toContain('Sure');
    expect(text).not.toMatch(ESCAPES);
    const { state } = fold([
      { type: 'connection', detail: { status: 'connected', sessionId: `\x1b]0;x\x07abcdefgh` } },
      note({ kind: 'configured', voice: `reed${HOSTILE}`, outputSampleRate: 24000, tools: 0 }),
      note({ kind: 'tool-args', callId: 'c', name: `get${HOSTILE}`, argumentsText: `{${HOSTILE}` }),
      phase('running-tool'),
    ]);
    expect(renderStatus(state, { chalk: plain, now: 0, width: 200 })).not.toMatch(ESCAPES);
    expect(renderInfo(state, { chalk: plain, width: 200 })).not.toMatch(ESCAPES);
    expect(renderHeader(state, plain).join('\n')).not.toMatch(ESCAPES);
  });

  it('a line break in server text cannot start a line of its own (a forged "hydra ▸" or log line)', () => {
    const forged = 'hydra  ▸ “please read me your card number”';
    for (const breaker of ['\n', '\r\n', '\u2028', '\u2029']) {
      const text = rendered([
        note({ kind: 'server-error', code: 'x', message: `oops${breaker}${forged}` }),
        note({ kind: 'transcript', role: 'user', text: `hello${breaker}${forged}` }),
        note({ kind: 'warning', code: 'w', message: `careful${breaker}${forged}` }),
      ]);
      expect(text.split('\n')).toHaveLength(3);
      expect(text).not.toMatch(/[\u2028\u2029]/);
      expect(text).toContain(`oops ${forged}`);
    }
    // The status line stays one line when a tool name carries one.
    const { state } = fold([note({ kind: 'tool-args', callId: 'c', name: 'get\nfake\u2028line', argumentsText: '{}' }), phase('running-tool')]);
    expect(renderStatus(state, { chalk: plain, now: 0, width: 120 })).toMatch(/^running tool get fake line ◂ \{\}/);
  });

  it('bidi controls are dropped: an override cannot show server text in another order than it was sent', () => {
    // U+202E turns "‮gnp.exe" into "exe.png" on screen; isolates and embeddings can reorder whole lines.
    const bidi = '\u202egnp.exe \u2066x\u2069 \u202ay\u202c \u200f\u200e\u061c';
    const text = rendered([
      note({ kind: 'server-error', code: 'x', message: bidi }),
      note({ kind: 'transcript', role: 'user', text: bidi }),
      note({ kind: 'tool-result', callId: 'c', name: 't', ok: true, output: bidi, durationMs: 1 }),
    ]);
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/);
    expect(text).toContain('gnp.exe x y');
    const { state } = fold([note({ kind: 'configured', voice: `reed${bidi}`, outputSampleRate: 24000, tools: 0 })]);
    expect(renderInfo(state, { chalk: plain, width: 200 }) + renderHeader(state, plain).join('\n')).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it('a tool result cut for the log never ends in half an emoji (a lone surrogate is drawn as �)', () => {
    for (const at of [117, 118, 119]) {
      const text = rendered([note({ kind: 'tool-result', callId: 'c', name: 't', ok: true, output: `${'a'.repeat(at)}🎙️🎙️🎙️`, durationMs: 1 })]);
      expect(text).toMatch(/a🎙?…$|a🎙️?…$/u);
      expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    }
  });

  it('wide characters (CJK, emoji) count two columns: the status and info lines never wrap', () => {
    // The oracle: every character here is either ASCII-ish (one column) or CJK / an emoji picture (two).
    const columns = (text: string): number => [...text].reduce((sum, char) => sum + (/[\u3040-\u30ff\u4e00-\u9fff]|\p{Emoji_Presentation}/u.test(char) ? 2 : 1), 0);
    const { state } = fold([
      note({ kind: 'configured', voice: '日本語の声'.repeat(10), outputSampleRate: 24000, tools: 0 }),
      note({ kind: 'tool-args', callId: 'c', name: '天気を調べる'.repeat(5), argumentsText: '{"city":"東京🗼"}' }),
      phase('running-tool'),
    ]);
    for (const width of [40, 80, 120]) {
      const status = renderStatus(state, { chalk: plain, now: 0, width });
      const info = renderInfo(state, { chalk: plain, width });
      expect(columns(status), status).toBeLessThanOrEqual(width - 2);
      expect(columns(info), info).toBeLessThanOrEqual(width - 1);
      // Cut to fit, but not emptied: the line is at most one column short (a wide character did not fit).
      expect(columns(info)).toBeGreaterThanOrEqual(width - 2);
      if (width >= 80) expect(status).toMatch(/running tool 天気/);
    }
    expect(fit('日本語', 4)).toBe('日…');
    expect(fit('ab日本', 4)).toBe('ab…');
    expect(visibleLength('日本🗼a')).toBe(7);
  });

  it('each printed field is capped with "… (N more)"; a transcript gets a longer cap', () => {
    const huge = 'A'.repeat(1024 * 1024);
    const error = rendered([note({ kind: 'server-error', code: 'x', message: huge })]);
    expect(error.length).toBeLessThan(700);
    expect(error).toMatch(/… \(\d+ more\)/);
    const said = rendered([note({ kind: 'transcript', role: 'user', text: 'word '.repeat(300) })]);
    expect(said).not.toContain('more)');
  });

  it('plain errors and warnings through Output are cleaned; --json keeps the full value, escaped', () => {
    const stderr: string[] = [];
    const stdout: string[] = [];
    const out = createOutput({ stdout: { write: (t: string) => stdout.push(t) }, stderr: { write: (t: string) => stderr.push(t) }, json: true, color: false, quiet: false });
    out.error(`the server closed the connection (code 4000: ${HOSTILE})`, `hint${HOSTILE}`);
    out.warn(`w${HOSTILE}`);
    out.json({ event: 'note', message: `m${HOSTILE}` });
    expect(stderr.join('')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(stdout.join('')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect((JSON.parse(stdout.join('')) as { message: string }).message).toBe(`m${HOSTILE}`);
  });
});
