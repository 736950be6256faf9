/** The PKI library behind gen-certs: pure issuing, BearSSL encodings, Mosquitto files. */
export * from './errors';
export * from './validate';
export * from './certs';
export * from './fingerprints';
export * from './bearssl';
export * from './passwd';
export * from './layout';
export * from './files';
export * from './hosts';
export * from './settings';
export * from './generate';
export * from './check';
export * from './options';
export * from './cli';
export * from './ec';
export * from './device';
