import type { FamilyDef } from './catalog.js';

/** Families that come from what Windows may refuse to tell (Linux lists the same processes with names from /etc/passwd). */
export const windowsCatalog = {
  contention_process_identity_unreadable_total: {
    type: 'counter', labels: ['field'],
    help: 'Processes kept in the table whose user, executable path or command line the OS refused to tell (field="user", "exe" or "cmdline"), counted once per process.',
  },
  contention_event_log_writes_total: {
    type: 'counter', labels: [],
    help: 'Alert and policy events written to the Windows Application log.',
  },
  contention_event_log_write_failures_total: {
    type: 'counter', labels: [],
    help: 'Events the Windows Application log refused, or could not take because the event source did not open; the agent carries on.',
  },
  contention_reading_source_info: {
    type: 'gauge', labels: ['family', 'source'],
    help: 'Where the agent read a system family on this host: source="SystemPerformanceInformation", "SystemProcessInformation", "pdh" or "GlobalMemoryStatusEx". Always 1.',
  },
} as const satisfies Record<string, FamilyDef>;
