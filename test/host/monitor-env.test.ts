// The .env loader shared by the monitor and the doctor: setup-guide names, relative paths against
// the project root, one error naming the variable for each bad value.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvError, loadSettings, parseDotenv, settingsFromValues } from '../../host-tools/lib/env';

describe('monitor: .env loader', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backend-env-'));
    fs.mkdirSync(path.join(dir, 'certs'));
    fs.writeFileSync(path.join(dir, 'certs', 'ca.crt'), 'x');
    fs.writeFileSync(path.join(dir, 'certs', 'client.crt'), 'x');
    fs.writeFileSync(path.join(dir, 'certs', 'client.key'), 'x', { mode: 0o600 });
  });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  function errorOf(fn: () => unknown): EnvError {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof EnvError, `expected EnvError, got ${String(e)}`);
      assert.ok(!e.message.includes('\n'), 'error is one line');
      return e;
    }
    assert.fail('expected an error');
  }

  it('parses the setup guide example, with its inline comments and quotes', () => {
    const v = parseDotenv(
      [
        '# MQTT Broker Configuration',
        'MQTT_BROKER_HOST=10.162.131.191',
        'MQTT_BROKER_PORT=8883  # TLS port',
        'export MQTT_USE_TLS=true',
        'MQTT_CA_CERT=mqtt_broker/certs/ca.crt',
        "MQTT_USERNAME='your_username'",
        'MQTT_PASSWORD="p#ss word"',
        '# MQTT_TLS_INSECURE=false',
        '',
      ].join('\n'),
    );
    assert.deepEqual(v, {
      MQTT_BROKER_HOST: '10.162.131.191',
      MQTT_BROKER_PORT: '8883',
      MQTT_USE_TLS: 'true',
      MQTT_CA_CERT: 'mqtt_broker/certs/ca.crt',
      MQTT_USERNAME: 'your_username',
      MQTT_PASSWORD: 'p#ss word',
    });
  });

  it('resolves relative certificate paths against the root and keeps absolute ones', () => {
    const s = settingsFromValues(
      {
        MQTT_BROKER_HOST: 'broker.local',
        MQTT_CA_CERT: 'certs/ca.crt',
        MQTT_CLIENT_CERT: path.join(dir, 'certs', 'client.crt'),
        MQTT_CLIENT_KEY: 'certs/client.key',
        MQTT_USERNAME: 'backend',
        MQTT_PASSWORD: 'pw',
      },
      dir,
    );
    assert.equal(s.caCert, path.join(dir, 'certs', 'ca.crt'));
    assert.equal(s.clientKey, path.join(dir, 'certs', 'client.key'));
    assert.equal(s.port, 8883, 'TLS defaults to 8883');
    assert.equal(s.useTls, true);
    assert.equal(s.tlsInsecure, false, 'insecure is never the default');
  });

  it('defaults to port 1883 without TLS and does not need a CA then', () => {
    const s = settingsFromValues({ MQTT_USE_TLS: 'false' }, dir);
    assert.equal(s.port, 1883);
    assert.equal(s.host, 'localhost');
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['MQTT_BROKER_PORT', { MQTT_BROKER_PORT: 'eighty', MQTT_CA_CERT: 'certs/ca.crt' }, /^MQTT_BROKER_PORT: expected a port/],
    ['MQTT_BROKER_PORT', { MQTT_BROKER_PORT: '70000', MQTT_CA_CERT: 'certs/ca.crt' }, /^MQTT_BROKER_PORT: expected a port number 1-65535, got "70000"$/],
    ['MQTT_USE_TLS', { MQTT_USE_TLS: 'maybe' }, /^MQTT_USE_TLS: expected true or false/],
    ['MQTT_TLS_INSECURE', { MQTT_TLS_INSECURE: 'sure', MQTT_CA_CERT: 'certs/ca.crt' }, /^MQTT_TLS_INSECURE: expected true or false/],
    ['MQTT_CA_CERT', { MQTT_CA_CERT: 'certs/nope.crt' }, /^MQTT_CA_CERT: file not found: .*nope\.crt$/],
    ['MQTT_CA_CERT', {}, /^MQTT_CA_CERT: required when MQTT_USE_TLS=true/],
    ['MQTT_CLIENT_KEY', { MQTT_CA_CERT: 'certs/ca.crt', MQTT_CLIENT_CERT: 'certs/client.crt' }, /^MQTT_CLIENT_KEY: required/],
    ['MQTT_BROKER_HOST', { MQTT_BROKER_HOST: 'mqtts://pi:8883', MQTT_CA_CERT: 'certs/ca.crt' }, /^MQTT_BROKER_HOST: expected a host name/],
    ['MQTT_USERNAME', { MQTT_CA_CERT: 'certs/ca.crt', MQTT_PASSWORD: 'x' }, /^MQTT_USERNAME: required when MQTT_PASSWORD/],
  ];
  for (const [name, values, re] of bad) {
    it(`names ${name} when it is bad (${JSON.stringify(values)})`, () => {
      const e = errorOf(() => settingsFromValues(values, dir));
      assert.equal(e.variable, name);
      assert.match(e.message, re);
    });
  }

  it('reads a file, lets the environment override it, and names a malformed line', () => {
    const f = path.join(dir, 'test.env');
    fs.writeFileSync(f, 'MQTT_BROKER_HOST=pi.local\nMQTT_BROKER_PORT=8883\nMQTT_CA_CERT=certs/ca.crt\n');
    const s = loadSettings({ file: f, root: dir, env: { MQTT_BROKER_PORT: '18883' } });
    assert.equal(s.host, 'pi.local');
    assert.equal(s.port, 18883);
    fs.writeFileSync(f, 'MQTT_BROKER_HOST=pi.local\nthis is not a setting\n');
    const e = errorOf(() => loadSettings({ file: f, root: dir, env: {} }));
    assert.match(e.message, /test\.env:2: not a NAME=value line/);
    const missing = errorOf(() => loadSettings({ file: path.join(dir, 'none.env'), root: dir, env: {} }));
    assert.equal(missing.variable, '--env');
  });
});
