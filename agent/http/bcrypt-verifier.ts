import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Checks a password against a bcrypt hash somewhere other than the event loop. */
export type BcryptVerifier = (password: string, hash: string) => Promise<boolean>;

// The worker is CommonJS evaluated from a string, so it runs the same from the sources (tests) and the
// build, and needs no file of its own beside the compiled one; bcryptjs is resolved from this module.
const WORKER_SOURCE = (bcryptPath: string) => `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(bcryptPath)});
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});`;

let shared: BcryptVerifier | undefined;

/**
 * One worker thread, shared by every check in the process (a reload makes a new check, not a new
 * thread): bcrypt costs about a tenth of a second in JavaScript, and on the event loop each guess
 * would delay samples and every other request. One thread is the concurrency bound: verifications
 * run one at a time, so failed logins can keep at most one core busy, never the sampler's.
 */
export function sharedBcryptVerifier(): BcryptVerifier {
  if (shared) return shared;
  const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
  let worker: Worker | undefined;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (ok: boolean) => void; reject: (err: Error) => void }>();
  const start = (): Worker => {
    const w = new Worker(WORKER_SOURCE(bcryptPath), { eval: true });
    w.unref();
    w.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      const entry = waiting.get(id);
      waiting.delete(id);
      entry?.resolve(ok);
    });
    const fail = (err: Error): void => {
      worker = undefined;
      for (const entry of waiting.values()) entry.reject(err);
      waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the bcrypt worker exited (${code})`)));
    return w;
  };
  shared = (password, hash) =>
    new Promise<boolean>((resolve, reject) => {
      worker ??= start();
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, password, hash });
    });
  return shared;
}
