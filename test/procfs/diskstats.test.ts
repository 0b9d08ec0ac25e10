import { describe, expect, it } from 'vitest';
import { parseDiskstats } from '../../agent/procfs/diskstats.js';
import { fixture } from './fixture.js';

describe('parseDiskstats', () => {
  it('reads a current kernel capture (17 fields): in-flight, busy and weighted time of each device', () => {
    const disks = parseDiskstats(fixture('diskstats.txt'));
    expect(disks.map((d) => d.device)).toEqual(['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7', 'vda', 'zram0']);
    // 254 0 vda 38822 8740 2083338 16906 24160 13128 3014208 11932 0 8464 29565 7987 25 263432 567 3742 159
    expect(disks[8]).toMatchObject({ device: 'vda', inFlight: 0, ioMs: 8464, weightedMs: 29565 });
    for (const d of disks.filter((x) => x.device !== 'vda')) expect(d).toMatchObject({ inFlight: 0, ioMs: 0, weightedMs: 0 });
  });

  it('reads a 4.14 kernel (11 fields): in-flight and weighted time', () => {
    const disks = parseDiskstats(fixture('diskstats-4.14.txt'));
    expect(disks.map((d) => d.device)).toEqual(['sda', 'sda1', 'nvme0n1', 'nvme0n1p1', 'dm-0', 'loop0']);
    const sda = disks[0]!;
    expect(sda.inFlight).toBe(3);
    expect(sda.ioMs).toBe(95180);
    expect(sda.weightedMs).toBe(217716);
    expect(disks[2]!.inFlight).toBe(17);
  });

  it('keeps names with spaces and slashes and skips garbage', () => {
    const disks = parseDiskstats(fixture('diskstats-odd-names.txt'));
    expect(disks.map((d) => d.device)).toEqual(['drbd0', 'vault disk 0', 'cciss/c0d0']);
    expect(disks[1]!.inFlight).toBe(5);
    expect(disks[1]!.weightedMs).toBe(305);
    expect(disks[2]!.inFlight).toBe(2);
  });
});
