/**
 * Reading registry values through advapi32's RegGetValueW. The decoding of what it returns is pure
 * and tested on any OS; the calls run only on Windows.
 */
import type { RegValue } from '../../capture/windows-checks.js';
import type { Out, Pointer, Win32Api } from './ffi.js';

/** (HKEY)(ULONG_PTR)(LONG)0x80000002: the predefined key is a sign-extended 32-bit value on 64-bit Windows. */
export const HKEY_LOCAL_MACHINE = -0x7ffffffe;
const KEY_READ = 0x20019;
const KEY_WOW64_64KEY = 0x0100;
const RRF_RT_ANY = 0x0000ffff;
const ERROR_SUCCESS = 0;
const ERROR_MORE_DATA = 234;

export const REG_SZ = 1;
export const REG_EXPAND_SZ = 2;
export const REG_BINARY = 3;
export const REG_DWORD = 4;
export const REG_MULTI_SZ = 7;
export const REG_QWORD = 11;

/** A value's bytes as its type says: strings without their terminator, multi-strings as a list. */
export function decodeRegValue(type: number, data: Uint8Array): RegValue | undefined {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const utf16 = (): string => view.toString('utf16le', 0, view.length - (view.length % 2));
  if (type === REG_DWORD) return view.length >= 4 ? view.readUInt32LE(0) : undefined;
  if (type === REG_QWORD) return view.length >= 8 ? Number(view.readBigUInt64LE(0)) : undefined;
  if (type === REG_SZ || type === REG_EXPAND_SZ) return utf16().replace(/\0+$/, '').split('\0')[0]!;
  if (type === REG_MULTI_SZ) return utf16().split('\0').filter((s) => s !== '');
  return undefined;
}

/**
 * The named values of a key under HKLM (the 64-bit view), those present; undefined when the key
 * cannot be opened (it does not exist, or access is denied).
 */
export function readRegistryValues(api: Win32Api, subKey: string, names: readonly string[]): Record<string, RegValue> | undefined {
  const out: Out<Pointer | null> = [null];
  if (api.RegOpenKeyExW(HKEY_LOCAL_MACHINE, subKey, 0, KEY_READ | KEY_WOW64_64KEY, out) !== ERROR_SUCCESS || !out[0]) return undefined;
  const key = out[0];
  try {
    const values: Record<string, RegValue> = {};
    for (const name of names) {
      let data = new Uint8Array(1024);
      const type: Out<number> = [0];
      const size: Out<number> = [data.length];
      let status = api.RegGetValueW(key, null, name, RRF_RT_ANY, type, data, size);
      if (status === ERROR_MORE_DATA) {
        data = new Uint8Array(size[0]);
        status = api.RegGetValueW(key, null, name, RRF_RT_ANY, type, data, size);
      }
      if (status !== ERROR_SUCCESS) continue;
      const value = decodeRegValue(type[0], data.subarray(0, size[0]));
      if (value !== undefined) values[name] = value;
    }
    return values;
  } finally {
    api.RegCloseKey(key);
  }
}
