/**
 * The fuzz benchmark (issue 7): at least a million mutated server frames through the frame decoder and
 * the session reducer, in one process. The corpus: the recorded frames in test/fixtures plus those of a
 * live simulator session (tool call, transcripts, warning). Prints one JSON line and a readable summary:
 *   node --import jiti/register bench/fuzz.ts [frames=1000000] [seed=1]
 * Exits 1 if any exception escaped.
 */
import { performance } from 'node:perf_hooks';
import { fuzz, loadCorpus, recordFrames, STATE_CHARS_BOUND } from '../test/support/fuzz.js';

const frames = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const corpus = [...loadCorpus(), ...(await recordFrames())];
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const stats = fuzz({ frames, seed, corpus, measureEvery: 1000 });
const seconds = (performance.now() - t0) / 1000;
const result = {
  frames: stats.frames,
  corpusFrames: corpus.length,
  seconds: Number(seconds.toFixed(1)),
  framesPerSecond: Math.round(stats.frames / seconds),
  decodedEvents: stats.events,
  unknownTypes: stats.unknown,
  invalidFrames: stats.invalid,
  reducerInputs: stats.inputs,
  exceptions: stats.exceptions.length,
  maxStateChars: stats.maxStateChars,
  stateBoundChars: STATE_CHARS_BOUND,
  maxOpenCalls: stats.maxOpenCalls,
  rssGrowthMB: Number(((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toFixed(1)),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.stderr.write(
  `fuzz: ${result.frames} frames in ${result.seconds} s (${result.framesPerSecond}/s): ${result.decodedEvents} valid events, ${result.invalidFrames} invalid, ${result.unknownTypes} unknown types; ` +
    `${result.exceptions} exceptions; state at most ${result.maxStateChars} chars, ${result.maxOpenCalls} open calls\n`,
);
for (const exception of stats.exceptions) process.stderr.write(`  ${exception.where}: ${exception.message}\n    ${exception.frame}\n`);
process.exit(stats.exceptions.length === 0 ? 0 : 1);
