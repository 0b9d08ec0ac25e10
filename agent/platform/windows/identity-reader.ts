/**
 * Reads who runs a process, its executable path and its command line: OpenProcess with the least
 * access that allows it, then OpenProcessToken/GetTokenInformation/LookupAccountSidW for the user,
 * QueryFullProcessImageNameW for the path and NtQueryInformationProcess(ProcessCommandLineInformation)
 * for the command line. All are optional: a protected process or an agent without privileges leaves
 * them empty and counts the refusal. A process's answers do not change
 * in its life, so they are kept per pid and create time, and forgotten when it is gone. Windows only.
 */
import type { Out, Pointer, Win32Api } from './ffi.js';
import { accountName, ERROR_INSUFFICIENT_BUFFER, firstArgument, formatSid, openFailure, sidFromTokenUser, unicodeStringAt, wideChars } from './identity.js';
import { createGrowableBuffer } from './native-buffer.js';

export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const TOKEN_QUERY = 0x0008;
const TOKEN_USER_CLASS = 1;
const PROCESS_COMMAND_LINE_INFORMATION = 60;
/** NTSTATUS codes that ask for a larger buffer, with the size needed in the returned length. */
const STATUS_MORE = new Set([0xc0000004, 0xc0000023, 0x80000005]);
const MAX_PATH_CHARS = 32_768;
const MAX_NAME_CHARS = 256;

export interface ProcessIdentityFields {
  /** `DOMAIN\name`, the SID when the account cannot be named, or '' when the token was refused. */
  readonly user: string;
  /** The Win32 path of the image, or '' when refused. */
  readonly exe: string;
  /** The command line as the process was started, or '' when refused. */
  readonly cmdline: string;
  /** The program its command line names (argv[0]), or ''. */
  readonly argv0: string;
}

export type IdentityField = 'user' | 'exe' | 'cmdline';

export interface IdentityReader {
  /** What is known of a process; looked up once per process. */
  identify(pid: number, startTime: number): ProcessIdentityFields;
  /** Forgets processes not identified since the last call; returns refusals counted since then. */
  endRound(): ReadonlyMap<IdentityField, number>;
  close(): void;
}

export function createIdentityReader(api: Win32Api): IdentityReader {
  let known = new Map<string, ProcessIdentityFields>();
  let seen = new Map<string, ProcessIdentityFields>();
  const accounts = new Map<string, string>();
  let refused = new Map<IdentityField, number>();
  const refuse = (field: IdentityField): void => void refused.set(field, (refused.get(field) ?? 0) + 1);

  const token = createGrowableBuffer(api.koffi, 256);
  const commandLines = createGrowableBuffer(api.koffi, 4096);
  const path = new Uint8Array(2 * MAX_PATH_CHARS);
  const name = new Uint8Array(2 * MAX_NAME_CHARS);
  const domain = new Uint8Array(2 * MAX_NAME_CHARS);

  const userOf = (process: Pointer): string | undefined => {
    const out: Out<Pointer | null> = [null];
    if (!api.OpenProcessToken(process, TOKEN_QUERY, out) || !out[0]) return undefined;
    const handle = out[0];
    try {
      const returned: Out<number> = [0];
      let buffer = token.current();
      if (!api.GetTokenInformation(handle, TOKEN_USER_CLASS, buffer.pointer, buffer.size, returned)) {
        if (api.GetLastError() !== ERROR_INSUFFICIENT_BUFFER) return undefined;
        buffer = token.atLeast(returned[0]);
        if (!api.GetTokenInformation(handle, TOKEN_USER_CLASS, buffer.pointer, buffer.size, returned)) return undefined;
      }
      const sid = sidFromTokenUser(buffer.bytes, buffer.address, returned[0]);
      if (!sid) return undefined;
      const text = formatSid(sid);
      let account = accounts.get(text);
      if (account === undefined) {
        const nameChars: Out<number> = [MAX_NAME_CHARS];
        const domainChars: Out<number> = [MAX_NAME_CHARS];
        const use: Out<number> = [0];
        // An account that no longer exists (or a domain out of reach) keeps its SID as its name.
        account = api.LookupAccountSidW(null, sid, name, nameChars, domain, domainChars, use)
          ? accountName(wideChars(domain, domainChars[0]), wideChars(name, nameChars[0]))
          : text;
        accounts.set(text, account);
      }
      return account;
    } finally {
      api.CloseHandle(handle);
    }
  };

  const exeOf = (process: Pointer): string | undefined => {
    const chars: Out<number> = [MAX_PATH_CHARS];
    return api.QueryFullProcessImageNameW(process, 0, path, chars) ? wideChars(path, chars[0]) : undefined;
  };

  const cmdlineOf = (process: Pointer): string | undefined => {
    const returned: Out<number> = [0];
    let buffer = commandLines.current();
    let status = api.NtQueryInformationProcess(process, PROCESS_COMMAND_LINE_INFORMATION, buffer.pointer, buffer.size, returned) >>> 0;
    if (STATUS_MORE.has(status) && returned[0] > buffer.size && returned[0] <= 1024 * 1024) {
      buffer = commandLines.atLeast(returned[0]);
      status = api.NtQueryInformationProcess(process, PROCESS_COMMAND_LINE_INFORMATION, buffer.pointer, buffer.size, returned) >>> 0;
    }
    return status === 0 ? unicodeStringAt(buffer.bytes, buffer.address, returned[0]) : undefined;
  };

  return {
    identify(pid, startTime) {
      const key = `${pid}:${startTime}`;
      const cached = known.get(key) ?? seen.get(key);
      if (cached) {
        seen.set(key, cached);
        return cached;
      }
      const process = api.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
      if (!process) {
        const why = openFailure(api.GetLastError());
        const empty = { user: '', exe: '', cmdline: '', argv0: '' };
        if (why === 'gone') return empty; // exited since the list was read: nothing to count or keep
        refuse('user');
        refuse('exe');
        refuse('cmdline');
        seen.set(key, empty);
        return empty;
      }
      try {
        const user = userOf(process);
        const exe = exeOf(process);
        const cmdline = cmdlineOf(process);
        if (user === undefined) refuse('user');
        if (exe === undefined) refuse('exe');
        if (cmdline === undefined) refuse('cmdline');
        const fields = { user: user ?? '', exe: exe ?? '', cmdline: cmdline ?? '', argv0: firstArgument(cmdline ?? '') };
        seen.set(key, fields);
        return fields;
      } finally {
        api.CloseHandle(process);
      }
    },
    endRound() {
      known = seen;
      seen = new Map();
      const counted = refused;
      refused = new Map();
      return counted;
    },
    close() {
      token.free();
      commandLines.free();
      known.clear();
    },
  };
}
