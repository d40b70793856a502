/**
 * The cluster's two Redis connections (commands, and pub/sub which Redis puts in a mode of its
 * own), with the failure behaviour the cluster needs:
 * - at start, Redis must answer within `connectTimeoutMs`, else ClusterError naming the URL;
 * - later, a lost connection is retried forever with capped backoff, and commands issued while
 *   it is down fail at once (no offline queue, so nothing piles up in memory);
 * - `onLost` / `onRestored` fire once per outage, so the owner logs it once and re-registers.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ClusterError } from './errors.ts';

export interface RedisConnectionOptions {
  url: string;
  connectTimeoutMs: number;
  /** Longest wait between reconnect attempts. */
  maxBackoffMs: number;
  onLost(error: string): void;
  onRestored(): void;
}

export class RedisConnection {
  readonly commands: Redis;
  readonly subscriber: Redis;
  #lastError = '';
  #lost = false;
  #closing = false;

  constructor(private readonly options: RedisConnectionOptions) {
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 10), options.maxBackoffMs),
    };
    this.commands = new Redis(options.url, redisOptions);
    this.subscriber = new Redis(options.url, { ...redisOptions, connectionName: 'moq-cluster-sub' });
    for (const client of [this.commands, this.subscriber]) {
      // Without a listener ioredis would throw 'error' events; the state changes are what we report.
      client.on('error', (error: Error) => {
        this.#lastError = error.message || String(error);
      });
    }
    this.commands.on('close', () => {
      if (this.#closing || this.#lost || this.commands.status === 'end') return;
      this.#lost = true;
      this.options.onLost(this.#lastError || 'connection closed');
    });
    this.commands.on('ready', () => {
      if (!this.#lost || this.#closing) return;
      this.#lost = false;
      this.options.onRestored();
    });
  }

  /** True while commands can be sent. */
  get ready(): boolean {
    return this.commands.status === 'ready';
  }

  get status(): 'ready' | 'down' {
    return this.ready ? 'ready' : 'down';
  }

  /** Connects both; ClusterError (and no retrying in the background) when Redis does not answer. */
  async connect(): Promise<void> {
    try {
      await withTimeout(Promise.all([this.commands.connect(), this.subscriber.connect()]), this.options.connectTimeoutMs + 500);
      await this.commands.ping();
    } catch (error) {
      this.disconnect();
      const cause = this.#lastError || (error instanceof Error ? error.message : String(error));
      throw new ClusterError(`cannot reach Redis at ${redactUrl(this.options.url)}: ${cause}`);
    }
  }

  /** Closes both connections: QUIT when possible so Redis frees them at once. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled(
      [this.commands, this.subscriber].map((client) => (client.status === 'ready' ? withTimeout(client.quit(), 1000) : Promise.resolve())),
    );
    this.disconnect();
  }

  disconnect(): void {
    this.#closing = true;
    this.commands.disconnect();
    this.subscriber.disconnect();
  }
}

/** The URL without a password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
