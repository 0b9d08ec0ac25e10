/**
 * Names that tell processes apart without showing their command lines. Nine Node processes are all
 * "node"; their scripts are not. For an interpreter or a host the name is the program it runs — the
 * script, module, jar, assembly, IIS application pool or hosted services — and never an argument
 * after it: those are where tokens and passwords sit.
 */

export interface NamingInput {
  readonly comm: string;
  readonly exe: string;
  /** The arguments, argv[0] first. */
  readonly argv: readonly string[];
  /** Windows services the process hosts, from the service manager. */
  readonly services?: readonly string[];
}

const MAX_NAME = 64;

/** The last path component, for either separator. */
export function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? path : path.slice(cut + 1);
}

/** Scripts whose own name says nothing; their directory does ("api/index.js"). */
const GENERIC_SCRIPT = /^(index|main|server|app|cli|start|run|__main__|manage|wsgi|asgi)\.[a-z]+$/i;

function scriptName(path: string): string {
  const base = baseName(path);
  if (!GENERIC_SCRIPT.test(base)) return base;
  const parts = path.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  const dir = parts.length >= 2 ? parts[parts.length - 2]! : '';
  return dir && dir !== 'bin' && dir !== 'dist' && dir !== 'src' && dir !== 'lib' ? `${dir}/${base}` : base;
}

/** The first operand after the options; `withValue` lists the options that take the next argument. */
function firstOperand(args: readonly string[], withValue: ReadonlySet<string>): { operand?: string; at: number } {
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      const next = args[i + 1];
      return next === undefined || next.startsWith('-') ? { at: i + 1 } : { operand: next, at: i + 1 };
    }
    if (a.startsWith('-')) {
      if (withValue.has(a)) i++;
      continue;
    }
    return { operand: a, at: i };
  }
  return { at: args.length };
}

const NODE_VALUE_OPTS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-e', '--eval', '-p', '--print', '--title', '--env-file', '-C', '--conditions']);
const PYTHON_VALUE_OPTS = new Set(['-W', '-X', '-Q']);
const JAVA_VALUE_OPTS = new Set(['-cp', '-classpath', '--class-path', '-p', '--module-path', '--add-modules', '--add-opens', '--add-exports', '-javaagent']);
const RUBY_PERL_VALUE_OPTS = new Set(['-I', '-r', '-e', '-E', '-C', '-M', '-x']);
const PHP_VALUE_OPTS = new Set(['-c', '-d', '-z', '-r', '-B', '-R', '-F', '-E', '-t', '-S']);

type Family = 'node' | 'python' | 'java' | 'dotnet' | 'ruby' | 'php' | 'perl' | 'pwsh' | 'w3wp' | 'svchost';

/** Which interpreter or host a program is, by its file name (version suffixes and .exe allowed). */
export function familyOf(program: string): Family | undefined {
  const name = baseName(program).toLowerCase().replace(/\.exe$/, '');
  if (/^(node|nodejs)(\d+)?$/.test(name)) return 'node';
  if (/^python(\d+(\.\d+)?)?[dmu]?$|^pypy\d*$/.test(name)) return 'python';
  if (name === 'java' || name === 'javaw') return 'java';
  if (name === 'dotnet') return 'dotnet';
  if (/^ruby(\d+(\.\d+)?)?$/.test(name)) return 'ruby';
  if (/^php(\d+(\.\d+)?)?(-cli|-cgi)?$/.test(name)) return 'php';
  if (/^perl(\d+(\.\d+)*)?$/.test(name)) return 'perl';
  if (name === 'pwsh' || name === 'powershell') return 'pwsh';
  if (name === 'w3wp') return 'w3wp';
  if (name === 'svchost') return 'svchost';
  return undefined;
}

/** "-ap" value of w3wp: the IIS application pool ("w3wp.exe -ap \"DefaultAppPool\" -v v4.0 …"). */
function optionValue(args: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 1; i < args.length - 1; i++) if (names.includes(args[i]!.toLowerCase())) return args[i + 1];
  return undefined;
}

/** Options after which the program is code on the command line, not a file: no script to name, and the rest is not shown. */
const EVAL_OPTS: Partial<Record<Family, ReadonlySet<string>>> = {
  node: new Set(['-e', '--eval', '-p', '--print']),
  python: new Set(['-c']),
  ruby: new Set(['-e']),
  perl: new Set(['-e', '-E']),
  php: new Set(['-r']),
};

function nameFor(family: Family, input: NamingInput): string | undefined {
  const args = input.argv;
  const evals = EVAL_OPTS[family];
  if (evals && args.some((a, i) => i > 0 && evals.has(a))) return undefined;
  switch (family) {
    case 'node': {
      const { operand } = firstOperand(args, NODE_VALUE_OPTS);
      if (!operand) return undefined;
      const m = /[\\/]node_modules[\\/](@[^\\/]+[\\/][^\\/]+|[^\\/]+)[\\/]/.exec(operand);
      // A package's bin script names the package better than its file ("npm", "next", "@nestjs/cli").
      if (m && (/[\\/]bin[\\/]/.test(operand) || /-cli\.[cm]?js$/.test(operand))) return `node ${m[1]!.replace(/\\/g, '/')}`;
      return `node ${scriptName(operand)}`;
    }
    case 'python': {
      const m = optionValue(args, ['-m']);
      if (m) return `python -m ${m}`;
      const { operand } = firstOperand(args, PYTHON_VALUE_OPTS);
      return operand && operand !== '-c' ? `python ${scriptName(operand)}` : undefined;
    }
    case 'java': {
      const jar = optionValue(args, ['-jar']);
      if (jar) return `java ${baseName(jar)}`;
      const mod = optionValue(args, ['-m', '--module']);
      if (mod) return `java ${mod}`;
      const { operand } = firstOperand(args, JAVA_VALUE_OPTS);
      return operand ? `java ${operand}` : undefined;
    }
    case 'dotnet': {
      const dll = args.slice(1).find((a) => /\.dll$/i.test(a));
      return dll ? `dotnet ${baseName(dll)}` : undefined;
    }
    case 'ruby':
    case 'perl': {
      const { operand } = firstOperand(args, RUBY_PERL_VALUE_OPTS);
      return operand ? `${family} ${scriptName(operand)}` : undefined;
    }
    case 'php': {
      const { operand } = firstOperand(args, PHP_VALUE_OPTS);
      return operand ? `php ${scriptName(operand)}` : undefined;
    }
    case 'pwsh': {
      const file = optionValue(args, ['-file', '-f']);
      return file ? `pwsh ${baseName(file)}` : undefined;
    }
    case 'w3wp': {
      const pool = optionValue(args, ['-ap']);
      return pool ? `w3wp ${pool}` : undefined;
    }
    case 'svchost': {
      const services = input.services ?? [];
      if (services.length > 0) {
        const shown = [...services].sort().slice(0, 3).join(',');
        return `svchost ${shown}${services.length > 3 ? `+${services.length - 3}` : ''}`;
      }
      const s = optionValue(args, ['-s']);
      if (s) return `svchost ${s}`;
      const k = optionValue(args, ['-k']);
      return k ? `svchost -k ${k}` : undefined;
    }
  }
}

/** Bounded and printable: names go into labels and table cells. */
function tidy(name: string): string {
  // Control characters would break a table cell or a log line.
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > MAX_NAME ? `${clean.slice(0, MAX_NAME - 1)}…` : clean;
}

/**
 * The display name of a process: for an interpreter or host, "node api/server.js", "python -m celery",
 * "java app.jar", "dotnet Shop.dll", "w3wp DefaultAppPool", "svchost Dnscache"; for anything else its
 * name (comm). A process that retitled itself (node's process.title, "postgres: writer") keeps its
 * first word only: titles carry arguments.
 */
export function displayName(input: NamingInput): string {
  const family = familyOf(input.exe) ?? familyOf(input.comm) ?? (input.argv[0] ? familyOf(input.argv[0]) : undefined);
  if (family) {
    const named = nameFor(family, input);
    if (named) return tidy(named);
  }
  const comm = input.comm.includes(' ') ? input.comm.slice(0, input.comm.indexOf(' ')) : input.comm;
  return tidy(comm || baseName(input.exe) || '?');
}

/**
 * A display name made fit to be a group name: a trailing counter after a separator
 * ("memfd:sealed-91", "worker_7") is dropped, so that a name per instance does not make a group per
 * instance, and no pid ends up in a group label.
 */
export function groupNameOf(name: string): string {
  const stripped = name.replace(/[-_:/#]\d+$/, '');
  return stripped === '' ? name : stripped;
}

/**
 * A Windows command line split as the C runtime does (CommandLineToArgvW): spaces separate, double
 * quotes group, backslashes escape only before a quote.
 */
export function splitWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inQuotes = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      let n = 0;
      while (line[i + n] === '\\') n++;
      if (line[i + n] === '"') {
        cur += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) {
          cur += '"';
          i += n;
        } else i += n - 1;
      } else {
        cur += '\\'.repeat(n);
        i += n - 1;
      }
      has = true;
    } else if (c === '"') {
      if (inQuotes && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else inQuotes = !inQuotes;
      has = true;
    } else if ((c === ' ' || c === '\t') && !inQuotes) {
      if (has) args.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) args.push(cur);
  return args;
}
