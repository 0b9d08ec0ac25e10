import { z } from 'zod';
import { duration } from '../config/units.js';

export const historySchema = z
  .object({
    /** Raw samples kept per series (at the sample interval). */
    raw_retention: duration({ max: 7 * 86_400, why: 'a week of raw points' }).default(3600),
    /** Width of the downsampled buckets kept beyond that. */
    downsample_interval: duration().default(300),
    /** How far back downsampled buckets reach. */
    retention: duration({ max: 400 * 86_400, why: 'about 13 months' }).default(86_400),
    /** Most series held; each costs 16 bytes per raw point and per bucket (about 16 KiB at the defaults). */
    max_series: z.number().int().min(10).max(100_000).default(2000),
    /** How often the history is written to paths.state_dir (and always at shutdown); 0 keeps it in memory only. */
    persist_interval: duration({ min: 0 }).default(60),
  })
  .strict();

export const detectionSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** The longest time scale judged (at most history.retention is held). */
    window: duration().default(86_400),
    /** The shortest time scale judged: the least history a subject needs before it can be judged. */
    min_window: duration().default(120),
    /** How long a leak verdict must hold before the subject is a suspect (hysteresis on set). */
    confirm: duration({ min: 0 }).default(30),
    /** How long a suspect must go without a leak verdict before it clears (hysteresis on clear). */
    clear_after: duration({ min: 0 }).default(600),
    /** Mann–Kendall confidence a leak needs, 0 to 1. */
    min_confidence: z.number().gt(0).lt(1).default(0.99),
    /** Growth per day, as a share of the level, below which growth is not worth reporting. */
    min_daily_growth: z.number().min(0).max(1e6).default(0.05),
    /** Most subjects exported besides the suspects themselves (the strongest candidates). */
    max_exported: z.number().int().min(0).max(500).default(20),
    /** Processes with their own history besides those that match a criteria: the top N by private bytes. */
    watched_processes: z.number().int().min(0).max(200).default(10),
  })
  .strict();
