/**
 * Check: which TLS profile the ESP8266 nodes need for this broker (issue 12). The firmware links
 * one profile (NODE_TLS_PROFILE in include/config.h, lib/tls/tls_profile.cpp): "default" verifies
 * RSA keys and signatures only (ECDHE_RSA over X25519, the smallest image); "compat" adds ECDSA
 * and P-256 for a broker key or a CA key that is EC. The answer follows from the broker's
 * certificate chain alone: the broker key signs the key exchange, the CA key signed the broker
 * certificate.
 */
import * as crypto from 'crypto';
import { CheckResult } from './types';

export type TlsProfile = 'default' | 'compat';

/** "RSA-2048", "EC P-256", ... for a certificate's public key. */
export function keyDescription(cert: crypto.X509Certificate): string {
  const k = cert.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === 'rsa') return `RSA-${d.modulusLength ?? '?'}`;
  if (k.asymmetricKeyType === 'ec') return `EC ${d.namedCurve === 'prime256v1' ? 'P-256' : (d.namedCurve ?? '?')}`;
  return (k.asymmetricKeyType ?? 'unknown').toUpperCase();
}

/** The profile a node needs: every key it verifies (the broker's, any intermediate's, the CA's) RSA -> default. */
export function profileFor(keys: crypto.X509Certificate[]): TlsProfile {
  return keys.every((c) => c.publicKey.asymmetricKeyType === 'rsa') ? 'default' : 'compat';
}

/** `chain` as the broker sent it (leaf first); `root` the CA from MQTT_CA_CERT that signed it, if found. */
export function checkNodeProfile(chain: crypto.X509Certificate[], root: crypto.X509Certificate | null): CheckResult {
  const id = 'node-profile';
  const title = 'TLS profile the ESP8266 nodes need';
  const leaf = chain.at(0);
  if (leaf === undefined) return { id, title, status: 'skip', summary: 'skipped: the broker sent no certificate' };
  const signers = [...chain.slice(1).filter((c) => c.fingerprint256 !== root?.fingerprint256), ...(root !== null ? [root] : [])];
  const keys = [`broker key ${keyDescription(leaf)}`, ...signers.map((c) => `${c === root ? 'CA' : 'intermediate'} key ${keyDescription(c)}`)].join(', ');
  const supported = (c: crypto.X509Certificate): boolean => {
    const d = keyDescription(c);
    return d === 'EC P-256' || (d.startsWith('RSA-') && (c.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) <= 4096);
  };
  if (![leaf, ...signers].every(supported)) {
    return {
      id, title, status: 'fail', summary: `${keys}: no node profile verifies this (RSA up to 4096 bits and EC P-256 only)`,
      fix: 'Re-issue the broker certificate with gen-certs (RSA-2048, signed by its RSA CA).',
    };
  }
  if (profileFor([leaf, ...signers]) === 'default') {
    return { id, title, status: 'pass', summary: `default (${keys}): NODE_TLS_PROFILE_DEFAULT, the smallest image` };
  }
  return {
    id, title, status: 'warn', summary: `compat (${keys}): the default profile verifies RSA keys only`,
    fix: 'Build the nodes with #define NODE_TLS_PROFILE NODE_TLS_PROFILE_COMPAT in include/config.h (19,168 B more flash on the real image), ' +
      'or give the broker an RSA key and certificate from gen-certs to keep the default profile.',
  };
}
