/** Check: the broker's certificate chains to the CA in MQTT_CA_CERT (signatures only; dates and names are their own checks). */
import * as crypto from 'crypto';
import * as fs from 'fs';
import { parseCertPem, sameNameOtherCa } from '../pki/certs';
import { CheckResult } from './types';

/** Every certificate in a PEM file (a CA bundle may hold several). */
export function readPemCerts(file: string): crypto.X509Certificate[] {
  const text = fs.readFileSync(file, 'utf8');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new crypto.X509Certificate(b));
}

function issues(parent: crypto.X509Certificate, child: crypto.X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** Finds the path leaf -> (intermediates the broker sent) -> a CA from the file. */
export function chainsTo(chain: crypto.X509Certificate[], roots: crypto.X509Certificate[]): crypto.X509Certificate | null {
  let cur = chain.at(0);
  const pool = chain.slice(1);
  for (let depth = 0; cur !== undefined && depth < 8; depth++) {
    const leaf = cur;
    const root = roots.find((r) => issues(r, leaf));
    if (root !== undefined) return root;
    const next = pool.find((c) => c !== leaf && issues(c, leaf));
    if (next === undefined) return null;
    cur = next;
  }
  return null;
}

const oneLine = (dn: string): string => dn.split('\n').join(', ');

/** sameNameOtherCa for Node's certificates; null for one node-forge cannot read (not RSA). */
function keyIdsOf(leaf: crypto.X509Certificate, ca: crypto.X509Certificate): string | null {
  try {
    return sameNameOtherCa(parseCertPem(leaf.toString(), 'broker certificate'), parseCertPem(ca.toString(), 'CA'));
  } catch {
    return null;
  }
}

export function checkChain(chain: crypto.X509Certificate[], caFile: string | undefined, nodeError: string | null, insecure: boolean): CheckResult {
  const id = 'chain';
  const title = 'chain verified by CA file';
  if (chain.length === 0) return { id, title, status: 'fail', summary: 'the broker sent no certificate' };
  const leaf = chain[0];
  if (caFile === undefined) {
    return {
      id,
      title,
      status: insecure ? 'warn' : 'fail',
      summary: 'no MQTT_CA_CERT: the broker certificate is not verified',
      fix: 'Set MQTT_CA_CERT=certs/ca.crt (the CA gen-certs made) and MQTT_TLS_INSECURE=false.',
    };
  }
  let roots: crypto.X509Certificate[];
  try {
    roots = readPemCerts(caFile);
  } catch (e) {
    return { id, title, status: 'fail', summary: `cannot read MQTT_CA_CERT ${caFile}: ${(e as Error).message}`, fix: 'MQTT_CA_CERT must be a PEM certificate file.' };
  }
  if (roots.length === 0) {
    return { id, title, status: 'fail', summary: `MQTT_CA_CERT ${caFile} holds no PEM certificate`, fix: 'Point MQTT_CA_CERT at certs/ca.crt (PEM, "-----BEGIN CERTIFICATE-----").' };
  }
  const root = chainsTo(chain, roots);
  const details = [`broker certificate: subject ${oneLine(leaf.subject)}; issuer ${oneLine(leaf.issuer)}`, `CA file: ${caFile}: ${roots.map((r) => oneLine(r.subject)).join(' | ')}`];
  if (nodeError !== null) details.push(`OpenSSL says: ${nodeError}`);
  if (root !== null) {
    return { id, title, status: 'pass', summary: `signed by ${oneLine(root.subject)} from ${caFile}`, details };
  }
  const selfSigned = leaf.subject === leaf.issuer && leaf.verify(leaf.publicKey);
  // Two CAs with one name (the demo's and a real one made the same day): say so, with the key ids.
  const namesake = roots.find((r) => r.subject === leaf.issuer);
  const clash = !selfSigned && namesake !== undefined ? keyIdsOf(leaf, namesake) : null;
  if (clash !== null) details.push(clash);
  return {
    id,
    title,
    status: 'fail',
    summary: selfSigned
      ? 'the broker presents a self-signed certificate, not one from your CA'
      : clash !== null
        ? `the broker certificate was signed by ${clash.replace(/:.*$/, '')} as the CA in MQTT_CA_CERT (${oneLine(leaf.issuer)}), not by that CA`
        : `the broker certificate (issuer ${oneLine(leaf.issuer)}) was not signed by the CA in MQTT_CA_CERT`,
    details,
    fix:
      'The broker and the clients must use the same CA: install certs/server.crt and certs/server.key made by gen-certs ' +
      'with the certs/ca.crt your clients use (certfile/keyfile/cafile in the Mosquitto config), then restart Mosquitto; ' +
      'or point MQTT_CA_CERT at the CA that did sign it.',
  };
}
