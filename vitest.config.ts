import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests run real sockets, real processes and real-time audio: bounded, but not in milliseconds.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
