/**
 * Issue 14 item 1: without a .env the error says so (where it looked, how to make one), not just
 * "MQTT_CA_CERT: required"; the generated .env has relative paths, so a moved or copied folder
 * keeps working; a .env from another machine (absolute paths that do not exist here) says so.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { EnvError, loadSettings } from '../../host-tools/lib/env';
import { genCertsInProcess } from '../helpers/pki';
import { suiteTempDirs } from '../helpers/tmp';

function errorOf(fn: () => unknown): EnvError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof EnvError, `expected EnvError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return e;
  }
  assert.fail('expected an error');
}

describe('.env: missing, moved or copied from another machine', function () {
  this.timeout(60_000);
  const tmp = suiteTempDirs('env-missing-');

  it('no .env: names where it looked and how to make one (gen-certs, or --ca/--host/--port)', () => {
    const dir = tmp();
    const e = errorOf(() => loadSettings({ root: dir, env: {} }));
    assert.match(e.message, /^\.env: no \.env found \(looked for .*\/\.env\)/);
    assert.ok(e.message.includes(path.join(dir, '.env')), e.message);
    assert.match(e.message, /npx ts-node host-tools\/gen-certs\.ts/);
    assert.match(e.message, /--ca FILE/);
    assert.doesNotMatch(e.message, /^MQTT_CA_CERT: required/);
  });

  it('no .env but the CA given as a flag: settings from the flags alone', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'ca.crt'), 'x');
    const s = loadSettings({
      root: dir,
      env: {},
      flags: { MQTT_CA_CERT: { flag: '--ca', value: path.join(dir, 'ca.crt') }, MQTT_BROKER_HOST: { flag: '--host', value: 'pi.local' } },
    });
    assert.equal(s.caCert, path.join(dir, 'ca.crt'));
    assert.equal(s.host, 'pi.local');
  });

  it('the generated .env uses paths relative to its folder, and the folder can move', () => {
    const a = tmp();
    assert.equal(genCertsInProcess(['--dir', a, '--host', 'localhost']).code, 0);
    const env = fs.readFileSync(path.join(a, '.env'), 'utf8');
    assert.match(env, /^MQTT_CA_CERT=certs\/ca\.crt$/m);
    assert.match(env, /^MQTT_CLIENT_KEY=certs\/backend\.key$/m);
    const b = path.join(tmp(), 'moved');
    fs.cpSync(a, b, { recursive: true });
    fs.rmSync(a, { recursive: true, force: true });
    const s = loadSettings({ file: path.join(b, '.env'), env: {} });
    assert.equal(s.caCert, path.join(b, 'certs', 'ca.crt'));
    assert.equal(s.clientKey, path.join(b, 'certs', 'backend.key'));
  });

  it('a .env from another machine (absolute paths that do not exist here): says so and how to fix it', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, '.env'), 'MQTT_CA_CERT=/home/pi/esp8266-mqtt-tls/certs/ca.crt\n');
    const e = errorOf(() => loadSettings({ file: path.join(dir, '.env'), env: {} }));
    assert.match(e.message, /^MQTT_CA_CERT: file not found: \/home\/pi\/esp8266-mqtt-tls\/certs\/ca\.crt \(set in .*\.env; a \.env from another machine\?.*run gen-certs here, or fix the path\)$/);
  });
});
