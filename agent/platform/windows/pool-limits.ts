/**
 * 64-bit Windows does not tell user mode how large paged and nonpaged pool may grow (the kernel
 * debugger's `!vm` does: "NonPagedPool Max", "PagedPool Maximum"). The agent therefore exports the
 * limits as estimates, labelled `source="estimate"`, by the rule field engineers use for 64-bit
 * Windows since Vista and Server 2008: nonpaged pool up to 75% of physical memory but at most
 * 128 GiB, paged pool 128 GiB. Later releases can allow more, so the estimate errs on the side of
 * warning early.
 */
export const GiB = 1024 ** 3;

export const NONPAGED_SHARE_OF_RAM = 0.75;
export const NONPAGED_CAP_BYTES = 128 * GiB;
export const PAGED_LIMIT_BYTES = 128 * GiB;

export interface PoolLimitEstimate {
  readonly paged: number;
  readonly nonpaged: number;
}

export function estimatePoolLimits(physicalBytes: number): PoolLimitEstimate {
  if (!Number.isFinite(physicalBytes) || physicalBytes <= 0) throw new RangeError(`physical memory must be positive, got ${physicalBytes}`);
  return {
    paged: PAGED_LIMIT_BYTES,
    nonpaged: Math.min(Math.floor(physicalBytes * NONPAGED_SHARE_OF_RAM), NONPAGED_CAP_BYTES),
  };
}
