/**
 * Shared test helper: runs the native node (build/native/mqtt_node) with flags, collects its
 * stderr log lines (one event per line: `mqtt:`, `tls:`, `sensor:`, `node:`), waits for a line,
 * feeds a scenario on stdin, and stops or kills it. The launcher is host-tools/lib/launch/native-node.ts
 * (the demo's too); this file picks the binary.
 *
 *   const node = startNode(['--id', 'node01', '--plain', '--port', String(port)], { env: { NODE_PASSWORD: pw } });
 *   (without '--plain' the node speaks TLS, CA mode, and needs '--ca FILE', as the chip does)
 *   await node.waitFor(/^mqtt: connected/);
 *   node.send('pir 1');                 // with '--scenario -'
 *   await node.stop();                  // SIGTERM, resolves with the exit code
 *
 * The binary is build/native/mqtt_node (what `npm test` builds) unless MQTT_NODE_BIN names another.
 * If it is missing, ensureNativeNode() builds it with CMake (for a lone `npx mocha` run).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Exit, NativeNode, StartNodeOptions, runNode as runBinary } from '../../host-tools/lib/launch/native-node';

export type { Exit, StartNodeOptions };
export { NativeNode };

const ROOT = path.resolve(__dirname, '../..');
export const NATIVE_NODE_BIN = process.env.MQTT_NODE_BIN ?? path.join(ROOT, 'build/native/mqtt_node');

/** Builds the native node if the binary is missing; returns its path. */
export function ensureNativeNode(): string {
  if (!fs.existsSync(NATIVE_NODE_BIN)) {
    const build = path.dirname(NATIVE_NODE_BIN);
    execFileSync('cmake', ['-S', ROOT, '-B', build, '-DCMAKE_BUILD_TYPE=Debug'], { stdio: 'ignore' });
    execFileSync('cmake', ['--build', build, '--target', 'mqtt_node', '-j2'], { stdio: 'ignore' });
  }
  return NATIVE_NODE_BIN;
}

export function startNode(args: string[], opts: StartNodeOptions = {}): NativeNode {
  return new NativeNode(ensureNativeNode(), args, opts);
}

/** Runs the node to completion (for --help and bad-input cases) and returns its exit and output. */
export function runNode(args: string[], env: Record<string, string> = {}, timeoutMs = 10000): Promise<Exit & { out: string; err: string }> {
  return runBinary(ensureNativeNode(), args, env, timeoutMs);
}
