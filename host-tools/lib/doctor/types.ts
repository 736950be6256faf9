/** Shared types of the doctor: each check returns one CheckResult; the renderer prints them. */
import { MqttSettings } from '../env';

export type Status = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable id for --json and tests, e.g. "tcp". */
  id: string;
  title: string;
  status: Status;
  /** One line saying what was found. */
  summary: string;
  /** Extra facts (SANs, dates, the raw error). */
  details?: string[];
  /** What to do about a failure or warning. */
  fix?: string;
}

export interface DoctorOptions {
  settings: MqttSettings;
  /** Per network step (TCP connect, TLS handshake, CONNACK), ms. */
  timeoutMs: number;
  /** The project folder whose certs/ and git index the hygiene check inspects. */
  dir: string;
  /** Warn when a certificate expires within this many days. */
  warnDays: number;
  now: Date;
}

export function skip(id: string, title: string, why: string): CheckResult {
  return { id, title, status: 'skip', summary: `skipped: ${why}` };
}
