/**
 * Who runs a process and from which file, decoded: TOKEN_USER's SID, the SID's text form, account
 * names, and what a Win32 error code says about a process that could not be opened. Pure; the
 * calls are in identity-reader.ts.
 */

export const ERROR_ACCESS_DENIED = 5;
/** OpenProcess on a pid no process has (any more). */
export const ERROR_INVALID_PARAMETER = 87;
export const ERROR_INSUFFICIENT_BUFFER = 122;

/** Why OpenProcess gave no handle: the process is gone, or the agent may not open it. */
export function openFailure(lastError: number): 'gone' | 'denied' | 'failed' {
  if (lastError === ERROR_INVALID_PARAMETER) return 'gone';
  if (lastError === ERROR_ACCESS_DENIED) return 'denied';
  return 'failed';
}

/** SID: revision, sub-authority count, a 48-bit big-endian authority, then 32-bit sub-authorities. */
const SID_HEADER = 8;
const SID_MAX_SUB_AUTHORITIES = 15;

/**
 * The SID bytes a TOKEN_USER buffer holds: the struct starts with a pointer to the SID, which the
 * kernel writes into the same buffer, at `baseAddress`. Undefined when the pointer leaves the
 * buffer or what it points at is not a SID.
 */
export function sidFromTokenUser(buffer: Uint8Array, baseAddress: bigint, length = buffer.byteLength): Uint8Array | undefined {
  const bytes = buffer.subarray(0, Math.min(length, buffer.byteLength));
  if (bytes.byteLength < 8) return undefined;
  const pointer = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  const offset = pointer - baseAddress;
  if (offset < 0n || offset + BigInt(SID_HEADER) > BigInt(bytes.byteLength)) return undefined;
  const at = Number(offset);
  const revision = bytes[at]!;
  const count = bytes[at + 1]!;
  if (revision !== 1 || count > SID_MAX_SUB_AUTHORITIES) return undefined;
  const size = SID_HEADER + 4 * count;
  if (at + size > bytes.byteLength) return undefined;
  return bytes.slice(at, at + size);
}

/** The SID's string form, as `whoami /user` prints it: `S-1-5-21-...`. */
export function formatSid(sid: Uint8Array): string {
  const view = new DataView(sid.buffer, sid.byteOffset, sid.byteLength);
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + sid[i]!;
  const parts = [`S-${sid[0]}`, String(authority)];
  for (let i = 0; i < sid[1]!; i++) parts.push(String(view.getUint32(SID_HEADER + 4 * i, true)));
  return parts.join('-');
}

/** The name the agent's `user` field carries: `DOMAIN\name` as WSRM criteria spell it, or `name` alone. */
export function accountName(domain: string, name: string): string {
  return domain === '' ? name : `${domain}\\${name}`;
}

const utf16 = new TextDecoder('utf-16le');

/** The first `chars` UTF-16 code units of a buffer an API filled (QueryFullProcessImageNameW, LookupAccountSidW). */
export function wideChars(buffer: Uint8Array, chars: number): string {
  const n = Math.max(0, Math.min(chars, Math.floor(buffer.byteLength / 2)));
  return utf16.decode(buffer.subarray(0, 2 * n));
}

/**
 * The string a UNICODE_STRING at the start of `buffer` describes: { USHORT Length (bytes); USHORT
 * MaximumLength; 4 bytes padding; PWSTR Buffer }, its characters in the same buffer, which sat at
 * `baseAddress` (what NtQueryInformationProcess(ProcessCommandLineInformation) writes). Undefined
 * when the characters are not inside what was written.
 */
export function unicodeStringAt(buffer: Uint8Array, baseAddress: bigint, length = buffer.byteLength): string | undefined {
  const bytes = buffer.subarray(0, Math.min(length, buffer.byteLength));
  if (bytes.byteLength < 16) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint16(0, true);
  if (size === 0) return '';
  const offset = view.getBigUint64(8, true) - baseAddress;
  if (size % 2 !== 0 || offset < 16n || offset + BigInt(size) > BigInt(bytes.byteLength)) return undefined;
  return utf16.decode(bytes.subarray(Number(offset), Number(offset) + size));
}

/**
 * The program as the command line names it, by the rule Windows applies to argv[0]
 * (CommandLineToArgvW): up to the closing quote when it starts with one, else up to the first
 * space or tab. Backslashes are not escapes here.
 */
export function firstArgument(commandLine: string): string {
  const line = commandLine.replace(/^[ \t]+/, '');
  if (line.startsWith('"')) {
    const end = line.indexOf('"', 1);
    return end === -1 ? line.slice(1) : line.slice(1, end);
  }
  const m = /^[^ \t]*/.exec(line);
  return m ? m[0] : '';
}
