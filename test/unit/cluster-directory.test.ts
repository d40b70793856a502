/**
 * The cluster's bookkeeping without Redis: the remote directory's rules (records of other nodes,
 * scans versus messages, suspended expiry after an outage), the Redis record codecs on hostile
 * input, and node tokens.
 */
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { RemoteDirectory } from '../../src/cluster/directory.ts';
import { ClusterKeys, decodeAddress, decodeAnnounce, encodeAddress, encodeAnnounce } from '../../src/cluster/records.ts';
import { nodeTokenSource } from '../../src/cluster/node-token.ts';
import { loadSigningKey } from '../../src/auth/keys.ts';

type Change = [string, string | undefined, string | undefined];

function directory(self = 'me', max?: number): { dir: RemoteDirectory; changes: Change[] } {
  const changes: Change[] = [];
  const dir = new RemoteDirectory(self, (path, previous, next) => changes.push([path, previous?.node, next?.node]), max);
  return { dir, changes };
}

const at = (node: string, path: string, active = true) => ({ node, url: `http://${node}:4443/`, path, active });

describe('RemoteDirectory', () => {
  it('follows messages: a new owner is a change, an end counts only from the owner, own records are ignored', () => {
    const { dir, changes } = directory();
    dir.apply(at('a', 'live/x'));
    dir.apply(at('a', 'live/x')); // repeat: no change
    dir.apply(at('me', 'live/mine'));
    dir.apply(at('b', 'live/x')); // published again elsewhere
    dir.apply(at('a', 'live/x', false)); // the old owner's late end: ignored
    expect(dir.get('live/x')?.node).toBe('b');
    dir.apply(at('b', 'live/x', false));
    expect(dir.get('live/x')).toBeUndefined();
    expect(changes).toEqual([
      ['live/x', undefined, 'a'],
      ['live/x', 'a', 'b'],
      ['live/x', 'b', undefined],
    ]);
  });

  it('scans add and expire, but a message during the scan wins over its snapshot', () => {
    const { dir } = directory();
    dir.beginScan();
    dir.completeScan([at('a', 'one'), at('a', 'two'), at('me', 'mine')], { allowRemovals: true });
    expect(dir.entries().map((e) => e.path).sort()).toEqual(['one', 'two']);

    dir.beginScan();
    dir.apply(at('a', 'two', false)); // ended while the scan ran
    dir.apply(at('c', 'three')); // started while the scan ran
    dir.completeScan([at('a', 'one'), at('a', 'two')], { allowRemovals: true });
    expect(dir.entries().map((e) => e.path).sort()).toEqual(['one', 'three']);

    dir.beginScan();
    dir.completeScan([], { allowRemovals: false }); // right after an outage: nothing expires
    expect(dir.size).toBe(2);
    dir.beginScan();
    dir.completeScan([at('c', 'three')], { allowRemovals: true });
    expect(dir.entries().map((e) => e.path)).toEqual(['three']);
  });

  it('is bounded', () => {
    const { dir } = directory('me', 2);
    for (const path of ['a', 'b', 'c']) dir.apply(at('n', path));
    expect(dir.size).toBe(2);
    expect(dir.overLimit).toBe(true);
  });
});

describe('cluster records', () => {
  it('round-trips and rejects malformed values without throwing', () => {
    expect(decodeAddress(encodeAddress({ node: 'a', url: 'http://a/' }))).toEqual({ node: 'a', url: 'http://a/' });
    expect(decodeAnnounce(encodeAnnounce(at('a', '/live//x/')))).toEqual(at('a', 'live/x'));
    for (const bad of ['', 'null', '[]', '{"node":1,"url":"u"}', '{"node":"a"}', '{"node":"","url":"u"}', '{', 'x'.repeat(100_000)]) {
      expect(decodeAddress(bad)).toBeUndefined();
    }
    for (const bad of ['{"node":"a","url":"u"}', '{"node":"a","url":"u","path":"/","active":true}', '{"node":"a","url":"u","path":"p","active":"yes"}']) {
      expect(decodeAnnounce(bad)).toBeUndefined();
    }
  });

  it('names keys under a prefix and escapes it for SCAN', () => {
    const keys = new ClusterKeys('moq*[1]:');
    expect(keys.broadcast('live/x')).toBe('moq*[1]:broadcast:live/x');
    expect(keys.pathOf('moq*[1]:broadcast:live/x')).toBe('live/x');
    expect(keys.pathOf('other:live/x')).toBeUndefined();
    expect(keys.broadcastPattern()).toBe('moq\\*\\[1\\]:broadcast:*');
  });
});

describe('node tokens', () => {
  it('are subscribe-everything cluster tokens, without expiry unless asked', async () => {
    const key = await loadSigningKey('a-shared-cluster-secret-of-32-bytes!!');
    const forever = nodeTokenSource(key);
    const token = await forever();
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ root: '', get: '', cluster: true });
    expect(claims.put).toBeUndefined();
    expect(claims.exp).toBeUndefined();
    expect(await forever()).toBe(token);

    let now = 1_000_000_000_000;
    const hourly = nodeTokenSource(key, 3600, () => now);
    const first = await hourly();
    expect(decodeJwt(first).exp).toBe(1_000_000_000 + 3600);
    expect(await hourly()).toBe(first);
    now += 3590 * 1000;
    expect(await hourly()).not.toBe(first);
  });
});
