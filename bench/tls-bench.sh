#!/usr/bin/env bash
# TLS handshake cost of lib/tls (called from scripts/bench.sh, section "TLS handshake").
# Makes a PKI with gen-certs in a temp dir, serves the broker certificate with openssl s_server
# (session cache on, no tickets: BearSSL resumes by session id, as with Mosquitto) on a free
# loopback port, and counts the CLIENT's instructions with callgrind for N full and N resumed
# handshakes (each: connect, handshake, one application record, close_notify), with and
# without a client certificate. Static RAM: sizeof(tls_transport) + record buffers, and the
# xtensa-lx106 .data/.bss of lib/tls. Prints a markdown table.
# Needs valgrind (not part of the tests; bench only): apt-get install valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${TLS_BENCH_N:-5}

command -v valgrind >/dev/null || { echo "tls-bench: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
build=build/bench-tls
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target tls_bench >/dev/null

tmp=$(mktemp -d /tmp/tls-bench.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  exec 3>&- 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
npx ts-node host-tools/gen-certs.ts --dir "$tmp" --host localhost --host 127.0.0.1 --device bench01 >/dev/null
certs="$tmp/certs"
# The same device with a P-256 key (host-tools/lib/pki/ec.ts), issued by the same CA.
npx ts-node -e '
const fs = require("node:fs");
const pki = require("./host-tools/lib/pki");
const d = process.argv[1];
const ca = { cert: pki.parseCertPem(fs.readFileSync(d + "/ca.crt", "utf8"), "CA"), key: pki.parseKeyPem(fs.readFileSync(d + "/ca.key", "utf8"), "CA key") };
void pki.issueEcClientCert(ca, { id: "bench01" }).then((ec) => {
  fs.writeFileSync(d + "/devices/bench01-ec.crt", ec.certPem);
  fs.writeFileSync(d + "/devices/bench01-ec.key", ec.keyPem, { mode: 0o600 });
});' "$certs"

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# s_server closes the connection when its stdin ends: it reads a fifo we keep open on fd 3.
# -serverpref: the server picks the curve from its own list (X25519 first), as Mosquitto does; a
# ClientHello with an EC device key lists P-256 before X25519 (BearSSL writes them by id).
mkfifo "$tmp/stdin"
openssl s_server -accept "127.0.0.1:$port" -cert "$certs/server.crt" -key "$certs/server.key" \
  -CAfile "$certs/ca.crt" -verify 2 -no_ticket -serverpref -quiet <"$tmp/stdin" >"$tmp/s_server.log" 2>&1 &
server_pid=$!
exec 3>"$tmp/stdin"
for _ in $(seq 1 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

# Instructions of one callgrind run, collected only inside function $1.
count() {
  local fn=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --toggle-collect="${fn}*" \
    "$build/tls_bench" --port "$port" --host localhost --ca "$certs/ca.crt" "$@" 2>"$tmp/cg.err" >"$tmp/cg.txt" ||
    { cat "$tmp/cg.err" "$tmp/cg.txt" >&2; exit 1; }
  grep -Eo 'Collected : [0-9]+' "$tmp/cg.err" | grep -Eo '[0-9]+'
}

row() {
  local label=$1; shift
  local full resumed
  full=$(count bench_full_handshakes --full "$N" --resumed 0 "$@")
  resumed=$(count bench_resumed_handshakes --full 1 --resumed "$N" "$@")
  printf '| %s | %s | %s |\n' "$label" "$((full / N))" "$((resumed / N))"
  last_full=$((full / N))
}

# Peak stack of the whole client process (x86-64, massif snapshots: approximate, includes start-up).
peak_stack() {
  valgrind --tool=massif --stacks=yes --massif-out-file="$tmp/massif.out" \
    "$build/tls_bench" --port "$port" --host localhost --ca "$certs/ca.crt" --full 1 --resumed 1 "$@" >/dev/null 2>&1 || true
  grep -Eo 'mem_stacks_B=[0-9]+' "$tmp/massif.out" | cut -d= -f2 | sort -n | tail -1
}
stack_ca=$(peak_stack)
stack_mtls=$(peak_stack --cert "$certs/devices/bench01.crt" --key "$certs/devices/bench01.key")

ram=$("$build/tls_bench" --port "$port" --host localhost --ca "$certs/ca.crt" --full 1 --resumed 1)
ram512=$("$build/tls_bench" --port "$port" --host localhost --ca "$certs/ca.crt" --full 1 --resumed 1 --fragment 512)
xt=$(bash scripts/xtensa-build.sh 2>/dev/null | grep 'lib_tls_' || true)
xt_text=$(awk '{t+=$1} END {print t+0}' <<<"$xt")
xt_ram=$(awk '{t+=$2+$3} END {print t+0}' <<<"$xt")
# .rodata (string tables) is part of "text" above, but the ESP8266 keeps it in RAM (DRAM).
mkdir -p "$tmp/xinc" && ln -s /usr/include/bearssl "$tmp/xinc/bearssl"
rodata() {
  local total=0 f n
  for f in lib/tls/*.cpp; do
    xtensa-lx106-elf-g++ "$@" -Os -mlongcalls -fno-exceptions -fno-rtti -std=gnu++11 -ffunction-sections \
      -fdata-sections -isystem /usr/lib/xtensa-lx106-elf/include -isystem "$tmp/xinc" -Ilib/tls -Ilib/port \
      -c "$f" -o "$tmp/x.o"
    n=$(xtensa-lx106-elf-size -A "$tmp/x.o" | awk '/rodata/ {s+=$2} END {print s+0}')
    total=$((total + n))
  done
  echo "$total"
}
# sizeof on the chip (32-bit pointers), read from a deliberate template error of the cross compiler.
cat >"$tmp/sz.cpp" <<'CPP'
#include "tls_transport.h"
template <int N> struct size_is;
size_is<sizeof(tls_transport)> a;
CPP
sz_err=$(xtensa-lx106-elf-g++ -std=gnu++11 -isystem /usr/lib/xtensa-lx106-elf/include -isystem "$tmp/xinc" \
  -Ilib/tls -Ilib/port -c "$tmp/sz.cpp" -o /dev/null 2>&1 || true)
xt_sizeof=$(grep -Eo 'size_is<[0-9]+>' <<<"$sz_err" | head -1 | grep -Eo '[0-9]+' || echo '?')
xt_rodata=$(rodata)
xt_rodata_nohints=$(rodata -DTLS_ERROR_HINTS=0)

echo "BearSSL $(dpkg-query -W -f='${Version}' libbearssl-dev 2>/dev/null || echo '?') (Debian libbearssl-dev), i15 RSA, m15 EC, chacha20_ct, poly1305_i15 (the default profile)."
echo
echo "Client instructions per handshake (valgrind --tool=callgrind, mean of $N, server: openssl s_server with"
echo "the gen-certs broker certificate, ECDHE_RSA + ChaCha20-Poly1305, TLS 1.2, max fragment 1024):"
echo
echo "| handshake | full | resumed |"
echo "|---|---|---|"
row "server auth (CA mode): default profile, x25519 (the only curve it offers, so the one the server picks), RSA-2048 broker key"
m15_full=$last_full
row "server auth, X25519 i15 in place of m15 (3,721 B less flash on the chip; not taken: see below)" --x25519 i15
x25519_slower=$(( (last_full - m15_full) * 100 / m15_full ))
row "mutual TLS: x25519, RSA-2048 broker key, RSA-2048 device key (i15)" --cert "$certs/devices/bench01.crt" --key "$certs/devices/bench01.key"
row "mutual TLS: RSA-2048 broker key, P-256 device key (ECDSA i15, m15); x25519, though the ClientHello then offers P-256 too" --cert "$certs/devices/bench01-ec.crt" --key "$certs/devices/bench01-ec.key"
echo
echo "X25519 i15 is not taken: it makes the full handshake ${x25519_slower} % slower (the limit was 15 %), for 3,721 B of the"
echo "chip's flash (issue 12). Poly1305 i15 is: 749 B less flash for about 14,000 instructions more per record."
echo
echo "Static RAM on the host (x86-64): ${ram#*static RAM: }; with --fragment 512: ${ram512#*static RAM: }."
echo "On the ESP8266: tls_transport ${xt_sizeof} B + buffers 2458 B (max fragment 1024) or 1434 B (512)."
echo "Peak stack (valgrind --tool=massif --stacks=yes, x86-64, whole process): ${stack_ca} B server auth, ${stack_mtls} B mutual TLS:"
echo "x86-64 frames; the chip's own are in the section \"TLS handshake stack on the chip\" (bench/tls-stack.ts)."
echo "lib/tls for xtensa-lx106 (-Os): text ${xt_text} B, data+bss ${xt_ram} B (BearSSL itself not included);"
echo "of the text, .rodata ${xt_rodata} B with the hints (the native node), ${xt_rodata_nohints} B with -DTLS_ERROR_HINTS=0 (the chip, which also keeps the names in flash)."
