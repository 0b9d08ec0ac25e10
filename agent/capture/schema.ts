import { z } from 'zod';
import { byteSize, duration } from '../config/units.js';

/** Process dumps the agent takes: when, how big, and how much of the disk they may use. */
export const captureSchema = z
  .object({
    /** Dump a process into its evidence directory before a policy stops it. */
    before_stop: z.boolean().default(true),
    /**
     * Dump the largest process of a criteria group when a leak is first flagged for it. Off by default:
     * a dump pauses the process while it is written (seconds per GiB), and a leak is not yet an outage.
     */
    on_leak: z.boolean().default(false),
    /** A criteria group is dumped at most once in this period for a leak. */
    leak_period: duration().default(86_400),
    /** Windows: a minidump with the full memory (and handles, threads, memory info); false: stacks, modules and handles only. */
    with_memory: z.boolean().default(true),
    /** A process whose memory (private plus shared anonymous; private bytes on Windows) exceeds this is never dumped. */
    max_process_bytes: byteSize().default(4 * 2 ** 30),
    /** Dumps kept in the evidence directories; the oldest are deleted first (their other evidence stays). */
    max_dumps: z.number().int().min(1).max(1000).default(5),
    /** Bytes all kept dumps may take together. */
    max_bytes: byteSize().default(16 * 2 ** 30),
    /** Free space a dump must leave on the evidence directory's file system. */
    min_free_bytes: byteSize().default(2 * 2 ** 30),
    /** A dump still being written after this is abandoned (its process resumes) and its file removed. */
    timeout: duration().default(300),
  })
  .strict();

export type CaptureConfig = z.output<typeof captureSchema>;
