import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests start servers, ffmpeg and Chromium: keep the 2-core CI machine from thrashing.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
