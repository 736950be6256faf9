#!/usr/bin/env bash
# Cross-compiles every .cpp of the portable core (lib/port, lib/mqtt, lib/sensors, lib/node, lib/store, lib/tls) for the
# ESP8266 with Debian's xtensa-lx106-elf-g++ and the firmware's flags, so CI proves the core builds
# for the chip without PlatformIO. Prints one summary line with the object sizes.
# BearSSL: the cross compiler gets an include dir holding only a `bearssl` symlink to
# /usr/include/bearssl, never -I/usr/include (that would pull the host's glibc headers in).
set -euo pipefail
cd "$(dirname "$0")/.."

cxx=xtensa-lx106-elf-g++
size=xtensa-lx106-elf-size
command -v "$cxx" >/dev/null || { echo "xtensa-build: $cxx not found (apt-get install gcc-xtensa-lx106)" >&2; exit 1; }

out=$(mktemp -d /tmp/xtensa-build.XXXXXX)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/inc"
ln -s /usr/include/bearssl "$out/inc/bearssl"

# The flags are listed once, in cmake/flags.txt (groups chip, cxx_rules, warnings, werror).
flag_group() { sed -n "s/^$1: *//p" cmake/flags.txt; }
read -ra project_flags <<< "$(flag_group chip) $(flag_group cxx_rules) $(flag_group warnings) $(flag_group werror)"
flags=("${project_flags[@]}" -std=gnu++11
       -isystem /usr/lib/xtensa-lx106-elf/include -isystem "$out/inc")
dirs=(lib/port lib/mqtt lib/sensors lib/node lib/store lib/tls)
# The layering (docs/architecture.md): each part sees only its own folder and the ones it may use,
# so a part that reaches into another (lib/tls into lib/node, say) fails this build.
uses() {
  case "$1" in
    lib/port) echo lib/port ;;
    lib/mqtt|lib/sensors|lib/store|lib/tls) echo "$1" lib/port ;;
    *) echo "${dirs[@]}" include ;;
  esac
}
includes() { local d; for d in $(uses "$1"); do [ -d "$d" ] && echo "-I$d"; done; }

mapfile -t sources < <(for d in "${dirs[@]}"; do [ -d "$d" ] && find "$d" -name '*.cpp'; done | sort)
[ ${#sources[@]} -gt 0 ] || { echo "xtensa-build: no sources found" >&2; exit 1; }

objs=()
for src in "${sources[@]}"; do
  obj="$out/$(echo "$src" | tr '/' '_').o"
  # shellcheck disable=SC2046
  "$cxx" "${flags[@]}" $(includes "$(dirname "$src")") -c "$src" -o "$obj"
  objs+=("$obj")
done

# The node's static RAM on the chip: the whole app (MQTT queue, buffers, topics) with the chip's
# default queue size, as the ESP8266 entry point declares it (`static node_app app;`).
ram=""
if [ -f lib/node/node_app.h ]; then
  printf '#include "node_app.h"\nnode_app xtensa_build_app;\n' > "$out/ram_probe.cpp"
  # shellcheck disable=SC2046
  "$cxx" "${flags[@]}" $(includes lib/node) -c "$out/ram_probe.cpp" -o "$out/ram_probe.o"
  ram=", node_app static RAM $("$size" "$out/ram_probe.o" | awk 'NR==2 {print $2 + $3}') B"
fi

# Per-object sizes, then the one-line summary (text = flash, data+bss = RAM).
"$size" "${objs[@]}" | sed "s#$out/##"
read -r text data bss < <("$size" "${objs[@]}" | awk 'NR>1 {t+=$1; d+=$2; b+=$3} END {print t, d, b}')
echo "xtensa-lx106: ${#objs[@]} files compiled, text ${text} B, data ${data} B, bss ${bss} B${ram}"
