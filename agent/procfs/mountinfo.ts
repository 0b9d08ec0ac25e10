/** A mounted filesystem as /proc/self/mountinfo lists it. */
export interface Mount {
  readonly mountpoint: string;
  readonly fstype: string;
  readonly source: string;
  /** major:minor of the filesystem: bind mounts of one filesystem share it. */
  readonly device: string;
  readonly readOnly: boolean;
}

/**
 * Filesystem types that hold no user data that can fill: kernel interfaces and views. tmpfs and ramfs
 * stay out of this list on purpose — a full /run or /dev/shm breaks services as a full disk does —
 * except devtmpfs, whose size is nominal.
 */
export const PSEUDO_FILESYSTEMS: ReadonlySet<string> = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs',
  'efivarfs', 'fusectl', 'hugetlbfs', 'mqueue', 'nsfs', 'proc', 'pstore', 'rpc_pipefs', 'securityfs',
  'selinuxfs', 'squashfs', 'sysfs', 'tracefs', 'overlay_internal', 'iso9660', 'ramfs', 'fuse.lxcfs',
  'fuse.gvfsd-fuse', 'fuse.portal', 'nfsd', 'rootfs',
]);

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * Parses /proc/self/mountinfo: "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw".
 * The optional fields end at " - ", after which come the type and the source. Malformed lines are
 * counted, not fatal.
 */
export function parseMountinfo(text: string): { mounts: Mount[]; malformed: number } {
  const mounts: Mount[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const dash = line.indexOf(' - ');
    const head = (dash < 0 ? '' : line.slice(0, dash)).split(' ');
    const tail = dash < 0 ? [] : line.slice(dash + 3).split(' ');
    if (head.length < 6 || tail.length < 2) {
      malformed++;
      continue;
    }
    mounts.push({
      mountpoint: unescape(head[4]!),
      fstype: tail[0]!,
      source: unescape(tail[1]!),
      device: head[2]!,
      readOnly: head[5]!.split(',').includes('ro'),
    });
  }
  return { mounts, malformed };
}

/**
 * The mounts whose space and inodes are worth judging: writable, not pseudo filesystems, not under
 * /proc or /sys, each mount point once (the last mount over a point hides the earlier), and a
 * filesystem mounted at several points (bind mounts, same device number) at its first point only.
 */
export function realMounts(mounts: readonly Mount[]): Mount[] {
  const byPoint = new Map<string, Mount>();
  for (const m of mounts) {
    byPoint.delete(m.mountpoint);
    byPoint.set(m.mountpoint, m);
  }
  const devices = new Set<string>();
  const out: Mount[] = [];
  for (const m of byPoint.values()) {
    if (PSEUDO_FILESYSTEMS.has(m.fstype) || m.readOnly) continue;
    if (/^\/(proc|sys)(\/|$)/.test(m.mountpoint)) continue;
    if (devices.has(m.device)) continue;
    devices.add(m.device);
    out.push(m);
  }
  return out;
}
