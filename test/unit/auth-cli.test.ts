import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Authenticator, loadVerificationKeys, runTokenCli, type CliOutput } from '../../src/auth/index.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const dir = mkdtempSync(join(tmpdir(), 'moq-auth-cli-'));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliOutput = { out: (text) => void (out += text), err: (text) => void (err += text) };
  const code = await runTokenCli(argv, io);
  return { code, out, err };
}

describe('moq-gateway token', () => {
  it('prints an HS256 token that verifies with the same secret', async () => {
    const { code, out, err } = await run('--key', SECRET, '--root', 'live', '--put', 'demo', '--get', '', '--expires', '1h');
    expect(code).toBe(0);
    expect(err).toBe('');
    const auth = new Authenticator({ enabled: true, keys: await loadVerificationKeys(SECRET) });
    const ctx = await auth.verify(out.trim());
    expect(ctx.canPublish('live/demo')).toBe(true);
    expect(ctx.canPublish('live/other')).toBe(false);
    expect(ctx.canSubscribe('live/other')).toBe(true);
    expect(ctx.claims).toMatchObject({ root: 'live', put: 'demo', get: '' });
    expect(ctx.expiresAt! - Date.now()).toBeGreaterThan(3590_000);
    expect(ctx.expiresAt! - Date.now()).toBeLessThanOrEqual(3600_000);
  });

  it('generates an ES256 key, mints with it and the public key verifies', async () => {
    const generated = await run('--generate-key', '--alg', 'ES256', '--kid', 'k1');
    expect(generated.code).toBe(0);
    const jwk = JSON.parse(generated.out);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'k1' });
    expect(typeof jwk.d).toBe('string');
    const privatePath = join(dir, 'private.jwk');
    writeFileSync(privatePath, generated.out);

    const pub = await run('--public', '--key', privatePath);
    expect(pub.code).toBe(0);
    expect(JSON.parse(pub.out).d).toBeUndefined();
    const publicPath = join(dir, 'public.jwk');
    writeFileSync(publicPath, pub.out);

    const minted = await run('--key', privatePath, '--alg', 'ES256', '--root', 'r', '--put', 'a', '--put', 'b', '--cluster', '--expires', 'never');
    expect(minted.code).toBe(0);
    expect(minted.err).toContain('never expires');
    const auth = new Authenticator({ enabled: true, keys: await loadVerificationKeys(publicPath) });
    const ctx = await auth.verify(minted.out.trim());
    expect(ctx.cluster).toBe(true);
    expect(ctx.canPublish('r/b/x')).toBe(true);
    expect(ctx.expiresAt).toBeUndefined();
  });

  it('generates HS256 keys by default', async () => {
    const { code, out } = await run('--generate-key');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ kty: 'oct', alg: 'HS256' });
  });

  it('prints help and refuses bad usage with exit code 2', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    for (const option of ['--key', '--root', '--put', '--get', '--expires', '--alg', '--kid', '--generate-key', '--cluster']) expect(help.out).toContain(option);
    expect((await run('--root', 'x', '--put', '')).code).toBe(2);
    expect((await run('--key', SECRET)).code).toBe(2);
    expect((await run('--key', SECRET, '--put', '', '--expires', 'tomorrow')).code).toBe(2);
    expect((await run('--key', SECRET, '--put', '', '--expires', '3600')).err).toContain('3600s');
    expect((await run('--bogus')).code).toBe(2);
    expect((await run('--generate-key', '--alg', 'RS256')).code).toBe(2);
  });

  it('reports key problems with exit code 1', async () => {
    const weak = await run('--key', 'short', '--put', '');
    expect(weak.code).toBe(1);
    expect(weak.err).toContain('32 bytes');
    expect((await run('--key', SECRET, '--alg', 'ES256', '--put', '')).code).toBe(1);
  });
});
