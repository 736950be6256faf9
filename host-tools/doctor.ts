/**
 * The doctor: `npx ts-node host-tools/doctor.ts --help`. Thin shell over host-tools/lib/doctor.
 */
import { runMain } from './lib/cli/run';
import { doctorTool } from './lib/doctor/cli';

runMain(doctorTool);
