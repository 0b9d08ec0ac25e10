import { z } from 'zod';
import { alertingSchema } from '../alerts/schema.js';
import { captureSchema } from '../capture/schema.js';
import { detectionSchema, historySchema } from '../detect/schema.js';
import { criteriaSchema } from '../process/criteria.js';
import { rulesSchema } from '../rules/schema.js';
import { calendarSchema, enforcementSchema, policiesSchema, policyConfigIssues } from '../policy/schema.js';
import { isValidRegex } from './regex.js';
import { duration } from './units.js';
import { COLLECTOR_NAMES } from '../collectors/names.js';

// Every default of the agent lives in this file: `configSchema.parse({})` is the embedded default config.

const listenAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, 'expected host:port, [ipv6]:port or :port');

export const samplingSchema = z
  .object({
    /** How often the collectors run and the exposition is rendered. */
    interval: duration().default(5),
    /** How often instantaneous queue lengths are polled between samples (for current and peak values). */
    queue_interval: duration().default(1),
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
  })
  .strict();

export const diskSchema = z
  .object({
    /** Whole disks whose name matches are not exported (RAM disks, loop devices, floppies). */
    device_exclude: z
      .string()
      .refine(isValidRegex, 'expected a valid regular expression')
      .default('^(ram|loop|fd|zram|nbd)\\d+$'),
  })
  .strict();

export const processGroupsSchema = z
  .object({
    /** Processes that match no criteria are grouped by name: this many names, by private bytes; the rest are "other". */
    max_unmatched: z.number().int().min(0).max(500).default(20),
    /** How many processes each top-K family exports (largest by private bytes, handles, threads). */
    top_k: z.number().int().min(0).max(100).default(10),
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
    /** Process dumps on demand, before a policy stop and when a leak is first flagged. */
    capture: captureSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of policyConfigIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
