import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cgroupUnit, parseCgroupLimit, parseFlatKeyed, parseProcCgroup } from '../../agent/procfs/cgroup.js';
import { parseMountinfo, realMounts } from '../../agent/procfs/mountinfo.js';
import { collectLocalPorts, parsePortRange } from '../../agent/procfs/net-tcp.js';
import { parsePidIo } from '../../agent/procfs/pid-io.js';
import { parseOpenFilesSoftLimit } from '../../agent/procfs/pid-limits.js';
import { parsePidStat } from '../../agent/procfs/pid-stat.js';
import { parsePidStatBytes } from '../../agent/procfs/pid-stat.js';
import { vmstatCounter } from '../../agent/procfs/vmstat.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('/proc/PID/io', () => {
  it('takes the storage figures, not rchar/wchar', () => {
    expect(parsePidIo('rchar: 6976\nwchar: 120\nsyscr: 10\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n')).toEqual({ readBytes: 4096, writeBytes: 8192 });
  });
  it('refuses a kernel without task I/O accounting and malformed numbers', () => {
    expect(() => parsePidIo('rchar: 1\nwchar: 2\n')).toThrow(/no read_bytes/);
    expect(() => parsePidIo('read_bytes: x\nwrite_bytes: 1\n')).toThrow(/bad read_bytes/);
  });
});

describe('/proc/PID/limits', () => {
  it('reads the soft open-files limit of a real capture', () => {
    expect(parseOpenFilesSoftLimit(fixture('limits.txt'))).toBe(20000);
  });
  it('knows unlimited and a missing line', () => {
    expect(parseOpenFilesSoftLimit('Max open files            unlimited            unlimited            files\n')).toBe(Infinity);
    expect(parseOpenFilesSoftLimit('Max processes 10 10 processes\n')).toBeUndefined();
  });
});

describe('stat page faults', () => {
  it('reads minor (field 10) and major (field 12) faults', () => {
    const line = '4242 (node) S 1 4242 4242 0 -1 4194560 1520 0 33 0 321 45 0 0 20 0 7 0 123456 1073741824 5120 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';
    const b = Buffer.from(line);
    const s = parsePidStatBytes(b, b.length);
    expect([s.minorFaults, s.majorFaults]).toEqual([1520, 33]);
    expect(parsePidStat(line)).not.toHaveProperty('majorFaults');
  });
});

describe('/proc/vmstat', () => {
  it('finds one counter wherever it sits, and says when the kernel lacks it', () => {
    expect(vmstatCounter('nr_free_pages 100\noom_kill 3\npgfault 9\n', 'oom_kill')).toBe(3);
    expect(vmstatCounter('oom_kill 7\n', 'oom_kill')).toBe(7);
    expect(vmstatCounter('nr_free_pages 100\noom_killer_x 3\n', 'oom_kill')).toBeUndefined();
  });
});

describe('mountinfo', () => {
  it('keeps the real filesystems of a systemd host: no kernel views, read-only, or second bind mount; tmpfs and escaped names kept', () => {
    const { mounts, malformed } = parseMountinfo(fixture('mountinfo-systemd.txt'));
    expect(malformed).toBe(1);
    expect(realMounts(mounts).map((m) => m.mountpoint)).toEqual(['/run', '/', '/dev/shm', '/boot/efi', '/var/lib/docker', '/mnt/my disk', '/run/user/1000', '/mnt/nas']);
  });
  it('on this kind of sandbox (a recorded capture): the root disk and /dev/shm once, not the cgroup tmpfs or a read-only tmpfs', () => {
    const real = realMounts(parseMountinfo(fixture('mountinfo-hybrid.txt')).mounts).map((m) => `${m.mountpoint} ${m.fstype}`);
    expect(real).toContain('/ ext4');
    expect(real.filter((m) => m.startsWith('/dev/shm '))).toHaveLength(1);
    expect(real.some((m) => m.startsWith('/sys'))).toBe(false);
  });
});

describe('cgroup files', () => {
  it('reads the unified path and the v1 controllers of /proc/PID/cgroup', () => {
    const c = parseProcCgroup('12:memory:/docker/abc\n11:cpu,cpuacct:/docker/abc\n1:name=systemd:/system.slice/x.service\n0::/system.slice/x.service\n');
    expect(c.unified).toBe('/system.slice/x.service');
    expect(c.v1.get('memory')).toBe('/docker/abc');
    expect(c.v1.get('cpuacct')).toBe('/docker/abc');
  });
  it('reads limits: max and v1\'s huge number are no limit', () => {
    expect(parseCgroupLimit('max\n')).toBe(Infinity);
    expect(parseCgroupLimit('9223372036854771712\n')).toBe(Infinity);
    expect(parseCgroupLimit('67108864\n')).toBe(67108864);
    expect(() => parseCgroupLimit('lots')).toThrow(/bad limit/);
  });
  it('reads flat-keyed files such as memory.events', () => {
    expect(parseFlatKeyed('low 0\nhigh 12\nmax 40\noom 2\noom_kill 1\noom_group_kill 0\n').get('oom_kill')).toBe(1);
  });
  it('names the systemd unit or the container', () => {
    expect(cgroupUnit('/system.slice/nginx.service')).toBe('nginx.service');
    expect(cgroupUnit('/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope')).toBe('app-gnome-firefox-1234.scope');
    expect(cgroupUnit('/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope')).toBe('docker:0123456789ab');
    expect(cgroupUnit('/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')).toBe('docker:0123456789ab');
    expect(cgroupUnit('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.scope')).toBe('containerd:fedcba987654');
    expect(cgroupUnit('/user.slice/user-1000.slice/user@1000.service/init.scope')).toBe('user@1000.service');
    expect(cgroupUnit('/')).toBeUndefined();
    expect(cgroupUnit('/process_api/2c5c')).toBeUndefined();
  });
});

describe('/proc/net/tcp', () => {
  it('counts distinct local ports in the range over real captures, every state', () => {
    const ports = new Set<number>();
    expect(collectLocalPorts(fixture('net-tcp.txt'), 1, 65535, ports)).toBe(0);
    expect(ports.size).toBeGreaterThan(0);
    expect(ports.has(0x07e8)).toBe(true);
    const six = new Set<number>();
    collectLocalPorts(fixture('net-tcp6.txt'), 1, 65535, six);
    expect(six.has(0x26db)).toBe(true);
  });
  it('keeps only the range, counts a port shared by two sockets once, and counts malformed lines', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:8000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 1 1',
      '   1: 0100007F:8000 0100007F:1F91 06 00000000:00000000 00:00000000 00000000     0        0 2 1',
      '   2: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1',
      '   3: nonsense',
      '',
    ].join('\n');
    const ports = new Set<number>();
    expect(collectLocalPorts(text, 32768, 60999, ports)).toBe(1);
    expect([...ports]).toEqual([0x8000]);
  });
  it('reads ip_local_port_range and refuses nonsense', () => {
    expect(parsePortRange('32768\t60999\n')).toEqual({ low: 32768, high: 60999 });
    expect(() => parsePortRange('60999 32768')).toThrow(/bad/);
  });
});
