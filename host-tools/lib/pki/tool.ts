/**
 * gen-certs for the runner, kept light: --help loads the usage text only, and the PKI code
 * (node-forge, handlebars) is loaded when the tool really runs (issue 14, speed).
 */
import { EXIT_BAD_INPUT, ExitCode, Tool } from '../cli/run';
import { PkiError } from './errors';
import { HELP } from './options';

/** Everything the runner needs but the tool itself. */
export const GEN_CERTS: Omit<Tool, 'main'> = {
  name: 'gen-certs',
  usage: HELP,
  checkFailed: '--check found a problem',
  errors: [[PkiError, EXIT_BAD_INPUT]],
};

/** gen-certs for the runner; `defaultDir` is the output root without --dir (the project root). */
export function genCertsTool(defaultDir: string): Tool<Promise<ExitCode>> {
  return { ...GEN_CERTS, main: async (argv, io) => (await import('./cli')).genCerts(argv, io, defaultDir) };
}
