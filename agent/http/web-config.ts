import { dirname, resolve } from 'node:path';
import { createSecureContext, type SecureVersion, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import { formatPath, loadYamlFile } from '../config/load.js';
import { CONFIG_FILE_MAX_BYTES, readBounded } from '../files/bounded-read.js';

// The web config file in the Prometheus exporter-toolkit's format, so one file can serve this agent
// and the exporters beside it. Only the keys implemented here are accepted: an unknown key is an error
// rather than a protection silently not applied.

const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS: Readonly<Record<string, SecureVersion>> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

const BCRYPT_HASH = /^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

export const webConfigSchema = z
  .object({
    tls_server_config: z
      .object({
        cert_file: z.string().min(1, 'expected the path of a PEM certificate'),
        key_file: z.string().min(1, 'expected the path of a PEM private key'),
        client_auth_type: z.enum(CLIENT_AUTH_TYPES).default('NoClientCert'),
        client_ca_file: z.string().min(1).optional(),
        min_version: z.enum(Object.keys(TLS_VERSIONS) as [string, ...string[]]).default('TLS12'),
        max_version: z.enum(Object.keys(TLS_VERSIONS) as [string, ...string[]]).default('TLS13'),
      })
      .strict()
      .refine((t) => t.client_auth_type === 'NoClientCert' || t.client_auth_type === 'RequestClientCert' || t.client_auth_type === 'RequireAnyClientCert' || t.client_ca_file, {
        message: 'client_auth_type that verifies client certificates needs client_ca_file',
        path: ['client_ca_file'],
      })
      .refine((t) => !(t.client_ca_file && t.client_auth_type === 'NoClientCert'), {
        message: 'client_ca_file is set but client_auth_type is NoClientCert: set the client_auth_type that should use it',
        path: ['client_auth_type'],
      })
      .optional(),
    basic_auth_users: z
      .record(z.string().min(1, 'expected a user name').refine((u) => !u.includes(':'), 'a user name cannot contain ":"'), z.string().regex(BCRYPT_HASH, 'expected a bcrypt hash ($2y$10$... as htpasswd -nBC 10 prints it), never a plain password'))
      .optional(),
  })
  .strict();

export interface WebTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  readonly clientAuth: ClientAuthType;
}

/** What the HTTP server enforces: TLS (fixed at start, certificates reloadable) and basic auth users. */
export interface WebSecurity {
  readonly file: string;
  readonly tls?: WebTls;
  readonly users: ReadonlyMap<string, string>;
}

export type WebConfigResult = { ok: true; security: WebSecurity } | { ok: false; errors: string[] };

/** Reads and validates a web config file and the certificates it names; every error names the file and the key. */
export function loadWebConfig(file: string): WebConfigResult {
  const parsed = loadYamlFile(file, webConfigSchema);
  if (!parsed.ok) return parsed;
  const { tls_server_config: t, basic_auth_users: users } = parsed.value;
  const errors: string[] = [];
  // Like the exporter-toolkit: relative paths are relative to the web config file.
  const read = (key: 'cert_file' | 'key_file' | 'client_ca_file', path: string): Buffer => {
    const full = resolve(dirname(file), path);
    try {
      return readBounded(full, CONFIG_FILE_MAX_BYTES);
    } catch (err) {
      errors.push(`${file}: ${formatPath(['tls_server_config', key])}: cannot read ${full} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return Buffer.alloc(0);
    }
  };
  let tls: WebTls | undefined;
  if (t) {
    const cert = read('cert_file', t.cert_file);
    const key = read('key_file', t.key_file);
    const ca = t.client_ca_file === undefined ? undefined : read('client_ca_file', t.client_ca_file);
    if (errors.length === 0) {
      try {
        createSecureContext({ cert, key, ca });
      } catch (err) {
        errors.push(`${file}: tls_server_config: the certificate, key or client CA is not usable: ${(err as Error).message}`);
      }
    }
    tls = {
      cert,
      key,
      ca,
      requestCert: t.client_auth_type !== 'NoClientCert',
      rejectUnauthorized: t.client_auth_type === 'RequireAndVerifyClientCert',
      minVersion: TLS_VERSIONS[t.min_version]!,
      maxVersion: TLS_VERSIONS[t.max_version]!,
      clientAuth: t.client_auth_type,
    };
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, security: { file, tls, users: new Map(Object.entries(users ?? {})) } };
}

/**
 * The client-certificate policies TLS itself cannot enforce with Node's options: a certificate that
 * must be present but need not verify, or that must verify only when given. Undefined means allowed.
 */
export function clientCertRefusal(clientAuth: ClientAuthType, socket: TLSSocket): string | undefined {
  if (clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'VerifyClientCertIfGiven') return undefined;
  const given = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
  if (clientAuth === 'RequireAnyClientCert' && !given) return 'a client certificate is required';
  if (clientAuth === 'VerifyClientCertIfGiven' && given && !socket.authorized) return `the client certificate does not verify: ${String(socket.authorizationError)}`;
  return undefined;
}
