// The one CLI runner (host-tools/lib/cli/run.ts): --help, exit codes and the error line are the same
// for every tool; and the compiler flags every build reads (cmake/flags.txt).
import { strict as assert } from 'assert';
import fs from 'node:fs';
import path from 'node:path';
import { portProblem } from '../../host-tools/lib/cli/args';
import { CliError, EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_INTERNAL, EXIT_OK, ExitCode, Io, Tool, UsageError, runTool, runToolSync } from '../../host-tools/lib/cli/run';
import { parseFlags, projectFlags } from '../../host-tools/lib/firmware/flags';
import { ROOT } from '../helpers/firmware';

class OwnError extends Error {}

function capture(): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (t) => (out += t), stderr: (t) => (err += t) }, out: () => out, err: () => err };
}

function tool(main: (argv: readonly string[]) => ExitCode): Tool {
  return { name: 'demo-tool', usage: 'Usage: demo-tool [--x]\n', checkFailed: 'the thing was wrong', errors: [[OwnError, EXIT_BAD_INPUT]], main };
}

describe('cli runner: one behaviour for every host tool', () => {
  it('--help or -h anywhere: the usage and the exit codes on stdout, exit 0, the tool never runs', () => {
    for (const argv of [['--help'], ['--x', '-h'], ['--bogus', '--help']]) {
      const c = capture();
      const code = runToolSync(tool(() => { throw new Error('ran'); }), argv, c.io);
      assert.equal(code, EXIT_OK);
      assert.match(c.out(), /^Usage: demo-tool \[--x\]\n\nExit codes: 0 success, 1 the thing was wrong, 2 bad input or usage .*\n3 internal error/);
      assert.equal(c.err(), '');
    }
  });

  it('maps errors to 1/2/3 and prints one line `<tool>: <message>`', async () => {
    const cases: Array<[() => never, ExitCode, RegExp]> = [
      [() => { throw new UsageError('--x: expected a number, got "a"'); }, EXIT_BAD_INPUT, /^demo-tool: --x: expected a number, got "a"\n$/],
      [() => { throw new OwnError('settings.json: bad: fix it'); }, EXIT_BAD_INPUT, /^demo-tool: settings\.json: bad: fix it\n$/],
      [() => { throw new CliError('over budget: raise it in a commit that says why', EXIT_CHECK_FAILED); }, EXIT_CHECK_FAILED, /^demo-tool: over budget: raise it/],
      [() => { throw new TypeError('x is not\na function'); }, EXIT_INTERNAL, /^demo-tool: internal error: x is not a function: this is a bug or an unexpected system failure; .*\n$/],
    ];
    for (const [main, want, re] of cases) {
      const c = capture();
      assert.equal(runToolSync(tool(main), [], c.io), want);
      assert.match(c.err(), re);
      assert.equal(c.err().trim().split('\n').length, 1);
      const a = capture();
      assert.equal(await runTool({ ...tool(main), main: () => Promise.resolve().then(main) }, [], a.io), want);
      assert.equal(a.err(), c.err());
    }
  });

  it('prints a CliError\'s detail (compiler output) after its one line', () => {
    const c = capture();
    const code = runToolSync(tool(() => { throw new CliError('compiling a.cpp failed', EXIT_CHECK_FAILED, 'a.cpp:1: error: x\na.cpp:2: note: y\n'); }), [], c.io);
    assert.equal(code, EXIT_CHECK_FAILED);
    assert.equal(c.err(), 'demo-tool: compiling a.cpp failed\na.cpp:1: error: x\na.cpp:2: note: y\n');
  });

  it('checks every port the same way', () => {
    assert.equal(portProblem('8883'), null);
    assert.equal(portProblem(65535), null);
    assert.equal(portProblem('0', true), null);
    assert.equal(portProblem('0'), 'expected a port number 1-65535, got "0"');
    assert.equal(portProblem('70000'), 'expected a port number 1-65535, got "70000"');
    assert.equal(portProblem('88 83'), 'expected a port number 1-65535, got "88 83"');
    assert.equal(portProblem(1.5), 'expected a port number 1-65535, got 1.5');
    assert.equal(portProblem('99999', true), 'expected a port number 0-65535 (0: any free port), got "99999"');
  });
});

describe('compiler flags, listed once (cmake/flags.txt)', () => {
  it('has every group the builds read, and CMake\'s NODE_CXX_FLAGS is made from it', () => {
    const f = projectFlags(ROOT);
    assert.deepEqual(f.cxxRules, ['-fno-exceptions', '-fno-rtti']);
    assert.deepEqual(f.warnings, ['-Wall', '-Wextra']);
    assert.deepEqual(f.werror, ['-Werror']);
    assert.ok(f.chip.includes('-Os') && f.chip.includes('-mlongcalls'));
    const cmake = fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
    assert.match(cmake, /set\(NODE_CXX_FLAGS \$\{PROJECT_FLAGS_cxx_rules\} \$\{PROJECT_FLAGS_warnings\} \$\{PROJECT_FLAGS_werror\}\)/);
    assert.doesNotMatch(cmake, /-Wall|OPTIONAL\)/);
    assert.doesNotMatch(fs.readFileSync(path.join(ROOT, 'scripts', 'xtensa-build.sh'), 'utf8'), /-Wall|-fno-rtti/);
    assert.throws(() => parseFlags('warnings: -Wall\n'), /no "cxx_rules:" line/);
  });
});
