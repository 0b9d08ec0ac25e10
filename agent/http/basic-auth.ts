import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** A checker of `Authorization: Basic ...` headers against bcrypt hashes, user name to hash. */
export type BasicAuthCheck = (authorization: string | undefined) => Promise<boolean>;

// A hash of a password nobody knows, compared against when the user name is unknown so that a wrong
// user name costs the same time as a wrong password and does not tell which user names exist.
const DUMMY_HASH = '$2b$10$pbIXvbcTFs.TE1.Sx1mcwOCCqnUmaFhMm5iSt65HyvcNueRJYAlly';
const MAX_CACHED = 1024;

/**
 * bcrypt is slow on purpose (a tenth of a second at cost 10, more in plain JavaScript), and Prometheus
 * sends the same credentials with every scrape: paying that on each one would make the agent's CPU cost
 * a function of the scrape rate. So a verification that succeeded is remembered, as a SHA-256 digest of
 * user, password and the hash it matched (never the password itself), and the next request with the
 * same credentials is admitted at the cost of one SHA-256. Failures are never cached: guessing stays
 * as slow as bcrypt makes it.
 */
export function createBasicAuthCheck(users: ReadonlyMap<string, string>): BasicAuthCheck {
  const verified = new Set<string>();
  return async (authorization) => {
    const credentials = parseBasic(authorization);
    if (!credentials) return false;
    const hash = users.get(credentials.user);
    const key = createHash('sha256').update(`${credentials.user}\u0000${credentials.password}\u0000${hash ?? ''}`).digest('base64');
    if (hash !== undefined && verified.has(key)) return true;
    const ok = await bcrypt.compare(credentials.password, hash ?? DUMMY_HASH);
    if (!ok || hash === undefined) return false;
    if (verified.size >= MAX_CACHED) verified.clear();
    verified.add(key);
    return true;
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
