import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import si from 'systeminformation';
import { distroName, parseOsRelease } from '../../agent/procfs/os-release.js';
import { readDistro } from '../../agent/collectors/host-info.js';
import { fixture } from './fixture.js';

describe('parseOsRelease', () => {
  it('reads quoted and bare values, skipping comments and blank lines', () => {
    const f = parseOsRelease(fixture('os-release-rhel9.txt'));
    expect(f.get('NAME')).toBe('Red Hat Enterprise Linux');
    expect(f.get('REDHAT_BUGZILLA_PRODUCT_VERSION')).toBe('9.3');
    expect(f.get('ID')).toBe('rhel');
    expect(parseOsRelease('# a comment\n\nNAME=\'single quoted\'\nX="a \\"b\\" \\$c"\nnot an assignment\n=no key\n')).toEqual(
      new Map([
        ['NAME', 'single quoted'],
        ['X', 'a "b" $c'],
      ]),
    );
  });
  it('names the distribution by NAME and VERSION_ID, as systeminformation did', () => {
    expect(distroName(parseOsRelease(fixture('os-release-debian12.txt')))).toBe('Debian GNU/Linux 12');
    expect(distroName(parseOsRelease(fixture('os-release-ubuntu2204.txt')))).toBe('Ubuntu 22.04');
    expect(distroName(parseOsRelease(fixture('os-release-alpine.txt')))).toBe('Alpine Linux 3.19.1');
    expect(distroName(parseOsRelease('PRETTY_NAME="Rolling Thing"\n'))).toBe('Rolling Thing');
    expect(distroName(parseOsRelease('NAME=Arch\n'))).toBe('Arch');
  });
});

describe('readDistro', () => {
  it('agrees with systeminformation on this host', async () => {
    const info = await si.osInfo();
    expect(readDistro()).toBe([info.distro, info.release].filter(Boolean).join(' '));
  });
  it('takes the first file that exists, and says undefined when none does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'os-release-'));
    try {
      const second = join(dir, 'usr-lib-os-release');
      writeFileSync(second, 'NAME="Second"\nVERSION_ID=2\n');
      expect(readDistro([join(dir, 'absent'), second])).toBe('Second 2');
      expect(readDistro([join(dir, 'absent')])).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
