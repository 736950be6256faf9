#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian/Ubuntu machine, only where it is missing:
# the native toolchain, BearSSL, Mosquitto, the ESP8266 cross compiler and binutils, python3
# (the core's elf2bin.py), and the npm packages.
# Safe to run again; every other script calls it first.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

have_cmd g++ || need+=(g++)
have_cmd cmake || need+=(cmake)
have_cmd make || need+=(make)
have_cmd openssl || need+=(openssl)
have_pkg libbearssl-dev || need+=(libbearssl-dev)
have_cmd mosquitto || need+=(mosquitto)
have_cmd mosquitto_pub || need+=(mosquitto-clients)
have_cmd xtensa-lx106-elf-g++ || need+=(gcc-xtensa-lx106)
# nm/size/objcopy for the real firmware link and elf2bin.py (npm run firmware, flash-size)
have_cmd xtensa-lx106-elf-nm || need+=(binutils-xtensa-lx106)
have_cmd python3 || need+=(python3)
have_pkg picolibc-xtensa-lx106-elf || need+=(picolibc-xtensa-lx106-elf)
have_cmd chromium || need+=(chromium)
have_cmd clang++ || need+=(clang)                                # libFuzzer targets (fuzz/)
have_pkg libclang-rt-14-dev || need+=(libclang-rt-14-dev)        # clang's fuzzer and sanitizer runtimes
have_cmd clang-format || need+=(clang-format)                    # the C++ style check (scripts/format.sh)

if [ ${#need[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Debian starts Mosquitto as a service on install; tests start their own brokers on free ports,
# so a system broker on 1883 is harmless, but we never depend on it.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
