/**
 * Shared test helper: a real Mosquitto 2 on free loopback ports, with its own temp dir.
 * API: docs/architecture.md, "Test helpers". The launcher is host-tools/lib/launch/mosquitto.ts,
 * the one the demo uses too.
 */
export * from '../../host-tools/lib/launch/mosquitto';
