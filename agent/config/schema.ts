import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { alertingSchema } from '../alerts/schema.js';
import { captureSchema } from '../capture/schema.js';
import { detectionSchema, historySchema } from '../detect/schema.js';
import { criteriaSchema } from '../process/criteria.js';
import { rulesSchema } from '../rules/schema.js';
import { externalLabelsSchema, remoteWriteListSchema } from '../remote/schema.js';
import { calendarSchema, enforcementSchema, policiesSchema, policyConfigIssues } from '../policy/schema.js';
import { re2Pattern } from './regex.js';
import { duration } from './units.js';
import { COLLECTOR_NAMES } from '../collectors/names.js';
import { bytesPerSeries } from '../history/history.js';
import { formatBytes } from '../text/bytes.js';

// Every default of the agent lives in this file: `configSchema.parse({})` is the embedded default config.

const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, 'expected host:port, [ipv6]:port or :port')
  .superRefine((address, ctx) => {
    const problem = listenAddressProblem(address);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** What is wrong with a host:port that has the right shape: a port past 65535, an IPv4 octet past 255, a bad IPv6 or host name. */
export function listenAddressProblem(address: string): string | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) return 'expected host:port, [ipv6]:port or :port';
  const port = Number(m[3]);
  if (port > 65_535) return `expected a port from 0 to 65535 (got ${port})`;
  if (m[1] !== undefined) return isIPv6(m[1]) ? undefined : `expected an IPv6 address inside [] (got "${m[1]}")`;
  const host = m[2]!;
  if (host === '' || isIPv4(host)) return undefined;
  if (/^[\d.]+$/.test(host)) return `expected an IPv4 address with four parts from 0 to 255 (got "${host}")`;
  return /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(host) ? undefined : `expected a host name or address (got "${host}")`;
}

export const samplingSchema = z
  .object({
    /** How often the collectors run and the exposition is rendered. */
    interval: duration({ min: 0.1 }).default(10),
    /** How often instantaneous queue lengths are polled between samples (for current and peak values). */
    queue_interval: duration({ min: 0.05 }).default(1),
    /**
     * How often a quiet process (its last reading found its CPU, memory, threads and handles as the one
     * before) is read again; processes of a criteria, of the top set or near a limit are read every
     * sample. 0: every process every sample.
     */
    quiet_process_interval: duration({ min: 0 }).default(60),
  })
  .strict()
  .refine((s) => s.queue_interval <= s.interval, {
    message: 'queue_interval must not be longer than interval',
    path: ['queue_interval'],
  });

export const webSchema = z
  .object({
    listen_address: listenAddress.default(':9947'),
    telemetry_path: z.string().startsWith('/', 'expected a path starting with "/"').default('/metrics'),
    /** Cmdlines and user names can carry secrets; endpoints show them only when this is set. */
    expose_cmdline: z.boolean().default(false),
    /** TLS and basic auth, in the exporter-toolkit's web config format (agent/http/web-config.ts); none: plain HTTP. */
    config_file: z.string().min(1).optional(),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    format: z.enum(['logfmt', 'json']).default('logfmt'),
  })
  .strict();

export const pathsSchema = z
  .object({
    procfs: z.string().min(1).default('/proc'),
    sysfs: z.string().min(1).default('/sys'),
    /** Where the agent keeps what must outlive it (its history); the packages create it. */
    state_dir: z.string().min(1).default(defaultStateDir()),
  })
  .strict();

function defaultStateDir(): string {
  if (process.platform === 'win32') return `${process.env.ProgramData ?? 'C:\\ProgramData'}\\contention-agent`;
  return '/var/lib/contention-agent';
}

export const diskSchema = z
  .object({
    /** Whole disks whose name matches are not exported (RAM disks, loop devices, floppies). */
    device_exclude: re2Pattern.default('^(ram|loop|fd|zram|nbd)\\d+$'),
  })
  .strict();

export const processGroupsSchema = z
  .object({
    /** Processes that match no criteria are grouped by name: this many names, by private bytes; the rest are "other". */
    max_unmatched: z.number().int().min(0).max(500).default(20),
    /**
     * The top set is the union of the top_k processes by each of CPU, private bytes, growth, handles,
     * threads and I/O: at most 6 × top_k rows, each exported with every figure.
     */
    top_k: z.number().int().min(0).max(100).default(10),
    /** Processes of a criteria always join the top set, up to this many (largest private bytes first). */
    criteria_processes_max: z.number().int().min(0).max(1000).default(50),
  })
  .strict();

export const collectorsSchema = z.partialRecord(z.enum(COLLECTOR_NAMES), z.boolean());

export const configSchema = z
  .object({
    sampling: samplingSchema.prefault({}),
    web: webSchema.prefault({}),
    log: logSchema.prefault({}),
    paths: pathsSchema.prefault({}),
    disk: diskSchema.prefault({}),
    /** Named WSRM-style process matching rules: process groups, policies and the page use them. */
    criteria: criteriaSchema,
    process_groups: processGroupsSchema.prefault({}),
    history: historySchema.prefault({}),
    alerting: alertingSchema.prefault({}),
    detection: detectionSchema.prefault({}),
    /** Local evaluation of alert rules (Prometheus format) on the agent's history. */
    rules: rulesSchema.prefault({}),
    /** Collector name to enabled; unnamed collectors keep their default. */
    collectors: collectorsSchema.prefault({}),
    /** WSRM-style resource allocation policies; one manages at a time. */
    policies: policiesSchema,
    active_policy: z.string().min(1).optional(),
    /** Cron entries that switch the managing policy. */
    calendar: calendarSchema,
    enforcement: enforcementSchema.prefault({}),
    /** Endpoints the agent pushes its samples to (Prometheus remote-write 1.0), for hosts no scraper reaches. */
    remote_write: remoteWriteListSchema,
    /** Labels every pushed series gets unless it has its own (job and instance default to rules.job and rules.instance). */
    external_labels: externalLabelsSchema,
    /** Process dumps on demand, before a policy stop and when a leak is first flagged. */
    capture: captureSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of policyConfigIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    const h = config.history;
    const bytes = h.max_series * bytesPerSeries({ rawSeconds: h.raw_retention, sampleSeconds: config.sampling.interval, bucketSeconds: h.downsample_interval, retentionSeconds: h.retention });
    if (bytes > HISTORY_MAX_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['history'],
        message: `history would take ${formatBytes(bytes)} at most (max_series series of raw_retention / sampling.interval points of 16 bytes and retention / downsample_interval buckets of 32); at most ${formatBytes(HISTORY_MAX_BYTES)} is allowed`,
      });
    }
  });

/** The most memory the history may be sized to take. */
const HISTORY_MAX_BYTES = 4 * 2 ** 30;

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
