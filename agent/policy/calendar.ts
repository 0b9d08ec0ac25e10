import { schedule, type ScheduledTask } from 'node-cron';
import type { CalendarConfig } from './schema.js';

export interface Calendar {
  stop(): void;
}

/** Starts one cron task per calendar entry; each firing names the policy that manages from then on. */
export function startCalendar(entries: CalendarConfig, onSwitch: (policy: string, cron: string) => void): Calendar {
  const tasks: ScheduledTask[] = entries.map((entry) =>
    schedule(entry.cron, () => onSwitch(entry.policy, entry.cron), { timezone: entry.timezone, name: `policy ${entry.policy}`, unref: true }),
  );
  return {
    stop() {
      for (const t of tasks) void t.destroy();
    },
  };
}
