// Idle processes for the benchmarks: many `sleep`s, forked in batches of their own process groups, all
// killed at exit even when the bench fails; the kernel limits they need are raised and put back.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { sleep } from './lib.mjs';

const BATCH = 250;
const SLEEP_SECONDS = 3600; // a bench killed hard still leaves nothing behind for long

const batches = []; // detached shells, each the leader of a process group holding its sleeps
let idleSpawned = 0;
const restore = []; // sysctls raised by a bench, put back on exit
const onExit = new Set(); // other things to kill on the way out (exporters)

/** Kills `proc` (a child process) at exit if it is still running. */
export function killAtExit(proc) {
  onExit.add(proc);
  return () => onExit.delete(proc);
}

function killEverything() {
  for (const shell of batches) {
    try {
      process.kill(-shell.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const proc of onExit) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  for (const [file, value] of restore.splice(0)) {
    try {
      writeFileSync(file, value);
    } catch {
      // nothing more can be done on the way out
    }
  }
}
process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));

const readNumber = (file) => Number(readFileSync(file, 'utf8').trim());

/** Makes sure the kernel and this user can hold `extra` more processes; raises what it may, else fails clearly. */
function checkLimits(extra) {
  const threadsNow = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3].split('/')[1]);
  const need = threadsNow + extra + 1000; // room for the exporters' threads and everyone else's work
  for (const file of ['/proc/sys/kernel/pid_max', '/proc/sys/kernel/threads-max']) {
    const value = readNumber(file);
    if (value >= need) continue;
    try {
      writeFileSync(file, String(need));
      if (!restore.some(([f]) => f === file)) restore.push([file, String(value)]);
      console.error(`raised ${file} from ${value} to ${need} for the bench`);
    } catch (err) {
      throw new Error(`${file} is ${value}, the bench needs ${need} (${threadsNow} threads now + ${extra}); raise it as root: ${err.message}`);
    }
  }
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const [, soft, hard] = /Max processes\s+(\S+)\s+(\S+)/.exec(limits) ?? [];
  const hardLimit = hard === 'unlimited' ? Infinity : Number(hard);
  if (process.getuid?.() !== 0 && hardLimit < need) throw new Error(`the hard limit on processes (ulimit -Hu) is ${hard}, the bench needs ${need}`);
  if (soft !== 'unlimited' && Number(soft) < need) console.error(`the shells raise ulimit -u from ${soft} to ${hard}`);
  const cgroups = readFileSync('/proc/self/cgroup', 'utf8');
  const pidsCgroup = /^\d+:pids:(.*)$/m.exec(cgroups)?.[1];
  for (const file of [`/sys/fs/cgroup/pids${pidsCgroup ?? ''}/pids.max`, `/sys/fs/cgroup${/^0::(.*)$/m.exec(cgroups)?.[1] ?? ''}/pids.max`]) {
    let max;
    try {
      max = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    if (max !== 'max' && Number(max) < need) throw new Error(`${file} allows ${max} tasks, the bench needs ${need}`);
  }
}

/** Forks `n` sleeping processes in one shell of their own; resolves once all are running. */
function spawnBatch(n) {
  const script = `ulimit -Su "$(ulimit -Hu)" 2>/dev/null; i=0; while [ $i -lt ${n} ]; do sleep ${SLEEP_SECONDS} & i=$((i+1)); done; echo ready; wait`;
  const shell = spawn('bash', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  batches.push(shell);
  return new Promise((resolve, reject) => {
    shell.once('error', reject);
    shell.once('exit', (code) => reject(new Error(`a batch shell exited early (${code})`)));
    shell.stdout.once('data', () => resolve());
  });
}

/** Processes whose process group is one of the batches' (the sleeps, not their shells). */
export function idleCount() {
  const groups = new Set(batches.map((s) => s.pid));
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (groups.has(pgrp) && Number(name) !== pgrp) n++;
    } catch {
      // exited meanwhile
    }
  }
  return n;
}

/** Every pid in /proc now: the count a bench reports beside the idle ones it made. */
export function processCount() {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}

/** Grows the idle processes to `target` (never shrinks them). */
export async function growIdleTo(target) {
  if (target <= idleSpawned) return;
  checkLimits(target - idleSpawned);
  const t0 = Date.now();
  while (idleSpawned < target) {
    const n = Math.min(BATCH, target - idleSpawned);
    await spawnBatch(n);
    idleSpawned += n;
  }
  const counted = idleCount();
  if (counted !== target) throw new Error(`expected ${target} idle processes, found ${counted}`);
  console.error(`${target} idle processes running (${((Date.now() - t0) / 1000).toFixed(1)} s to fork the new ones)`);
}

/** Kills every idle process and waits until they are gone (30 s at most). */
export async function killIdle() {
  killEverything();
  const deadline = Date.now() + 30000;
  let left;
  while ((left = idleCount()) > 0 && Date.now() < deadline) await sleep(200);
  if (left > 0) console.error(`warning: ${left} idle processes still present after cleanup`);
  batches.length = 0;
  idleSpawned = 0;
}
