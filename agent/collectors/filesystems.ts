import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo, realMounts, type Mount } from '../procfs/mountinfo.js';
import { readProcFile } from '../procfs/read.js';
import { isAbsent, unsupported, type CollectorSpec } from './collector.js';

/** At most this many filesystems are exported (a host with thousands of bind mounts stays bounded). */
export const FILESYSTEMS_MAX = 100;

/**
 * Space and inodes of every real mounted filesystem (see realMounts): a full disk is the most common
 * hang. statfs(2) per mount; "avail" is what an unprivileged writer can still use (f_bavail), which is
 * what a service running as a user hits first. A mount that does not answer (a dead network share) is
 * skipped this sample; statfs of a hung NFS mount can block, so NFS-like types are left out.
 */
export const filesystemsCollector: CollectorSpec = {
  name: 'filesystems',
  description: 'Space and inodes available and total on each real mounted filesystem',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      let text: string;
      try {
        text = readProcFile(join(procfs, 'self', 'mountinfo'));
      } catch (err) {
        if (isAbsent(err)) throw unsupported(`${join(procfs, 'self', 'mountinfo')} is absent: no mount table to read`);
        throw err;
      }
      const { mounts } = parseMountinfo(text);
      for (const m of realMounts(mounts).filter((x) => !NETWORK.has(x.fstype)).slice(0, FILESYSTEMS_MAX)) {
        const figures = statMount(m);
        if (!figures) continue;
        const labels = { mountpoint: m.mountpoint, fstype: m.fstype, device: m.source };
        sink.set('contention_filesystem_size_bytes', labels, figures.size);
        sink.set('contention_filesystem_avail_bytes', labels, figures.avail);
        // Some filesystems (btrfs, vfat) report no inode table: 0 files, not a full one.
        if (figures.files > 0) {
          sink.set('contention_filesystem_files', labels, figures.files);
          sink.set('contention_filesystem_files_free', labels, figures.filesFree);
        }
      }
    },
  }),
};

const NETWORK = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', 'fuse.sshfs', '9p']);

function statMount(m: Mount): { size: number; avail: number; files: number; filesFree: number } | undefined {
  try {
    const s = statfsSync(m.mountpoint);
    return { size: s.blocks * s.bsize, avail: s.bavail * s.bsize, files: s.files, filesFree: s.ffree };
  } catch {
    return undefined;
  }
}
