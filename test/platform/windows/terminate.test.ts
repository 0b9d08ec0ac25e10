import { describe, expect, it } from 'vitest';
import { refusedTarget, terminateVerified, trimWorkingSet, TRIM_SIZE, verifyIdentity } from '../../../agent/platform/windows/terminate.js';
import { filetime } from './spi-buffer.js';

const started = Date.UTC(2026, 10, 24, 9, 30, 12, 345);

describe('verifying the process behind a held handle', () => {
  it('acts only on the process that started when the decision says', () => {
    expect(verifyIdentity({ exited: false, creation: filetime(started) }, started)).toBe('same');
    // The 100 ns remainder GetProcessTimes adds does not matter: both sides truncate to the ms.
    expect(verifyIdentity({ exited: false, creation: filetime(started) + 7_531n }, started)).toBe('same');
  });

  it('refuses a pid that now belongs to another process, even one a millisecond apart', () => {
    expect(verifyIdentity({ exited: false, creation: filetime(started + 1) }, started)).toBe('mismatch');
    expect(verifyIdentity({ exited: false, creation: filetime(started - 3_600_000) }, started)).toBe('mismatch');
  });

  it('reports a process that exited but is still held open by someone as gone', () => {
    expect(verifyIdentity({ exited: true, creation: filetime(started) }, started)).toBe('gone');
  });

  it('fails when the creation time cannot be read or makes no sense', () => {
    expect(verifyIdentity({ exited: false, creation: undefined }, started)).toBe('failed');
    expect(verifyIdentity({ exited: false, creation: 0n }, started)).toBe('failed');
  });

  it('never targets Idle, System or the agent itself', () => {
    for (const pid of [0, 4, process.pid, -1, 1.5]) expect(refusedTarget(pid), String(pid)).toBe(true);
    expect(refusedTarget(5124)).toBe(false);
  });

  it('empties the working set with (SIZE_T)-1 for both bounds', () => {
    expect(TRIM_SIZE).toBe(2n ** 64n - 1n);
  });

  it.runIf(process.platform !== 'win32')('refuses to act off Windows instead of pretending to', async () => {
    await expect(terminateVerified(5124, started)).rejects.toThrow(`not available on ${process.platform}`);
    await expect(trimWorkingSet(5124, started)).rejects.toThrow(`not available on ${process.platform}`);
  });
});
