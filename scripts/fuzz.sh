#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (clang, AddressSanitizer + UBSan) and runs each one for a
# bounded time on a copy of its committed seed corpus (fuzz/corpus/<target>/).
#   bash scripts/fuzz.sh                 # every target, FUZZ_SECONDS each: what npm test runs
#                                        # (default: FUZZ_BUDGET, 140 s, shared out, at least 5 s each)
#   bash scripts/fuzz.sh --seconds 600   # longer (npm run fuzz); fuzz/README.md records the last long run
#   bash scripts/fuzz.sh tls_x509_fuzz   # one target
#   bash scripts/fuzz.sh --runs 10000000 flash_ring_fuzz   # until N executions (no time limit)
# Prints one line per target, "fuzz: NAME: N runs in S s, 0 crashes", and exits non-zero on a crash
# (the crashing input is kept in build/fuzz/NAME/crash-* and printed as hex).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-}
runs_limit=
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs_limit="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
if [ -n "$runs_limit" ]; then
  [[ "$runs_limit" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --runs wants a positive number of executions, got '$runs_limit'"; exit 2; }
  seconds=0   # libFuzzer: no time limit, stop after -runs executions
elif [ -z "$seconds" ]; then
  # CI keeps all targets together within its budget however many there are (+ ~2 s to build each).
  seconds=$(( ${FUZZ_BUDGET:-140} / ${#targets[@]} ))
  [ "$seconds" -lt 5 ] && seconds=5
fi
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: skipped: clang++ is not installed (scripts/bootstrap.sh installs clang and libclang-rt-14-dev)"
  exit 0
fi

# The sources each target needs beside its own file (the portable core it fuzzes).
sources_for() {
  case "$1" in
    tls_x509_fuzz) echo lib/tls/*.cpp lib/port/*.cpp ;;
    tls_cert_fuzz) echo lib/tls/tls_cert.cpp ;;
    mqtt_packet_fuzz) echo lib/mqtt/mqtt_packet.cpp ;;
    mqtt_session_fuzz) echo lib/mqtt/*.cpp lib/port/*.cpp ;;
    node_app_fuzz) echo lib/port/*.cpp lib/mqtt/*.cpp lib/node/*.cpp lib/sensors/*.cpp lib/store/*.cpp ;;
    scenario_fuzz) echo lib/hal_posix/scenario.cpp lib/hal_posix/sim_sensors.cpp lib/sensors/*.cpp lib/port/text_buf.cpp ;;
    credentials_fuzz) echo lib/hal_posix/credentials_posix.cpp lib/tls/tls_cert.cpp lib/tls/tls_client_auth.cpp lib/tls/tls_profile.cpp ;;
    flash_ring_fuzz) echo lib/store/flash_ring.cpp ;;
    *) echo "" ;;
  esac
}

# Throwaway keys for the key loader's seeds, made here in build/ and never committed (fuzz/README.md):
# each seed is "op 1, split, certificate PEM, key PEM" (credentials_fuzz.cpp), for RSA (PKCS#1 and
# PKCS#8) and EC P-256 (SEC 1 and PKCS#8) keys, and P-384 (refused by name).
key_seeds() {
  local dir=$1 tmp; tmp=$(mktemp -d)
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
  command -v openssl >/dev/null 2>&1 || { rm -rf "$tmp"; return 0; }
  (
    cd "$tmp" || exit 1
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa8.pem 2>/dev/null
    openssl rsa -in rsa8.pem -traditional -out rsa1.pem 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec8.pem 2>/dev/null
    openssl ec -in ec8.pem -out ec1.pem 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.pem 2>/dev/null
    for k in rsa8 rsa1 ec8 ec1 ec384; do
      openssl req -x509 -new -key "$k.pem" -subj "/CN=node01" -days 30 -out "$k.crt" 2>/dev/null || continue
      len=$(stat -c %s "$k.crt")
      { printf "\\x01\\x$(printf %02x $((len >> 8)))\\x$(printf %02x $((len & 255)))"; cat "$k.crt" "$k.pem"; } > "$dir/$k"
    done
  )
  rm -rf "$tmp"
}

# The longest input libFuzzer makes (-max_len). 8192 fits a certificate chain or a PEM key file.
# The two targets that replay a sequence cost time in proportion to the input and gain nothing
# from 8 KB: node_app_fuzz's records are at most 257 bytes (2048 = 8 full-size messages, or
# hundreds of short ones over minutes of node time) and the native node reads scenario lines of
# at most 255 characters. At 8192 they ran ~3 times slower and found no new edge (see fuzz/README.md).
max_len_for() {
  case "$1" in
    node_app_fuzz|scenario_fuzz) echo 2048 ;;
    *) echo 8192 ;;
  esac
}

flags=(-std=c++11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -fno-exceptions -fno-rtti -Ilib/port -Ilib/tls -Ilib/node -Ilib/hal_posix -Ilib/mqtt -Ilib/sensors -Ilib/store -Itest/unit)
failed=0
for t in "${targets[@]}"; do
  out=build/fuzz/$t
  mkdir -p "$out/corpus"
  # shellcheck disable=SC2046
  if ! clang++ "${flags[@]}" "fuzz/$t.cpp" $(sources_for "$t") -lbearssl -o "$out/$t" 2>"$out/build.log"; then
    tail -20 "$out/build.log"; echo "fuzz: $t: build FAILED"; failed=1; continue
  fi
  seeds=()
  if [ "$t" = credentials_fuzz ]; then key_seeds "$out/keys"; seeds=("keys"); fi
  log=$out/run.log
  limit=(-max_total_time="$seconds")
  [ -n "$runs_limit" ] && limit=(-runs="$runs_limit")
  t0=$(date +%s)
  (cd "$out" && ASAN_OPTIONS=halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     ./"$t" "${limit[@]}" -max_len="$(max_len_for "$t")" -timeout=10 -print_final_stats=1 \
     corpus "../../../fuzz/corpus/$t" "${seeds[@]}") >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - t0 ))
  [ -z "$runs_limit" ] && took=$seconds
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|_fuzz: |runtime error|==[0-9]+==' "$log" | head -20
    for c in "$out"/crash-* "$out"/leak-* "$out"/timeout-*; do [ -f "$c" ] && { echo "input $c:"; od -An -tx1 "$c" | head -20; }; done
    echo "fuzz: $t: ${runs:-?} runs in ${took} s, CRASH (log: $log)"
    failed=1
  else
    echo "fuzz: $t: ${runs:-?} runs in ${took} s, 0 crashes (${cov:-cov: ?})"
  fi
done
exit $failed
