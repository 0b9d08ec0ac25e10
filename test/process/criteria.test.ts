import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.js';
import { compileCriteria, matchingCriteria, type ProcessIdentity } from '../../agent/process/criteria.js';
import { globToRegExp } from '../../agent/process/glob.js';

const proc = (p: Partial<ProcessIdentity>): ProcessIdentity => ({
  comm: 'x', exe: '/usr/bin/x', cmdline: 'x', argv0: 'x', uid: 1000, user: 'alice', gid: 1000, group: 'alice', ...p,
});

const criteriaOf = (yaml: string) => {
  const result = parseConfigText(yaml, 'c.yaml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return compileCriteria(result.config.criteria);
};

describe('globToRegExp', () => {
  it('matches *, ? and classes, anchored', () => {
    expect(globToRegExp('systemd*').test('systemd-journald')).toBe(true);
    expect(globToRegExp('sshd').test('sshd-session')).toBe(false);
    expect(globToRegExp('w3wp?').test('w3wp2')).toBe(true);
    expect(globToRegExp('/usr/[sl]bin/*').test('/usr/sbin/nginx')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('criteria (the WSRM matching model)', () => {
  const criteria = criteriaOf(`
criteria:
  - name: web
    include:
      - { exe: "/usr/sbin/nginx" }
      - { cmdline: "gunicorn .*app:main", user: www-data }
    exclude:
      - { name: "nginx: cache manager*" }
  - name: everything-of-alice
    include: [{ user: alice }]
`);

  it('matches any include rule, with the fields of one rule ANDed', () => {
    expect(matchingCriteria(criteria, proc({ exe: '/usr/sbin/nginx', user: 'root', uid: 0 }))).toEqual(['web']);
    expect(matchingCriteria(criteria, proc({ cmdline: 'python3 -m gunicorn -w 4 app:main', user: 'www-data', uid: 33 }))).toEqual(['web']);
    expect(matchingCriteria(criteria, proc({ cmdline: 'gunicorn -w 4 app:main', user: 'bob', uid: 1001 }))).toEqual([]);
  });

  it('lets an exclude rule win, matching the process title a program sets', () => {
    const helper = proc({ exe: '/usr/sbin/nginx', comm: 'nginx', argv0: 'nginx: cache manager process', cmdline: 'nginx: cache manager process', user: 'www-data', uid: 33 });
    expect(matchingCriteria(criteria, helper)).toEqual([]);
  });

  it('lists every matching criteria in config order; the first is the group', () => {
    expect(matchingCriteria(criteria, proc({ exe: '/usr/sbin/nginx' }))).toEqual(['web', 'everything-of-alice']);
  });

  it('matches a user by name or by number', () => {
    const byId = criteriaOf('criteria:\n  - name: by-id\n    include: [{ user: 1000 }]\n');
    expect(matchingCriteria(byId, proc({}))).toEqual(['by-id']);
  });

  it('rejects a bad regex, an unknown field, an empty rule and a reserved name with the path', () => {
    const result = parseConfigText(
      'criteria:\n  - name: a\n    include:\n      - { cmdline: "([" }\n      - { path: "/x" }\n      - {}\n  - name: other\n    include: [{ name: x }]\n',
      'c.yaml',
    );
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors.some((e) => e.startsWith('c.yaml:4: criteria[0].include[0].cmdline: expected an RE2 regular expression'))).toBe(true);
    expect(errors).toContain('c.yaml:5: criteria[0].include[1].path: unknown setting (not one of the keys this section takes)');
    expect(errors.some((e) => e.startsWith('c.yaml:6: criteria[0].include[2]: expected at least one of'))).toBe(true);
    expect(errors.some((e) => e.startsWith('c.yaml:7: criteria[1].name: "other" is the group'))).toBe(true);
  });
});
