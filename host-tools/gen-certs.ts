#!/usr/bin/env -S npx ts-node
/**
 * gen-certs: CA, broker and device certificates, include/certs.h and the Mosquitto TLS config.
 * Thin shell over host-tools/lib/pki; run with --help.
 */
import path from 'node:path';
import { runMain } from './lib/cli/run';
import { genCertsTool } from './lib/pki/tool';

runMain(genCertsTool(path.resolve(__dirname, '..')));
