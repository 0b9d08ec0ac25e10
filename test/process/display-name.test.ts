import { describe, expect, it } from 'vitest';
import { displayName, familyOf, groupNameOf, splitWindowsCommandLine } from '../../agent/process/display-name.js';

const linux = (exe: string, argv: string[], comm = exe.split('/').pop()!.slice(0, 15)) => displayName({ comm, exe, argv });

describe('display names', () => {
  it('tells Node processes apart by script, package bin or directory of a generic script', () => {
    expect(linux('/usr/bin/node', ['node', '/srv/api/server.js', '--port', '80'])).toBe('node api/server.js');
    expect(linux('/usr/bin/node', ['node', '--max-old-space-size=4096', '-r', 'dotenv/config', 'worker.js', 'token=s3cret'])).toBe('node worker.js');
    expect(linux('/usr/bin/node', ['node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'start'])).toBe('node npm');
    expect(linux('/usr/local/bin/node', ['node', '/app/node_modules/@nestjs/cli/bin/nest.js', 'start'])).toBe('node @nestjs/cli');
    expect(linux('/usr/bin/node', ['node', 'dist/index.js'])).toBe('node index.js');
    // A process that retitled itself (process.title = "npm start --web") keeps only its first word.
    expect(displayName({ comm: 'npm start --web', exe: '/usr/bin/node', argv: ['npm start --web'] })).toBe('npm');
    expect(linux('/usr/bin/node', ['node', '-e', 'while(1){}'])).toBe('node');
  });
  it('never shows code or arguments of a program given on the command line', () => {
    expect(linux('/usr/bin/node', ['node', '-e', 'code()', '--', '--password=s3cret'])).toBe('node');
    expect(linux('/usr/bin/node', ['node', '--', '--password=s3cret'])).toBe('node');
    expect(linux('/usr/bin/python3', ['python3', '-c', 'import os; os.system("curl -H token:s3cret")'])).toBe('python3');
    expect(linux('/usr/bin/perl', ['perl', '-e', 'print 1', 's3cret'])).toBe('perl');
    expect(linux('/usr/bin/ruby', ['ruby', '-e', 'puts 1', 's3cret'])).toBe('ruby');
    expect(linux('/usr/bin/php', ['php', '-r', 'echo 1;', 's3cret'])).toBe('php');
  });
  it('names Python scripts and modules, Java jars and main classes, .NET assemblies', () => {
    expect(linux('/usr/bin/python3.11', ['python3', '-u', '/opt/etl/run_batch.py', '--password', 'x'])).toBe('python run_batch.py');
    expect(linux('/usr/bin/python3', ['python3', '-m', 'celery', '-A', 'proj', 'worker'])).toBe('python -m celery');
    expect(linux('/usr/bin/python3', ['python3', '/srv/shop/manage.py', 'runserver'])).toBe('python shop/manage.py');
    expect(linux('/usr/lib/jvm/java-17/bin/java', ['java', '-Xmx2g', '-jar', '/opt/app/billing-2.3.jar', '--spring.datasource.password=x'])).toBe('java billing-2.3.jar');
    expect(linux('/usr/bin/java', ['java', '-cp', '/opt/tomcat/bin/bootstrap.jar', 'org.apache.catalina.startup.Bootstrap', 'start'])).toBe('java org.apache.catalina.startup.Bootstrap');
    expect(linux('/usr/bin/dotnet', ['dotnet', '/app/Shop.Api.dll'])).toBe('dotnet Shop.Api.dll');
  });
  it('names Ruby, PHP, Perl and PowerShell scripts', () => {
    expect(linux('/usr/bin/ruby3.1', ['ruby', '-I', 'lib', '/srv/app/bin/sidekiq'])).toBe('ruby sidekiq');
    expect(linux('/usr/bin/php8.2', ['php', '/var/www/artisan', 'queue:work'])).toBe('php artisan');
    expect(linux('/usr/bin/perl', ['perl', '-w', '/usr/sbin/munin-node'])).toBe('perl munin-node');
    expect(displayName({ comm: 'pwsh', exe: 'C:\\Program Files\\PowerShell\\7\\pwsh.exe', argv: ['pwsh.exe', '-NoProfile', '-File', 'C:\\jobs\\Sync-Users.ps1'] })).toBe('pwsh Sync-Users.ps1');
  });
  it('names IIS worker processes by application pool and svchost by its services or group', () => {
    const w3wp = splitWindowsCommandLine('c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "Shop API" -v "v4.0" -l "webengine4.dll" -a \\\\.\\pipe\\iisipm1 -h "C:\\inetpub\\temp\\apppools\\Shop API\\Shop API.config" -w "" -m 0');
    expect(displayName({ comm: 'w3wp', exe: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe', argv: w3wp })).toBe('w3wp Shop API');
    const svchost = splitWindowsCommandLine('C:\\Windows\\system32\\svchost.exe -k NetworkService -p -s Dnscache');
    expect(displayName({ comm: 'svchost', exe: 'C:\\Windows\\System32\\svchost.exe', argv: svchost })).toBe('svchost Dnscache');
    expect(displayName({ comm: 'svchost', exe: 'C:\\Windows\\System32\\svchost.exe', argv: splitWindowsCommandLine('C:\\Windows\\system32\\svchost.exe -k netsvcs -p') })).toBe('svchost -k netsvcs');
    expect(displayName({ comm: 'svchost', exe: '', argv: [], services: ['Winmgmt', 'BITS', 'Schedule', 'gpsvc', 'ProfSvc'] })).toBe('svchost BITS,ProfSvc,Schedule+2');
  });
  it('is the process name for anything else, bounded and printable', () => {
    expect(linux('/usr/sbin/nginx', ['nginx: worker process'], 'nginx')).toBe('nginx');
    expect(displayName({ comm: 'a\u0001b', exe: '', argv: [] })).toBe('a?b');
    expect(linux('/usr/bin/node', ['node', `/x/${'a'.repeat(100)}.js`]).length).toBe(64);
  });
  it('knows interpreter families by file name, with versions and .exe', () => {
    expect(['node', 'nodejs', 'python3.12', 'pypy3', 'javaw.exe', 'ruby3.2', 'php-cgi', 'perl5.36', 'powershell.exe'].map(familyOf)).toEqual(['node', 'node', 'python', 'python', 'java', 'ruby', 'php', 'perl', 'pwsh']);
    expect(familyOf('nodemon')).toBeUndefined();
  });
});

describe('group names from display names', () => {
  it('drop a trailing instance counter so no pid or serial ends up in a group', () => {
    expect(groupNameOf('memfd:sealed-91')).toBe('memfd:sealed');
    expect(groupNameOf('worker_7')).toBe('worker');
    expect(groupNameOf('python3.11')).toBe('python3.11');
    expect(groupNameOf('node api/server.js')).toBe('node api/server.js');
    expect(groupNameOf('-1')).toBe('-1');
  });
});

describe('Windows command lines', () => {
  it('split as CommandLineToArgvW does', () => {
    expect(splitWindowsCommandLine('"C:\\Program Files\\a.exe" x "y z" a\\\\"b c" d\\e "q\\"r"')).toEqual(['C:\\Program Files\\a.exe', 'x', 'y z', 'a\\b c', 'd\\e', 'q"r']);
    expect(splitWindowsCommandLine('  ')).toEqual([]);
  });
});
