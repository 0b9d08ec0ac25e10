import { statSync } from 'node:fs';
import { readBounded } from '../files/bounded-read.js';
import { parseIdNames } from '../procfs/passwd.js';

export interface IdNames {
  user(uid: number): string;
  group(gid: number): string;
  /** Re-reads the files if they changed since the last call (cheap: one stat each); whether a name may have changed. */
  refresh(): boolean;
}

/** User and group names from /etc/passwd and /etc/group, falling back to the number. */
export function createIdNames(passwdFile = '/etc/passwd', groupFile = '/etc/group'): IdNames {
  const load = (file: string) => {
    let mtime = -1;
    let names = new Map<number, string>();
    return () => {
      try {
        const now = statSync(file).mtimeMs;
        if (now !== mtime) {
          names = parseIdNames(readBounded(file, 64 * 1024 * 1024).toString('utf8'));
          mtime = now;
        }
      } catch {
        // Unreadable: numbers only, and the same empty map each time, so callers see no change.
        if (mtime !== -2) names = new Map();
        mtime = -2;
      }
      return names;
    };
  };
  const users = load(passwdFile);
  const groups = load(groupFile);
  let userNames = users();
  let groupNames = groups();
  return {
    user: (uid) => userNames.get(uid) ?? String(uid),
    group: (gid) => groupNames.get(gid) ?? String(gid),
    refresh() {
      const [u, g] = [users(), groups()];
      const changed = u !== userNames || g !== groupNames;
      userNames = u;
      groupNames = g;
      return changed;
    },
  };
}
