import type { FamilyDef } from './catalog.js';

/** Families that come from what Windows may refuse to tell (Linux lists the same processes with names from /etc/passwd). */
export const windowsCatalog = {
  contention_process_identity_unreadable_total: {
    type: 'counter', labels: ['field'],
    help: 'Processes kept in the table whose user, executable path or command line the OS refused to tell (field="user", "exe" or "cmdline"), counted once per process.',
  },
  contention_reading_source_info: {
    type: 'gauge', labels: ['family', 'source'],
    help: 'Where the agent read a system family on this host: source="SystemPerformanceInformation", "SystemProcessInformation", "pdh" or "GlobalMemoryStatusEx". Always 1.',
  },
} as const satisfies Record<string, FamilyDef>;
