import { Gateway } from '../../app/gateway.ts';
import { defaultConfig, type GatewayConfig } from '../../app/config.ts';
import { createLogger } from '../../src/logger.ts';

/** An in-process gateway on free loopback ports. */
export async function startGateway(overrides: Partial<GatewayConfig> = {}): Promise<{ gateway: Gateway; httpUrl: string; wsUrl: string; rtmpUrl: string; stop: () => Promise<void> }> {
  const config: GatewayConfig = {
    ...defaultConfig(),
    host: '127.0.0.1',
    port: 0,
    rtmpPort: 0,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    logFormat: 'json',
    ...overrides,
  };
  const gateway = new Gateway(config, createLogger(config.logLevel, config.logFormat));
  const ports = await gateway.start();
  return {
    gateway,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    wsUrl: `ws://127.0.0.1:${ports.http}`,
    rtmpUrl: `rtmp://127.0.0.1:${ports.rtmp}`,
    stop: () => gateway.close(),
  };
}

/** Fails a hung await with a clear message instead of the test timeout. */
export async function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
