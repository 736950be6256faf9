// .env parsing edge cases: empty values with a comment, escaped quotes, CRLF, export, '=' in values.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSettings, parseDotenv } from '../../host-tools/lib/env';

describe('.env parsing: edge cases', () => {
  it('an empty value followed by a comment is empty, not the comment', () => {
    const v = parseDotenv('MQTT_CLIENT_CERT=   # only for mutual TLS\nMQTT_CLIENT_KEY= #\nMQTT_PASSWORD=#not-a-comment\n');
    assert.deepEqual(v, { MQTT_CLIENT_CERT: '', MQTT_CLIENT_KEY: '', MQTT_PASSWORD: '#not-a-comment' });
  });

  it('the guide-style commented-out client certificate does not turn into a file name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'env-dotenv-'));
    try {
      fs.writeFileSync(path.join(dir, 'ca.crt'), 'x');
      const file = path.join(dir, '.env');
      fs.writeFileSync(file, 'MQTT_CA_CERT=ca.crt\nMQTT_CLIENT_CERT=  # set for mTLS\nMQTT_CLIENT_KEY=  # set for mTLS\n');
      const s = loadSettings({ file, root: dir, env: {} });
      assert.equal(s.clientCert, undefined);
      assert.equal(s.clientKey, undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a backslash-escaped quote inside double quotes does not end the value', () => {
    const v = parseDotenv('MQTT_PASSWORD="a\\"b # c" # comment\r\nB="x\\\\" \r\nC=\'lit\\"eral\'\r\n');
    assert.deepEqual(v, { MQTT_PASSWORD: 'a"b # c', B: 'x\\', C: 'lit\\"eral' });
  });

  it('CRLF, export, spaces around =, and "=" inside values', () => {
    const v = parseDotenv('export  MQTT_USERNAME = backend\r\nMQTT_PASSWORD=a=b==\r\nMQTT_BROKER_HOST=pi.local\r\n');
    assert.deepEqual(v, { MQTT_USERNAME: 'backend', MQTT_PASSWORD: 'a=b==', MQTT_BROKER_HOST: 'pi.local' });
  });
});
