import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { createBasicAuthCheck } from '../../agent/http/basic-auth.js';

const header = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('createBasicAuthCheck', () => {
  const check = createBasicAuthCheck(new Map([['prometheus', bcrypt.hashSync('pass:with:colons', 4)]]));

  it('admits the right user and password, a password that holds colons included', async () => {
    expect(await check(header('prometheus:pass:with:colons'))).toBe(true);
    // Again, from the cache of verified credentials.
    expect(await check(header('prometheus:pass:with:colons'))).toBe(true);
  });

  it('refuses a wrong password, before and after the right one was cached', async () => {
    const fresh = createBasicAuthCheck(new Map([['prometheus', bcrypt.hashSync('right', 4)]]));
    expect(await fresh(header('prometheus:wrong'))).toBe(false);
    expect(await fresh(header('prometheus:right'))).toBe(true);
    expect(await fresh(header('prometheus:righ'))).toBe(false);
    expect(await fresh(header('prometheus:right '))).toBe(false);
  });

  it('refuses an unknown user, even with a known password', async () => {
    expect(await check(header('admin:pass:with:colons'))).toBe(false);
  });

  it('refuses what is not a basic credential', async () => {
    for (const value of [undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', header('no-colon-here')]) {
      expect(await check(value), String(value)).toBe(false);
    }
  });
});
