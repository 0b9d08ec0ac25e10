import { describe, expect, it } from 'vitest';
import { accountName, firstArgument, formatSid, openFailure, sidFromTokenUser, unicodeStringAt, wideChars } from '../../../agent/platform/windows/identity.js';

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

/** What NtQueryInformationProcess(ProcessCommandLineInformation) writes: a UNICODE_STRING, then its characters. */
function commandLineBuffer(text: string, base: bigint): { buffer: Uint8Array; length: number } {
  const length = 16 + 2 * text.length + 2;
  const buffer = new Uint8Array(length + 32);
  const view = new DataView(buffer.buffer);
  view.setUint16(0, 2 * text.length, true); // Length, bytes, no NUL
  view.setUint16(2, 2 * text.length + 2, true); // MaximumLength
  view.setBigUint64(8, base + 16n, true); // Buffer, right after the struct
  for (let i = 0; i < text.length; i++) view.setUint16(16 + 2 * i, text.charCodeAt(i), true);
  return { buffer, length };
}

describe('command lines', () => {
  const base = 0x0000_0262_1c00_0000n;
  const w3wp = 'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "Orders" -v "v4.0" -l "webengine4.dll" -a \\\\.\\pipe\\iisipm1f2c -h "C:\\inetpub\\temp\\apppools\\Orders\\Orders.config"';

  it('reads the command line the UNICODE_STRING points at', () => {
    const { buffer, length } = commandLineBuffer(w3wp, base);
    expect(unicodeStringAt(buffer, base, length)).toBe(w3wp);
  });

  it('reads an empty command line as empty, and refuses characters outside what was written', () => {
    expect(unicodeStringAt(new Uint8Array(16), base)).toBe('');
    const { buffer, length } = commandLineBuffer('java -jar app.jar', base);
    new DataView(buffer.buffer).setBigUint64(8, base + 4096n, true);
    expect(unicodeStringAt(buffer, base, length)).toBeUndefined();
    const cut = commandLineBuffer('java -jar app.jar', base);
    expect(unicodeStringAt(cut.buffer, base, 20)).toBeUndefined();
  });

  it('takes argv[0] as Windows does: quoted up to the closing quote, else up to a space or tab', () => {
    expect(firstArgument(w3wp)).toBe('c:\\windows\\system32\\inetsrv\\w3wp.exe');
    expect(firstArgument('"C:\\Program Files\\nodejs\\node.exe" C:\\agent\\dist\\agent\\cli.js run')).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(firstArgument('svchost.exe\t-k netsvcs')).toBe('svchost.exe');
    expect(firstArgument('"unterminated program')).toBe('unterminated program');
    expect(firstArgument('')).toBe('');
  });
});
