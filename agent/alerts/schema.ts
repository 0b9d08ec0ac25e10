import { z } from 'zod';
import { duration } from '../config/units.js';

const url = z.string().regex(/^https?:\/\/[^\s/]+/, 'expected an http:// or https:// URL');

export const alertingSchema = z
  .object({
    /** Alertmanager base URLs; the agent POSTs to /api/v2/alerts on each. */
    alertmanagers: z.array(url).default([]),
    /** A URL that receives every alert change as JSON. */
    webhook: url.optional(),
    /** How often a firing alert is sent again, so Alertmanager keeps it. */
    resend_interval: duration().default(60),
    timeout: duration().default(10),
    /** Batches kept per receiver while it is unreachable. */
    max_queue: z.number().int().min(1).max(10_000).default(100),
  })
  .strict();
