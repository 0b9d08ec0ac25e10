import { hostname } from 'node:os';
import { z } from 'zod';

export const rulesSchema = z
  .object({
    /** Evaluate alert rules on the agent's own history, for hosts no Prometheus scrapes. */
    enabled: z.boolean().default(false),
    /** Rule files in Prometheus's format; globs in the file name, relative to the config file. Empty: the rules shipped with the agent. */
    files: z.array(z.string().min(1)).default([]),
    /** The `job` label Prometheus would give the agent's series; the shipped rules match on it. */
    job: z.string().min(1).default('contention-agent'),
    /** The `instance` label Prometheus would give the agent's series: the host name, as on delivered alerts. */
    instance: z.string().min(1).default(hostname()),
  })
  .strict();
