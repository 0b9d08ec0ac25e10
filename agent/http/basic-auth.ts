import { createHash } from 'node:crypto';
import { sharedBcryptVerifier, type BcryptVerifier } from './bcrypt-verifier.js';

/**
 * What a request's credentials came to: admitted; refused (401); refused without looking because
 * its client failed too often lately (429); or refused because too many verifications wait (503).
 */
export type AuthOutcome = 'ok' | 'denied' | 'limited' | 'busy';

/** A checker of `Authorization: Basic ...` headers against bcrypt hashes, for a client address. */
export type BasicAuthCheck = (authorization: string | undefined, client: string) => Promise<AuthOutcome>;

export interface BasicAuthLimits {
  /** Verifications a client may have failed (or have under way) before it is refused without one. */
  readonly failureBurst: number;
  /** How fast a client earns back one attempt, per second. */
  readonly failureRefillPerSecond: number;
  /** Verifications queued for the worker at once, from all clients; past it, 503. */
  readonly maxPending: number;
  /** Client addresses whose failures are remembered; the oldest are forgotten past it. */
  readonly maxClients: number;
}

export const BASIC_AUTH_LIMITS: BasicAuthLimits = { failureBurst: 10, failureRefillPerSecond: 0.5, maxPending: 16, maxClients: 4096 };

const MAX_CACHED = 1024;

/**
 * bcrypt is slow on purpose (a tenth of a second at cost 10, more in plain JavaScript), and Prometheus
 * sends the same credentials with every scrape: paying that on each one would make the agent's CPU cost
 * a function of the scrape rate. So a verification that succeeded is remembered, as a SHA-256 digest of
 * user, password and the hash it matched (never the password itself), and the next request with the
 * same credentials is admitted at the cost of one SHA-256, before any limit applies. Failures are never
 * cached; they run on a worker thread, at most `maxPending` waiting, and each client address has a
 * token bucket of attempts, so guessing costs the attacker time and the agent at most one core.
 *
 * An unknown user name is checked against a configured user's hash (and refused whatever the result),
 * so it costs exactly what a wrong password costs at that hash's cost, and timing tells no user names.
 */
export function createBasicAuthCheck(
  users: ReadonlyMap<string, string>,
  opts: { verify?: BcryptVerifier; limits?: BasicAuthLimits; now?: () => number } = {},
): BasicAuthCheck {
  const verify = opts.verify ?? sharedBcryptVerifier();
  const limits = opts.limits ?? BASIC_AUTH_LIMITS;
  const now = opts.now ?? Date.now;
  const decoy = users.values().next().value;
  const verified = new Set<string>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  let pending = 0;

  const bucketOf = (client: string): { tokens: number; at: number } => {
    const t = now();
    let b = buckets.get(client);
    if (b) {
      b.tokens = Math.min(limits.failureBurst, b.tokens + ((t - b.at) / 1000) * limits.failureRefillPerSecond);
      b.at = t;
      // Refreshed entries move to the end, so the first is the longest unseen.
      buckets.delete(client);
    } else {
      b = { tokens: limits.failureBurst, at: t };
      if (buckets.size >= limits.maxClients) buckets.delete(buckets.keys().next().value!);
    }
    buckets.set(client, b);
    return b;
  };

  return async (authorization, client) => {
    const credentials = parseBasic(authorization);
    if (!credentials || decoy === undefined) return 'denied';
    const hash = users.get(credentials.user);
    const key = createHash('sha256').update(`${credentials.user}\u0000${credentials.password}\u0000${hash ?? ''}`).digest('base64');
    if (hash !== undefined && verified.has(key)) return 'ok';
    const bucket = bucketOf(client);
    if (bucket.tokens < 1) return 'limited';
    if (pending >= limits.maxPending) return 'busy';
    bucket.tokens -= 1;
    pending++;
    let ok: boolean;
    try {
      ok = await verify(credentials.password, hash ?? decoy);
    } finally {
      pending--;
    }
    if (!ok || hash === undefined) return 'denied';
    bucket.tokens = Math.min(limits.failureBurst, bucket.tokens + 1);
    if (verified.size >= MAX_CACHED) verified.clear();
    verified.add(key);
    return 'ok';
  };
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
