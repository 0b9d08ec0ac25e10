import { describe, expect, it } from 'vitest';
import { accountName, formatSid, openFailure, sidFromTokenUser, wideChars } from '../../../agent/platform/windows/identity.js';

/**
 * TOKEN_USER as GetTokenInformation(TokenUser) writes it on 64-bit Windows: SID_AND_ATTRIBUTES
 * { PSID Sid; DWORD Attributes; } (16 bytes with padding), then the SID it points at.
 */
function tokenUser(sidText: string, base = 0x0000_01d4_7700_0000n, sidAt = 16): Uint8Array {
  const [, revision, authority, ...subs] = sidText.split('-');
  const sid = new Uint8Array(8 + 4 * subs.length);
  const sidView = new DataView(sid.buffer);
  sid[0] = Number(revision);
  sid[1] = subs.length;
  sidView.setUint16(2, 0, false);
  sidView.setUint32(4, Number(authority), false); // 48-bit big-endian authority
  subs.forEach((s, i) => sidView.setUint32(8 + 4 * i, Number(s), true));
  const buffer = new Uint8Array(sidAt + sid.byteLength + 8);
  const view = new DataView(buffer.buffer);
  view.setBigUint64(0, base + BigInt(sidAt), true);
  view.setUint32(8, 0, true); // Attributes
  buffer.set(sid, sidAt);
  return buffer;
}

describe('token user', () => {
  const base = 0x0000_01d4_7700_0000n;

  it('finds the SID the TOKEN_USER pointer leads to and prints it as whoami does', () => {
    for (const text of ['S-1-5-18', 'S-1-5-19', 'S-1-5-20', 'S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415', 'S-1-5-21-3623811015-3361044348-30300820-1013']) {
      const sid = sidFromTokenUser(tokenUser(text, base), base);
      expect(sid, text).toBeDefined();
      expect(formatSid(sid!)).toBe(text);
    }
  });

  it('reads the SID wherever the kernel put it in the buffer', () => {
    expect(formatSid(sidFromTokenUser(tokenUser('S-1-5-18', base, 40), base)!)).toBe('S-1-5-18');
  });

  it('refuses a pointer outside the buffer, a SID cut short, and bytes that are not a SID', () => {
    const outside = tokenUser('S-1-5-18', base);
    new DataView(outside.buffer).setBigUint64(0, base - 16n, true);
    expect(sidFromTokenUser(outside, base)).toBeUndefined();
    const full = tokenUser('S-1-5-21-3623811015-3361044348-30300820-1013', base);
    expect(sidFromTokenUser(full, base, 16 + 12)).toBeUndefined();
    const notSid = tokenUser('S-1-5-18', base);
    notSid[16] = 2; // revision
    expect(sidFromTokenUser(notSid, base)).toBeUndefined();
  });

  it('names an account as WSRM criteria spell it', () => {
    expect(accountName('NT AUTHORITY', 'NETWORK SERVICE')).toBe('NT AUTHORITY\\NETWORK SERVICE');
    expect(accountName('', 'Everyone')).toBe('Everyone');
  });

  it('reads the characters an API reported, not the whole buffer', () => {
    const buffer = new Uint8Array(64);
    const path = 'C:\\Windows\\w3wp.exe';
    for (let i = 0; i < path.length; i++) new DataView(buffer.buffer).setUint16(2 * i, path.charCodeAt(i), true);
    expect(wideChars(buffer, path.length)).toBe(path);
    expect(wideChars(buffer, 1000)).toHaveLength(32); // never past the buffer
  });
});

describe('why a process could not be opened', () => {
  it('tells a process that is gone from one the agent may not open', () => {
    expect(openFailure(87)).toBe('gone');
    expect(openFailure(5)).toBe('denied');
    expect(openFailure(6)).toBe('failed');
  });
});
