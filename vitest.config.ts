import { defineConfig } from 'vitest/config';

/**
 * The one unhandled error we tolerate: @moq/lite 0.2.2 bundles @moq/qmux 0.0.6, whose client
 * enqueues frames the server already sent onto a receive stream the test client has closed
 * (`Controller is already closed`). It is a bug in that published test client, not in the
 * gateway; anything else unhandled still fails the run.
 */
function isKnownClientBug(error: { code?: string; stack?: string; stacks?: { file: string }[] }): boolean {
  const inBundledQmux = (text: string | undefined) => text?.includes('@moq/lite/node_modules/@moq/qmux') ?? false;
  return error.code === 'ERR_INVALID_STATE' && (inBundledQmux(error.stack) || (error.stacks ?? []).some((frame) => inBundledQmux(frame.file)));
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/fast-check-seed.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests start servers, ffmpeg and Chromium: keep the 2-core CI machine from thrashing.
    maxWorkers: 2,
    reporters: ['default'],
    onUnhandledError: (error) => !isKnownClientBug(error as Parameters<typeof isKnownClientBug>[0]),
  },
});
