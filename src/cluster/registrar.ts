/**
 * Writes this node's broadcasts into Redis (records.ts) and reads everyone's back.
 *
 * Ownership: the newest publisher of a name wins. `register` overwrites the key; the heartbeat
 * (`refresh`) only extends a key that is still ours (or recreates it if it vanished, e.g. Redis
 * restarted empty), so two nodes never fight over a name; `unregister` deletes only our own key.
 * Each change is also published on the announce channel so other nodes learn it at once.
 */
import type { Redis } from 'ioredis';
import { type ClusterKeys, decodeAddress, encodeAddress, encodeAnnounce, type NodeAddress, type Registration } from './records.ts';

/** SET if absent (→ 2) or ours (→ 1, TTL extended); 0 when another node owns the key. */
const REFRESH_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** DEL only if ours (→ 1). */
const DELETE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

const SCAN_BATCH = 500;

export type RefreshOutcome = 'created' | 'refreshed' | 'taken';

export class Registrar {
  /** Our registration value (what the keys we own hold). */
  readonly #value: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    readonly self: NodeAddress,
    private readonly ttlMs: number,
  ) {
    this.#value = encodeAddress(self);
  }

  /** Claims `path` for this node (a new local broadcast) and announces it. */
  async register(path: string): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.broadcast(path), this.#value, 'PX', this.ttlMs)
      .publish(this.keys.channel, this.#announce(path, true))
      .exec();
  }

  /**
   * Releases `path` if it is still ours and announces the end; false if it was not ours.
   * `as` names an earlier incarnation of this node (same id, maybe another URL) whose key is stale.
   */
  async unregister(path: string, as: NodeAddress = this.self): Promise<boolean> {
    const deleted = await this.redis.eval(DELETE_SCRIPT, 1, this.keys.broadcast(path), encodeAddress(as));
    if (deleted !== 1) return false;
    await this.redis.publish(this.keys.channel, encodeAnnounce({ ...as, path, active: false }));
    return true;
  }

  /** Heartbeat for our live broadcasts; recreated keys are announced again. */
  async refresh(paths: readonly string[]): Promise<Map<string, RefreshOutcome>> {
    const outcomes = new Map<string, RefreshOutcome>();
    if (paths.length === 0) return outcomes;
    const pipeline = this.redis.pipeline();
    for (const path of paths) pipeline.eval(REFRESH_SCRIPT, 1, this.keys.broadcast(path), this.#value, String(this.ttlMs));
    const results = (await pipeline.exec()) ?? [];
    const created: string[] = [];
    paths.forEach((path, i) => {
      const [error, value] = results[i] ?? [new Error('no reply'), undefined];
      if (error) throw error;
      const outcome: RefreshOutcome = value === 2 ? 'created' : value === 1 ? 'refreshed' : 'taken';
      outcomes.set(path, outcome);
      if (outcome === 'created') created.push(path);
    });
    if (created.length > 0) {
      const announce = this.redis.pipeline();
      for (const path of created) announce.publish(this.keys.channel, this.#announce(path, true));
      await announce.exec();
    }
    return outcomes;
  }

  /** Every registration in Redis (ours included), at most `limit`. */
  async scan(limit: number): Promise<Registration[]> {
    const found: Registration[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.broadcastPattern(), 'COUNT', SCAN_BATCH);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(keys);
      keys.forEach((key, i) => {
        const path = this.keys.pathOf(key);
        const raw = values[i];
        const address = raw ? decodeAddress(raw) : undefined;
        if (path && address && found.length < limit) found.push({ path, ...address });
      });
    } while (cursor !== '0' && found.length < limit);
    return found;
  }

  #announce(path: string, active: boolean): string {
    return encodeAnnounce({ ...this.self, path, active });
  }
}
