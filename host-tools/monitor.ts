/**
 * The backend monitor: `npx ts-node host-tools/monitor.ts --help`.
 * Thin shell over host-tools/lib/monitor (MQTT client, pure stats, HTTP server).
 */
import { runMain } from './lib/cli/run';
import { monitorTool } from './lib/monitor/cli';

runMain(monitorTool);
