import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests run real sockets, real processes and real-time audio: bounded, but not in milliseconds.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Most of the suite waits on real time (audio paced at real time, simulated replies), not on the
    // CPU: four files side by side on two cores keep the wall time down. The live-audio files, which
    // measure real-time playback (and the echo stage, which reads the real clock), run afterwards on
    // their own (`npm test`).
    maxWorkers: 4,
    minWorkers: 1,
  },
});
