/**
 * The Win32 and native API functions the agent calls, declared through koffi. koffi is imported
 * only here, only when asked, and only on Windows: Linux never loads it or any Windows DLL code.
 *
 * Types are explicit widths (uint32, not long): `long` is 32 bits on Windows and 64 on Linux, and
 * the declarations are also parsed on Linux by the tests.
 */
import type KoffiDefault from 'koffi';

export type Koffi = typeof KoffiDefault;
/** An opaque handle or pointer as koffi hands it over. */
export type Pointer = object;
/** A one-element array koffi writes an output parameter into. */
export type Out<T> = [T];

export interface FileTime {
  dwLowDateTime: number;
  dwHighDateTime: number;
}

/** Every declared function, typed. Status codes are unsigned so they compare with their hex spelling. */
export interface Win32Api {
  readonly koffi: Koffi;
  // pdh.dll
  PdhOpenQueryW(dataSource: null, userData: number, query: Out<Pointer | null>): number;
  PdhAddEnglishCounterW(query: Pointer, path: string, userData: number, counter: Out<Pointer | null>): number;
  PdhCollectQueryData(query: Pointer): number;
  PdhGetFormattedCounterValue(counter: Pointer, format: number, type: null, value: Uint8Array): number;
  PdhGetFormattedCounterArrayW(counter: Pointer, format: number, bufferSize: Out<number>, itemCount: Out<number>, items: Pointer | null): number;
  PdhCloseQuery(query: Pointer): number;
  // ntdll.dll
  NtQuerySystemInformation(infoClass: number, buffer: Pointer | Uint8Array, length: number, returned: Out<number>): number;
  NtQueryInformationProcess(process: Pointer, infoClass: number, buffer: Pointer, length: number, returned: Out<number>): number;
  // kernel32.dll
  OpenProcess(access: number, inherit: boolean, pid: number): Pointer | null;
  CloseHandle(handle: Pointer): boolean;
  GetProcessTimes(process: Pointer, creation: FileTime, exit: FileTime, kernel: FileTime, user: FileTime): boolean;
  TerminateProcess(process: Pointer, exitCode: number): boolean;
  SetProcessWorkingSetSizeEx(process: Pointer, minimum: bigint, maximum: bigint, flags: number): boolean;
  QueryFullProcessImageNameW(process: Pointer, flags: number, name: Uint8Array, size: Out<number>): boolean;
  WaitForSingleObject(handle: Pointer, milliseconds: number): number;
  GetLastError(): number;
  GetCurrentProcess(): Pointer;
  K32GetPerformanceInfo(info: Uint8Array, size: number): boolean;
  /** Fails with INVALID_HANDLE_VALUE, a pointer whose address is all ones (see koffi.address). */
  CreateFileW(path: string, access: number, share: number, security: null, disposition: number, flags: number, template: null): Pointer;
  // advapi32.dll
  OpenProcessToken(process: Pointer, access: number, token: Out<Pointer | null>): boolean;
  GetTokenInformation(token: Pointer, infoClass: number, buffer: Pointer, length: number, returned: Out<number>): boolean;
  LookupAccountSidW(system: null, sid: Pointer, name: Uint8Array, nameChars: Out<number>, domain: Uint8Array, domainChars: Out<number>, use: Out<number>): boolean;
  RegisterEventSourceW(server: null, source: string): Pointer | null;
  ReportEventW(log: Pointer, type: number, category: number, eventId: number, sid: null, strings: number, dataSize: number, texts: string[], data: null): boolean;
  DeregisterEventSource(log: Pointer): boolean;
  /** `root` is a predefined key as its sign-extended integer (HKEY_LOCAL_MACHINE is -0x7ffffffe). */
  RegOpenKeyExW(root: number, subKey: string, options: number, access: number, key: Out<Pointer | null>): number;
  RegGetValueW(key: Pointer, subKey: null, value: string, flags: number, type: Out<number>, data: Uint8Array | null, size: Out<number>): number;
  RegCloseKey(key: Pointer): number;
  LookupPrivilegeValueW(system: null, name: string, luid: Uint8Array): boolean;
  AdjustTokenPrivileges(token: Pointer, disableAll: boolean, state: Uint8Array, length: number, previous: null, returned: null): boolean;
}

/** dbghelp.dll, loaded apart from the rest (only a capture needs it). */
export interface DbgHelpApi {
  MiniDumpWriteDump(process: Pointer, pid: number, file: Pointer, dumpType: number, exception: null, userStream: null, callback: null): boolean;
}

/** The declarations, by DLL, in koffi's C-like syntax. */
export const DECLARATIONS: Readonly<Record<'pdh.dll' | 'ntdll.dll' | 'kernel32.dll' | 'advapi32.dll', readonly string[]>> = {
  'pdh.dll': [
    'uint32_t __stdcall PdhOpenQueryW(const char16_t *szDataSource, uintptr_t dwUserData, _Out_ HANDLE *phQuery)',
    'uint32_t __stdcall PdhAddEnglishCounterW(HANDLE hQuery, const char16_t *szFullCounterPath, uintptr_t dwUserData, _Out_ HANDLE *phCounter)',
    'uint32_t __stdcall PdhCollectQueryData(HANDLE hQuery)',
    'uint32_t __stdcall PdhGetFormattedCounterValue(HANDLE hCounter, uint32_t dwFormat, uint32_t *lpdwType, void *pValue)',
    'uint32_t __stdcall PdhGetFormattedCounterArrayW(HANDLE hCounter, uint32_t dwFormat, _Inout_ uint32_t *lpdwBufferSize, _Out_ uint32_t *lpdwItemCount, void *ItemBuffer)',
    'uint32_t __stdcall PdhCloseQuery(HANDLE hQuery)',
  ],
  'ntdll.dll': [
    'uint32_t __stdcall NtQuerySystemInformation(int32_t SystemInformationClass, void *SystemInformation, uint32_t SystemInformationLength, _Out_ uint32_t *ReturnLength)',
    'uint32_t __stdcall NtQueryInformationProcess(HANDLE ProcessHandle, int32_t ProcessInformationClass, void *ProcessInformation, uint32_t ProcessInformationLength, _Out_ uint32_t *ReturnLength)',
  ],
  'kernel32.dll': [
    'HANDLE __stdcall OpenProcess(uint32_t dwDesiredAccess, bool bInheritHandle, uint32_t dwProcessId)',
    'bool __stdcall CloseHandle(HANDLE hObject)',
    'bool __stdcall GetProcessTimes(HANDLE hProcess, _Out_ FILETIME *lpCreationTime, _Out_ FILETIME *lpExitTime, _Out_ FILETIME *lpKernelTime, _Out_ FILETIME *lpUserTime)',
    'bool __stdcall TerminateProcess(HANDLE hProcess, uint32_t uExitCode)',
    'bool __stdcall SetProcessWorkingSetSizeEx(HANDLE hProcess, uintptr_t dwMinimumWorkingSetSize, uintptr_t dwMaximumWorkingSetSize, uint32_t Flags)',
    'bool __stdcall QueryFullProcessImageNameW(HANDLE hProcess, uint32_t dwFlags, void *lpExeName, _Inout_ uint32_t *lpdwSize)',
    'uint32_t __stdcall WaitForSingleObject(HANDLE hHandle, uint32_t dwMilliseconds)',
    'uint32_t __stdcall GetLastError()',
    'HANDLE __stdcall GetCurrentProcess()',
    'bool __stdcall K32GetPerformanceInfo(void *pPerformanceInformation, uint32_t cb)',
    'HANDLE __stdcall CreateFileW(const char16_t *lpFileName, uint32_t dwDesiredAccess, uint32_t dwShareMode, void *lpSecurityAttributes, uint32_t dwCreationDisposition, uint32_t dwFlagsAndAttributes, HANDLE hTemplateFile)',
  ],
  'advapi32.dll': [
    'bool __stdcall OpenProcessToken(HANDLE ProcessHandle, uint32_t DesiredAccess, _Out_ HANDLE *TokenHandle)',
    'bool __stdcall GetTokenInformation(HANDLE TokenHandle, int32_t TokenInformationClass, void *TokenInformation, uint32_t TokenInformationLength, _Out_ uint32_t *ReturnLength)',
    'bool __stdcall LookupAccountSidW(const char16_t *lpSystemName, void *Sid, void *Name, _Inout_ uint32_t *cchName, void *ReferencedDomainName, _Inout_ uint32_t *cchReferencedDomainName, _Out_ int32_t *peUse)',
    'HANDLE __stdcall RegisterEventSourceW(const char16_t *lpUNCServerName, const char16_t *lpSourceName)',
    'bool __stdcall ReportEventW(HANDLE hEventLog, uint16_t wType, uint16_t wCategory, uint32_t dwEventID, void *lpUserSid, uint16_t wNumStrings, uint32_t dwDataSize, const char16_t **lpStrings, void *lpRawData)',
    'bool __stdcall DeregisterEventSource(HANDLE hEventLog)',
    'int32_t __stdcall RegOpenKeyExW(intptr_t hKey, const char16_t *lpSubKey, uint32_t ulOptions, uint32_t samDesired, _Out_ HANDLE *phkResult)',
    'int32_t __stdcall RegGetValueW(HANDLE hkey, const char16_t *lpSubKey, const char16_t *lpValue, uint32_t dwFlags, _Out_ uint32_t *pdwType, void *pvData, _Inout_ uint32_t *pcbData)',
    'int32_t __stdcall RegCloseKey(HANDLE hKey)',
    'bool __stdcall LookupPrivilegeValueW(const char16_t *lpSystemName, const char16_t *lpName, void *lpLuid)',
    'bool __stdcall AdjustTokenPrivileges(HANDLE TokenHandle, bool DisableAllPrivileges, void *NewState, uint32_t BufferLength, void *PreviousState, uint32_t *ReturnLength)',
  ],
};

export const DBGHELP_DECLARATIONS: readonly string[] = [
  'bool __stdcall MiniDumpWriteDump(HANDLE hProcess, uint32_t ProcessId, HANDLE hFile, int32_t DumpType, void *ExceptionParam, void *UserStreamParam, void *CallbackParam)',
];

/** Registers the named types the declarations use. Idempotent per koffi instance. */
export function defineTypes(koffi: Koffi): void {
  if (defined.has(koffi)) return;
  koffi.pointer('HANDLE', koffi.opaque());
  koffi.struct('FILETIME', { dwLowDateTime: 'uint32_t', dwHighDateTime: 'uint32_t' });
  defined.add(koffi);
}
const defined = new WeakSet<Koffi>();

/** The function name a declaration declares. */
export function declaredName(declaration: string): string {
  const m = /(\w+)\s*\(/.exec(declaration);
  if (!m) throw new Error(`not a declaration: ${declaration}`);
  return m[1]!;
}

let loading: Promise<Win32Api> | undefined;

/** The Windows API, loaded once. Rejects on any other platform. */
export function loadWin32(): Promise<Win32Api> {
  if (process.platform !== 'win32') return Promise.reject(new Error(`the Windows API is not available on ${process.platform}`));
  if (process.arch !== 'x64' && process.arch !== 'arm64') {
    return Promise.reject(new Error(`the native process list is decoded for 64-bit Windows; this Node is ${process.arch}`));
  }
  loading ??= import('koffi').then(({ default: koffi }) => {
    defineTypes(koffi);
    const api: Record<string, unknown> = { koffi };
    for (const [dll, declarations] of Object.entries(DECLARATIONS)) {
      const lib = koffi.load(dll);
      for (const declaration of declarations) api[declaredName(declaration)] = lib.func(declaration);
    }
    return api as unknown as Win32Api;
  });
  return loading;
}

let loadingDbgHelp: Promise<DbgHelpApi> | undefined;

/** dbghelp.dll's MiniDumpWriteDump, loaded at the first capture. Rejects off Windows or when the DLL is missing. */
export function loadDbgHelp(): Promise<DbgHelpApi> {
  loadingDbgHelp ??= loadWin32().then(({ koffi }) => {
    const lib = koffi.load('dbghelp.dll');
    const api: Record<string, unknown> = {};
    for (const declaration of DBGHELP_DECLARATIONS) api[declaredName(declaration)] = lib.func(declaration);
    return api as unknown as DbgHelpApi;
  });
  return loadingDbgHelp;
}
