import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { createBasicAuthCheck } from '../../agent/http/basic-auth.js';

const header = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('createBasicAuthCheck', () => {
  it('limits each client address to a burst of failed attempts, refilled over time, and admits cached successes regardless', async () => {
    let t = 0;
    const check = createBasicAuthCheck(new Map([['p', bcrypt.hashSync('right', 4)]]), {
      limits: { failureBurst: 3, failureRefillPerSecond: 1, maxPending: 16, maxClients: 2 },
      now: () => t,
    });
    expect(await check(header('p:right'), 'good')).toBe('ok');
    for (let i = 0; i < 3; i++) expect(await check(header(`p:wrong${i}`), 'bad')).toBe('denied');
    expect(await check(header('p:wrong'), 'bad')).toBe('limited');
    // Another address is not limited by that one's failures, and the cached success needs no token.
    expect(await check(header('p:wrong'), 'other')).toBe('denied');
    expect(await check(header('p:right'), 'bad')).toBe('ok');
    t += 1000;
    expect(await check(header('p:wrong'), 'bad')).toBe('denied');
    expect(await check(header('p:wrong'), 'bad')).toBe('limited');
  });

  it('refuses with busy past the pending verifications, without queueing more', async () => {
    const release: Array<() => void> = [];
    const verify = () => new Promise<boolean>((resolve) => release.push(() => resolve(false)));
    const check = createBasicAuthCheck(new Map([['p', '$2b$04$x']]), { verify, limits: { failureBurst: 100, failureRefillPerSecond: 1, maxPending: 2, maxClients: 10 } });
    const first = [check(header('p:a'), 'c1'), check(header('p:b'), 'c2')];
    expect(await check(header('p:c'), 'c3')).toBe('busy');
    release.forEach((r) => r());
    expect(await Promise.all(first)).toEqual(['denied', 'denied']);
    expect(release).toHaveLength(2);
  });

  it('checks an unknown user against a configured hash, so it costs what a wrong password costs at that cost', async () => {
    const seen: string[] = [];
    const users = new Map([['p', bcrypt.hashSync('x', 6)]]);
    const check = createBasicAuthCheck(users, { verify: async (_pw, hash) => (seen.push(hash), true) });
    expect(await check(header('nobody:x'), 'c')).toBe('denied');
    expect(seen).toEqual([users.get('p')]);
  });

  const check = createBasicAuthCheck(new Map([['prometheus', bcrypt.hashSync('pass:with:colons', 4)]]));

  it('admits the right user and password, a password that holds colons included', async () => {
    expect(await check(header('prometheus:pass:with:colons'), 'a')).toBe('ok');
    // Again, from the cache of verified credentials.
    expect(await check(header('prometheus:pass:with:colons'), 'a')).toBe('ok');
  });

  it('refuses a wrong password, before and after the right one was cached', async () => {
    const fresh = createBasicAuthCheck(new Map([['prometheus', bcrypt.hashSync('right', 4)]]));
    expect(await fresh(header('prometheus:wrong'), 'a')).toBe('denied');
    expect(await fresh(header('prometheus:right'), 'a')).toBe('ok');
    expect(await fresh(header('prometheus:righ'), 'a')).toBe('denied');
    expect(await fresh(header('prometheus:right '), 'a')).toBe('denied');
  });

  it('refuses an unknown user, even with a known password', async () => {
    expect(await check(header('admin:pass:with:colons'), 'a')).toBe('denied');
  });

  it('refuses what is not a basic credential', async () => {
    for (const value of [undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', header('no-colon-here')]) {
      expect(await check(value, 'a'), String(value)).toBe('denied');
    }
  });
});
