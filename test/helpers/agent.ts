import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist/agent/cli.js');

export interface RunningAgent {
  readonly url: string;
  readonly port: number;
  readonly proc: ChildProcess;
  /** Everything the agent logged so far (logfmt lines). */
  logs(): string;
  /** Resolves when a log line matches, or rejects after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Writes a YAML config into a fresh temp dir and returns its path. */
export function writeConfig(yaml: string, name = 'agent.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ca-config-')), name);
  writeFileSync(file, yaml);
  return file;
}

/**
 * Starts the built agent on a loopback port the OS picks, and waits until it serves its first sample.
 * Build first (`npm run build`); the test command does.
 */
export async function startAgent(
  args: string[] = [],
  opts: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** How to tell it serves, for an agent behind TLS or auth. */
    ready?: (port: number) => Promise<boolean>;
    /** A command that runs the agent, such as setpriv with another user and capabilities. */
    wrapper?: readonly string[];
    /** Another copy of the built CLI to run (for one another user can reach). */
    cli?: string;
    /** An installed agent's command (a package's launcher), run instead of this checkout's node and CLI. */
    command?: readonly string[];
  } = {},
): Promise<RunningAgent> {
  const command = [...(opts.wrapper ?? []), ...(opts.command ?? [process.execPath, opts.cli ?? CLI]), '--web.listen-address=127.0.0.1:0', ...args];
  const proc = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);

  const waitForLog = (pattern: RegExp, timeoutMs = 15_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = pattern.exec(output);
        if (m) {
          resolve(m[0]);
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = (): void => {
        if (check()) done();
      };
      const onExit = (): void => {
        done();
        reject(new Error(`agent exited (code ${proc.exitCode}) before logging ${pattern}:\n${output}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in agent logs:\n${output}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(waiter), 1);
        proc.off('exit', onExit);
      };
      waiters.push(waiter);
      proc.once('exit', onExit);
    });

  const line = await waitForLog(/msg="contention-agent listening" address=\S+/, opts.timeoutMs ?? 20_000);
  const port = Number(/:(\d+)$/.exec(line)![1]);
  const url = `http://127.0.0.1:${port}`;
  const ready = opts.ready ?? (async () => (await fetch(`${url}/-/ready`)).status === 200);
  await waitFor(() => ready(port), opts.timeoutMs ?? 20_000);

  return {
    url,
    port,
    proc,
    logs: () => output,
    waitForLog,
    stop: () => stopProcess(proc),
  };
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
export function stopProcess(proc: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Polls `check` every 100 ms until it returns true; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** Parses an exposition into a list of {name, labels, value}. */
export function parseExposition(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
