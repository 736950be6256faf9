/** Where gen-certs puts everything under --dir (docs/architecture.md, "Contract: gen-certs output"). */
import path from 'node:path';

export interface Layout {
  dir: string;
  certsDir: string;
  caCrt: string;
  caKey: string;
  serverCrt: string;
  serverKey: string;
  /** The backend's client certificate (used for mutual TLS; .env points at it). */
  backendCrt: string;
  backendKey: string;
  devicesDir: string;
  credentials: string;
  /** The remembered broker settings (--mtls, --migration, --port, --env-host, --install-prefix). */
  settings: string;
  mosquittoDir: string;
  mosquittoConf: string;
  passwd: string;
  acl: string;
  installSteps: string;
  certsH: string;
  env: string;
}

export function layout(dir: string): Layout {
  const root = path.resolve(dir);
  const certsDir = path.join(root, 'certs');
  const mosquittoDir = path.join(certsDir, 'mosquitto');
  return {
    dir: root,
    certsDir,
    caCrt: path.join(certsDir, 'ca.crt'),
    caKey: path.join(certsDir, 'ca.key'),
    serverCrt: path.join(certsDir, 'server.crt'),
    serverKey: path.join(certsDir, 'server.key'),
    backendCrt: path.join(certsDir, 'backend.crt'),
    backendKey: path.join(certsDir, 'backend.key'),
    devicesDir: path.join(certsDir, 'devices'),
    credentials: path.join(certsDir, 'credentials.json'),
    settings: path.join(certsDir, 'settings.json'),
    mosquittoDir,
    mosquittoConf: path.join(mosquittoDir, 'mosquitto_tls.conf'),
    passwd: path.join(mosquittoDir, 'passwd'),
    acl: path.join(mosquittoDir, 'acl'),
    installSteps: path.join(mosquittoDir, 'INSTALL.md'),
    certsH: path.join(root, 'include', 'certs.h'),
    env: path.join(root, '.env'),
  };
}

export function deviceCrt(l: Layout, id: string): string {
  return path.join(l.devicesDir, `${id}.crt`);
}

/** One board's header (gen-certs --board-headers): include/boards/<id>/certs.h. */
export function boardHeader(l: Layout, id: string): string {
  return path.join(l.dir, 'include', 'boards', id, 'certs.h');
}

export function deviceKey(l: Layout, id: string): string {
  return path.join(l.devicesDir, `${id}.key`);
}
