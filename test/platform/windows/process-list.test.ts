import { describe, expect, it } from 'vitest';
import { processBufferStep, STATUS_BUFFER_TOO_SMALL, STATUS_INFO_LENGTH_MISMATCH } from '../../../agent/platform/windows/process-list.js';

describe('sizing the process list buffer', () => {
  it('is done when the call succeeds', () => {
    expect(processBufferStep(0, 262_144, 201_344)).toEqual({ kind: 'done' });
  });

  it('grows past what the kernel asked for, since processes start between calls', () => {
    // 700 processes want some 600 KB; 1.25 times that, rounded up to 64 KiB.
    expect(processBufferStep(STATUS_INFO_LENGTH_MISMATCH, 262_144, 600_000)).toEqual({ kind: 'grow', bytes: 786_432 });
    expect(processBufferStep(STATUS_BUFFER_TOO_SMALL, 262_144, 300_000)).toEqual({ kind: 'grow', bytes: 393_216 });
  });

  it('doubles when the kernel reports no size', () => {
    expect(processBufferStep(STATUS_INFO_LENGTH_MISMATCH, 262_144, 0)).toEqual({ kind: 'grow', bytes: 524_288 });
  });

  it('fails on any other status, naming it, and on a size past the bound', () => {
    expect(processBufferStep(0xc0000022, 262_144, 0)).toEqual({ kind: 'fail', reason: 'NtQuerySystemInformation failed: NTSTATUS 0xC0000022' });
    expect(processBufferStep(STATUS_INFO_LENGTH_MISMATCH, 262_144, 2 ** 31).kind).toBe('fail');
  });
});
