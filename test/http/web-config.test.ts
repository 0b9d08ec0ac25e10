import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWebConfig } from '../../agent/http/web-config.js';
import { writeConfig } from '../helpers/agent.js';
import { makeCertificate } from '../helpers/tls.js';

const errorsOf = (yaml: string) => {
  const file = writeConfig(yaml, 'web.yml');
  const result = loadWebConfig(file);
  return { file, errors: result.ok ? [] : result.errors };
};

describe('loadWebConfig', () => {
  it('an empty file: no TLS and no users', () => {
    const result = loadWebConfig(writeConfig('', 'web.yml'));
    expect(result.ok && result.security.tls === undefined && result.security.users.size === 0).toBe(true);
  });

  it('reads certificates named relative to the web config file', () => {
    const cert = makeCertificate('agent');
    const file = join(dirname(cert.certFile), 'web.yml');
    writeFileSync(file, 'tls_server_config:\n  cert_file: agent.crt\n  key_file: agent.key\n  min_version: TLS13\n');
    const result = loadWebConfig(file);
    expect(result.ok ? result.security.tls : result.errors).toMatchObject({ cert: cert.cert, key: cert.key, minVersion: 'TLSv1.3', requestCert: false });
  });

  it('a client_auth_type that verifies needs client_ca_file, and a client_ca_file needs a client_auth_type', () => {
    const verify = errorsOf('tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth_type: RequireAndVerifyClientCert\n');
    expect(verify.errors).toEqual([`${verify.file}:2: tls_server_config.client_ca_file: client_auth_type that verifies client certificates needs client_ca_file`]);
    const unused = errorsOf('tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_ca_file: ca.crt\n');
    expect(unused.errors[0]).toMatch(/tls_server_config\.client_auth_type: client_ca_file is set but client_auth_type is NoClientCert/);
  });

  it('names an unknown client_auth_type and TLS version with the choices', () => {
    const { file, errors } = errorsOf('tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth_type: Maybe\n  min_version: SSL3\n');
    expect(errors.some((e) => e.startsWith(`${file}:4: tls_server_config.client_auth_type:`) && e.includes('RequireAndVerifyClientCert'))).toBe(true);
    expect(errors.some((e) => e.startsWith(`${file}:5: tls_server_config.min_version:`) && e.includes('TLS12'))).toBe(true);
  });

  it('refuses a key that does not belong to the certificate', () => {
    const a = makeCertificate('a');
    const b = makeCertificate('b');
    const { file, errors } = errorsOf(`tls_server_config:\n  cert_file: ${a.certFile}\n  key_file: ${b.keyFile}\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^${file}: tls_server_config: the certificate, key or client CA is not usable: .*key values mismatch`));
  });
});
