/**
 * V8 heap policy for a client session. A voice client allocates little once it runs, but loading its
 * modules and opening a session would grow V8's young generation towards its 32 MB maximum, which
 * then stays resident. Growth factor 1 keeps it at its initial size: peak RSS 4–7 MB lower (WAV turn)
 * and 15 MB lower live, with no measurable CPU cost (bench/results.md §5). V8 reads the flag whenever
 * the young generation would grow, so it works when set at run time, before the session's modules
 * load. `simulate`, a server of many sessions that allocates fast, keeps V8's default.
 */
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
