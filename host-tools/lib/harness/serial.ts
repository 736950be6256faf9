/**
 * A board's log read from its serial port (--serial DEVICE, --baud N): the same tagged lines the
 * native node writes to stderr ("mqtt: ", "tls: ", "node: ", ...), with their arrival times. The
 * `serialport` package (a native addon with prebuilt binaries) is loaded only here, only when
 * --serial is given, so the harness's start-up does not pay for it. A TLS failure the board
 * names ("tls: handshake failed: NAME"; the chip carries no hints) gets its fix printed once,
 * from lib/tls/tls_hints.def.
 */
import type { SerialPort } from 'serialport';
import { CliError, EXIT_BAD_INPUT } from '../cli/run';
import { explainTlsFailure, tlsFailureName } from '../tls-hints';
import { NodeLog } from './context';

/** The board's log lines as one scenario sees them: only the lines from its start on. */
export interface ScenarioLog extends NodeLog {
  readonly lines: string[];
  readonly times: number[];
}

export class SerialLog {
  /** Every line since the port was opened. */
  readonly lines: string[] = [];
  readonly times: number[] = [];
  private current: ScenarioLog | null = null;
  private readonly explained = new Set<string>();

  private constructor(private readonly port: SerialPort, private readonly say: (line: string) => void) {}

  /** Opens DEVICE at `baud`; a device that cannot be opened is a one-line error, exit 2. `say`
      gets the fix of each TLS failure name the board logs, once per name. */
  static async open(device: string, baud: number, say: (line: string) => void = () => undefined): Promise<SerialLog> {
    const { SerialPort, ReadlineParser } = await import('serialport');
    const port = new SerialPort({ path: device, baudRate: baud, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => {
        port.open((err) => { if (err) reject(err); else resolve(); });
      });
    } catch (err) {
      const why = (err as Error).message.replace(/^Error: /, '').replace(/, cannot open .*$/, '');
      throw new CliError(`--serial ${device}: cannot open it (${why}): plug the board in and give its port (ls /dev/ttyUSB* /dev/ttyACM*); on Linux your user needs the dialout group (sudo usermod -aG dialout $USER, then log in again)`, EXIT_BAD_INPUT);
    }
    const log = new SerialLog(port, say);
    // The ESP8266 boot ROM prints at 74880 baud: at 115200 that is noise before the first log line; only
    // the tagged lines matter to the scenarios, so the others are kept as they come (for the trace file).
    port.pipe(new ReadlineParser({ delimiter: '\n' })).on('data', (raw: string) => { log.push(raw.replace(/\r$/, '')); });
    return log;
  }

  private push(line: string): void {
    const t = Date.now();
    const name = tlsFailureName(line);
    if (name !== null && !this.explained.has(name)) {
      this.explained.add(name);
      const found = explainTlsFailure(name);
      if (found !== null) this.say(`harness: the board logged ${name}: ${found.hint}`);
    }
    this.lines.push(line);
    this.times.push(t);
    if (this.current) {
      this.current.lines.push(line);
      this.current.times.push(t);
    }
  }

  /** A fresh log for the next scenario (the lines from now on); the board keeps running between scenarios. */
  scenario(): ScenarioLog {
    this.current = { lines: [], times: [], alive: () => true };
    return this.current;
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => { this.port.close(() => { resolve(); }); });
  }
}
