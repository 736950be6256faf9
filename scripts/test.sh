#!/usr/bin/env bash
# The project's test command (README: `npm test`): builds the native node, and everything again
# with AddressSanitizer + UBSan (build/asan) whose unit tests run under ctest, cross-compiles the
# portable core for the ESP8266 (xtensa-lx106), runs the fuzz targets for a bounded time, links
# the real firmware with the ESP8266 kit and checks its size budgets, type-checks the host tools
# and runs the mocha suites (real Mosquitto, real TLS on loopback) against the sanitized native node.
# The 2-minute soak (test/soak/soak.test.ts) runs in the background beside the cross-compile, format,
# fuzz, firmware, tsc and eslint steps, and is over before the mocha suites start.
# Ends with one line "tests: N passed, N failed" summing ctest and mocha.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
log_dir=$(mktemp -d)
passed=0 failed=0 skipped=0
step_fail() { echo "FAILED: $1"; failed=$((failed + 1)); }

echo "== native build (cmake)"
# build/native: the native node as users build it (the demo runs it). Everything else (the unit
# tests and the node the mocha suites drive) comes from build/asan, built with AddressSanitizer
# and UBSan (-DNODE_SANITIZE_ALL=ON): ctest and the native-node suites run once, sanitized.
if cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Debug >"$log_dir/cmake.log" 2>&1 &&
   cmake --build build/native -j"$jobs" --target mqtt_node >"$log_dir/build.log" 2>&1 &&
   cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DNODE_SANITIZE_ALL=ON >>"$log_dir/cmake.log" 2>&1 &&
   cmake --build build/asan -j"$jobs" >>"$log_dir/build.log" 2>&1; then
  echo "== ctest (build/asan: AddressSanitizer + UBSan, halt on the first report)"
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -j"$jobs" 2>&1 | tee "$log_dir/ctest.log"
  # "100% tests passed, 0 tests failed out of 42"
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log_dir/ctest.log" | tail -1)
  if [ -n "$line" ]; then
    f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + t - f)); failed=$((failed + f))
  else
    step_fail "ctest ran no tests"
  fi
else
  cat "$log_dir/cmake.log" "$log_dir/build.log" 2>/dev/null | tail -60
  step_fail "native build"
fi

# The 2-minute soak: 10 native TLS nodes (build/native, as users build them: the RSS bound is the
# uninstrumented node's) against real Mosquitto killed -9 each minute, proxy drops, a subscriber
# restart. Mostly waiting, so it runs beside the steps below (the fuzz step is time-bounded and
# none of them asserts a timing) and never beside the mocha suites: waited for before them.
soak_pid=
if [ -x build/native/mqtt_node ]; then
  echo "== soak, 2 minutes (test/soak/soak.test.ts), in the background until the mocha step"
  t_soak=$(date +%s)
  MQTT_NODE_BIN="$PWD/build/native/mqtt_node" SOAK_MINUTES=2 \
    npx mocha --reporter dot test/soak/soak.test.ts >"$log_dir/soak.log" 2>&1 &
  soak_pid=$!
fi

echo "== xtensa-lx106 cross-compile of the portable core"
if bash scripts/xtensa-build.sh >"$log_dir/xtensa.log" 2>&1; then
  tail -3 "$log_dir/xtensa.log"; passed=$((passed + 1))
else
  tail -40 "$log_dir/xtensa.log"; step_fail "xtensa-lx106 build"
fi

echo "== C++ format (clang-format, .clang-format; bash scripts/format.sh fixes it)"
if bash scripts/format.sh --check >"$log_dir/format.log" 2>&1; then
  tail -1 "$log_dir/format.log"; passed=$((passed + 1))
else
  tail -20 "$log_dir/format.log"; step_fail "C++ format"
fi

echo "== fuzz (libFuzzer, every target, ${FUZZ_BUDGET:-140} s in all unless FUZZ_SECONDS is set)"
if bash scripts/fuzz.sh 2>&1 | tee "$log_dir/fuzz.log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  passed=$((passed + $(grep -c ', 0 crashes' "$log_dir/fuzz.log")))
else
  step_fail "fuzz"
fi

# The real ESP8266 image (kit in ../shared/esp8266-kit or $ESP8266_KIT): both envs, the 12 TLS
# combinations and mutual TLS with an EC device key, with -Werror and no undefined symbol, then their sizes against bench/budgets.json.
# Without the kit, one line says why it is skipped (users build with `pio run`).
echo "== ESP8266 firmware: real link of every env and TLS combination (kit)"
fw_dir=build/esp8266
t_fw=$(date +%s)
if npx ts-node host-tools/firmware.ts --matrix --skip-without-kit --out "$fw_dir" >"$log_dir/firmware.out" 2>"$log_dir/firmware.log"; then
  if grep -q '^firmware: skipped' "$log_dir/firmware.out"; then
    cat "$log_dir/firmware.out"
  else
    tail -1 "$log_dir/firmware.out"; passed=$((passed + 1))
    export FIRMWARE_BUILD_DIR="$PWD/$fw_dir"
    echo "== ESP8266 firmware sizes against bench/budgets.json"
    if npx ts-node host-tools/flash-size.ts --budgets bench/budgets.json --build-dir "$fw_dir" >"$log_dir/budgets.log" 2>&1; then
      tail -1 "$log_dir/budgets.log"; passed=$((passed + 1))
    else
      grep -E '^(OVER|flash-size:|budgets:)' "$log_dir/budgets.log"; step_fail "firmware size budgets"
    fi
  fi
else
  grep -v '^firmware: \[' "$log_dir/firmware.log" | tail -40; step_fail "ESP8266 firmware build"
fi
echo "(firmware steps: $(( $(date +%s) - t_fw )) s)"

echo "== typecheck host tools"
if npx tsc --noEmit -p . 2>&1 | tail -40; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  passed=$((passed + 1))
else
  step_fail "tsc --noEmit"
fi

echo "== lint host tools (typescript-eslint strict, type-checked; eslint.config.mjs)"
if npx --no-install eslint --max-warnings 0 . 2>&1 | tail -60; [ "${PIPESTATUS[0]}" -eq 0 ]; then
  passed=$((passed + 1))
else
  step_fail "eslint"
fi

echo "== soak, 2 minutes: result"
if [ -n "$soak_pid" ]; then
  wait "$soak_pid"; soak_rc=$?
  grep -Eo 'soak: [0-9]+ min, .*' "$log_dir/soak.log" || true
  if [ "$soak_rc" -eq 0 ] && grep -Eq '^ *1 passing' "$log_dir/soak.log"; then
    passed=$((passed + 1))
  else
    tail -40 "$log_dir/soak.log"; step_fail "soak (2 minutes)"
  fi
  echo "(soak: $(( $(date +%s) - t_soak )) s, beside the steps above)"
else
  step_fail "soak: build/native/mqtt_node was not built"
fi

echo "== mocha, $jobs files at a time (native node: build/asan/mqtt_node, sanitizer reports fail the run)"
# Files run in parallel (one per core): most of the suites wait on a broker, a node or a timer, and
# every test binds its own ports and temp dirs, so each file also passes alone (npx mocha FILE).
# Every native node the suites start is the sanitized one (test/helpers/native-node.ts honours
# MQTT_NODE_BIN, the demo test DEMO_TEST_BUILD_DIR). Reports go to files, so one in a node whose
# test did not look at its exit status still fails the run. detect_leaks=1: the node keeps its buffers in static storage and
# BearSSL allocates nothing, so any leak LeakSanitizer sees at exit is a real one.
san_dir="$log_dir/sanitizer"
mkdir -p "$san_dir"
MQTT_NODE_BIN="$PWD/build/asan/mqtt_node" DEMO_TEST_BUILD_DIR="${DEMO_TEST_BUILD_DIR:-$PWD/build/asan}" \
ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$san_dir/asan" \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$san_dir/ubsan" \
  npx mocha --parallel --jobs "$jobs" 'test/host/**/*.test.ts' 2>&1 | tee "$log_dir/mocha.log"
reports=$(find "$san_dir" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
  for r in "$san_dir"/*; do echo "--- $r"; head -40 "$r"; done
  step_fail "$reports sanitizer report(s) from the native node"
else
  echo "sanitizers: 0 reports from the native node"
fi
p=$(grep -Eo '^ *[0-9]+ passing' "$log_dir/mocha.log" | grep -Eo '[0-9]+' | tail -1)
f=$(grep -Eo '^ *[0-9]+ failing' "$log_dir/mocha.log" | grep -Eo '[0-9]+' | tail -1)
s=$(grep -Eo '^ *[0-9]+ pending' "$log_dir/mocha.log" | grep -Eo '[0-9]+' | tail -1)
if [ -z "$p" ] && [ -z "$f" ]; then step_fail "mocha produced no summary"; fi
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))

rm -rf "$log_dir"
echo
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
