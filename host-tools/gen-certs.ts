#!/usr/bin/env -S npx ts-node
/**
 * gen-certs: CA, broker and device certificates, include/certs.h and the Mosquitto TLS config.
 * Thin shell over host-tools/lib/pki; run with --help.
 */
import path from 'node:path';
import { runGenCerts } from './lib/pki/cli';

const projectRoot = path.resolve(__dirname, '..');
process.exitCode = runGenCerts(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, projectRoot);
