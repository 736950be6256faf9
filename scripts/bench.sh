#!/usr/bin/env bash
# The project's benchmarks (`npm run bench`): measures, then rewrites bench/results.md and
# bench/results.json (committed).
# Speed and size targets live here, never in timed unit tests.
#
# One section per measurement: a function bench_<name> that prints Markdown on stdout and
# returns non-zero if the measurement itself failed. To add one, write the function and add its
# name to SECTIONS. Each section's output is captured on its own, so one failing section is
# reported in the results and does not hide the others.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2 || exit 1
# valgrind counts the TLS handshake's instructions; only the benchmarks need it.
if ! command -v valgrind >/dev/null 2>&1; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq valgrind >/dev/null || exit 1
fi

SECTIONS=(real_image tls_stack flash_size tls_handshake monitor_history tool_startup)
json_tmp=$(mktemp)

# ---- the real ESP8266 image per env and TLS mode (bench/real-image.ts; needs the ESP8266 kit) --
# Builds the matrix (npm run firmware -- --matrix), measures each ELF; also writes the numbers
# to bench/results.json.
bench_real_image() {
  npx ts-node bench/real-image.ts "$json_tmp"
}

# ---- the handshake's stack on the chip (bench/tls-stack.ts; needs the image built above) -------
bench_tls_stack() {
  npx ts-node bench/tls-stack.ts build/esp8266/nodemcuv2/firmware.elf
}

# ---- flash and RAM of the ESP8266 firmware (host-tools/flash-size.ts) ---------------------
bench_flash_size() {
  local env
  echo "## ESP8266 flash and RAM"
  echo
  if [ -f build/esp8266/nodemcuv2/firmware.elf ]; then
    echo "The real images built above (build/esp8266/<env>/firmware.elf): sections, heap at boot and the"
    echo "largest symbols."
  elif [ -f .pio/build/nodemcuv2/firmware.elf ]; then
    echo "A PlatformIO build exists: whole-image sizes from xtensa-lx106-elf-size."
  else
    echo "No PlatformIO build here (CI cannot download PlatformIO platforms), so this is the"
    echo "cross-compiled estimate of our part of the image: the portable core, lib/tls and the"
    echo "BearSSL code they reach, per module, at -Os with --gc-sections (flash-size --help)."
  fi
  for env in nodemcuv2 nodemcuv2_plain; do
    echo
    echo "### env \`$env\`"
    echo
    echo "\`npx ts-node host-tools/flash-size.ts --env $env\`"
    echo
    echo '```'
    npx ts-node host-tools/flash-size.ts --env "$env" 2>/dev/null
    local rc=$?
    echo '```'
    # 1 = over a limit: a result worth recording, not a failed measurement.
    [ "$rc" -le 1 ] || return 1
  done
}

# ---- TLS handshake cost and RAM of lib/tls (owner: tls; bench/tls-bench.sh) -------------
# Client instructions per full and resumed handshake under callgrind (valgrind, installed above),
# against openssl s_server on loopback.
bench_tls_handshake() {
  echo "## TLS handshake (lib/tls)"
  echo
  echo "\`bash bench/tls-bench.sh\`"
  echo
  bash bench/tls-bench.sh
}

# ---- the monitor's history at 7 days of 2 s readings (bench/monitor-history.ts; issue 14) ----
bench_monitor_history() {
  npx ts-node bench/monitor-history.ts 3
}

# ---- start-up time of the host tools (bench/tool-startup.ts) -------------------------------
bench_tool_startup() {
  npx ts-node bench/tool-startup.ts --runs 5
  echo
  npx ts-node bench/startup-profile.ts --runs 3
}

# ---- run every section, then write the results --------------------------------------------
out=$(mktemp)
trap 'rm -f "$out" "$out.section" "$json_tmp"' EXIT
failed=0
{
  echo "# Benchmarks"
  echo
  echo "Written by \`npm run bench\` (scripts/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' + uncommitted changes'),"
  echo "$(nproc) CPU, $(uname -sm). Only numbers measured by the commands shown."
} >"$out"
for s in "${SECTIONS[@]}"; do
  echo "bench: $s" >&2
  if "bench_$s" >"$out.section"; then
    { echo; cat "$out.section"; } >>"$out"
  else
    failed=1
    { echo; cat "$out.section"; echo; echo "**$s: the measurement failed (see the bench log).**"; } >>"$out"
    echo "bench: $s FAILED" >&2
  fi
done
mkdir -p bench
cp "$out" bench/results.md
echo "bench: wrote bench/results.md" >&2
if [ -s "$json_tmp" ]; then
  { printf '{\n  "writtenBy": "npm run bench (scripts/bench.sh)",\n  "commit": "%s",\n  "date": "%s",\n  "realImage": ' \
      "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+uncommitted')" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    sed '2,$s/^/  /' "$json_tmp"; echo '}'; } > bench/results.json
  echo "bench: wrote bench/results.json" >&2
fi
exit "$failed"
