import { describe, expect, it } from 'vitest';
import { AuthError, canPublish, canSubscribe, coveredBy, parseClaims, publishPrefixes, type Claims } from '../../src/auth/index.ts';

describe('auth claims: path scope', () => {
  const claims: Claims = { root: 'live', put: 'a', get: '' };

  it('a token scoped to root live, put a publishes live/a and below, nothing else', () => {
    expect(canPublish(claims, 'live/a')).toBe(true);
    expect(canPublish(claims, 'live/a/x')).toBe(true);
    expect(canPublish(claims, 'live/b')).toBe(false);
    expect(canPublish(claims, 'live')).toBe(false);
    expect(canPublish(claims, 'live/ab')).toBe(false);
    expect(canPublish(claims, 'a')).toBe(false);
  });

  it("get '' covers everything under the root, only under it", () => {
    expect(canSubscribe(claims, 'live')).toBe(true);
    expect(canSubscribe(claims, 'live/anything/deep')).toBe(true);
    expect(canSubscribe(claims, 'lively')).toBe(false);
    expect(canSubscribe(claims, 'other/live')).toBe(false);
  });

  it('matches whole segments: live covers live/demo, not lively', () => {
    expect(coveredBy('live/demo', ['live'])).toBe(true);
    expect(coveredBy('lively', ['live'])).toBe(false);
    expect(coveredBy('anything', [''])).toBe(true);
  });

  it('ignores leading and trailing slashes in root, grants and paths', () => {
    const slashy: Claims = { root: '/live/', put: ['/a/', 'b'] };
    expect(publishPrefixes(slashy)).toEqual(['live/a', 'live/b']);
    expect(canPublish(slashy, '/live/b/')).toBe(true);
  });

  it('absent put or get grants nothing; an empty list grants nothing', () => {
    const readOnly: Claims = { root: '', get: 'x' };
    expect(canPublish(readOnly, 'x')).toBe(false);
    expect(canSubscribe(readOnly, 'x/y')).toBe(true);
    expect(canPublish({ root: '', put: [], get: '' }, 'x')).toBe(false);
  });

  it('root empty with put empty grants everything', () => {
    expect(canPublish({ root: '', put: '' }, 'any/path')).toBe(true);
  });
});

describe('auth claims: parsing', () => {
  it('accepts moq-token payloads and drops unknown claims', () => {
    expect(parseClaims({ root: 'r', put: ['a', 'b'], get: 'c', cluster: true, exp: 10, iat: 5, sub: 'alice' })).toEqual({
      root: 'r',
      put: ['a', 'b'],
      get: 'c',
      cluster: true,
      exp: 10,
      iat: 5,
    });
    expect(parseClaims({ get: '' })).toEqual({ root: '', get: '' });
  });

  it.each([
    [{ root: 5, put: '' }, 'root'],
    [{ put: 7 }, 'put'],
    [{ get: ['a', 3] }, 'get'],
    [{ put: '', cluster: 'yes' }, 'cluster'],
    [{ put: '', exp: 'soon' }, 'exp'],
    [{ root: 'x' }, 'neither'],
    [{ put: [], get: [] }, 'neither'],
    [[], 'object'],
    [null, 'object'],
  ])('refuses %j as malformed', (payload, word) => {
    try {
      parseClaims(payload);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).reason).toBe('malformed');
      expect((error as AuthError).message).toContain(word);
    }
  });
});
