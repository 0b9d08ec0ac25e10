import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { DBGHELP_DECLARATIONS, DECLARATIONS, declaredName, defineTypes, loadWin32, type DbgHelpApi, type Win32Api } from '../../../agent/platform/windows/ffi.js';

// koffi parses prototypes on any platform; only loading a DLL needs Windows. So the declarations
// are checked here for what a typo would break on a Windows host: the parse, the names, the widths.
describe('Windows API declarations', () => {
  defineTypes(koffi);
  const all = [...Object.values(DECLARATIONS).flat(), ...DBGHELP_DECLARATIONS];

  it('every declaration parses as a prototype koffi can call', () => {
    for (const declaration of all) {
      const proto = koffi.type(koffi.proto(declaration)) as { name: string; primitive: string };
      expect(proto.primitive, declaration).toBe('Prototype');
      expect(proto.name).toBe(declaredName(declaration));
    }
  });

  it('declares each function once, and every function the typed API promises', () => {
    const names = Object.values(DECLARATIONS).flat().map(declaredName);
    expect(new Set(names).size).toBe(names.length);
    // The typed surface the collectors use; a missing declaration would be undefined at run time on Windows.
    const promised: Array<keyof Win32Api> = [
      'PdhOpenQueryW', 'PdhAddEnglishCounterW', 'PdhCollectQueryData', 'PdhGetFormattedCounterValue',
      'PdhGetFormattedCounterArrayW', 'PdhCloseQuery', 'NtQuerySystemInformation', 'NtQueryInformationProcess',
      'OpenProcess', 'CloseHandle', 'GetProcessTimes', 'TerminateProcess', 'SetProcessWorkingSetSizeEx',
      'QueryFullProcessImageNameW', 'WaitForSingleObject', 'GetLastError', 'OpenProcessToken',
      'GetTokenInformation', 'LookupAccountSidW', 'RegisterEventSourceW', 'ReportEventW', 'DeregisterEventSource',
      'GetCurrentProcess', 'K32GetPerformanceInfo', 'CreateFileW', 'RegOpenKeyExW', 'RegGetValueW',
      'RegCloseKey', 'LookupPrivilegeValueW', 'AdjustTokenPrivileges',
    ];
    expect(names.sort()).toEqual([...promised].sort());
    const dbghelp: Array<keyof DbgHelpApi> = ['MiniDumpWriteDump'];
    expect(DBGHELP_DECLARATIONS.map(declaredName)).toEqual(dbghelp);
  });

  it('uses explicit widths, never long, whose size differs between Windows and Linux', () => {
    for (const declaration of all) expect(declaration).not.toMatch(/\b(long|unsigned long)\b/);
  });

  it('uses the 64-bit layouts: FILETIME is two 32-bit halves, HANDLE a pointer', () => {
    expect(koffi.sizeof('FILETIME')).toBe(8);
    expect(koffi.sizeof('HANDLE')).toBe(8);
  });

  it.runIf(process.platform !== 'win32')('refuses to load off Windows and says which platform it is on', async () => {
    await expect(loadWin32()).rejects.toThrow(`not available on ${process.platform}`);
  });
});
