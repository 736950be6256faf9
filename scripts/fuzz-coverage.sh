#!/usr/bin/env bash
# Line and branch coverage of the code each fuzz target links (fuzz/README.md, "coverage reached"):
# builds the target with clang's source-based coverage (no sanitizers) in build/fuzz-cov/NAME/,
# runs every input of its corpora once (the committed seeds, plus build/fuzz/NAME/corpus that
# `bash scripts/fuzz.sh` grew), and prints llvm-cov's totals over the target's core sources.
#   bash scripts/fuzz-coverage.sh                 # every target
#   bash scripts/fuzz-coverage.sh tls_cert_fuzz   # one
set -uo pipefail
cd "$(dirname "$0")/.."
source <(sed -n '/^sources_for()/,/^}/p' scripts/fuzz.sh)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
flags=(-std=c++11 -g -O1 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping
       -fno-exceptions -fno-rtti -Ilib/port -Ilib/tls -Ilib/node -Ilib/hal_posix -Ilib/store -Ilib/mqtt -Ilib/sensors -Itest/unit)
for t in "${targets[@]}"; do
  out=build/fuzz-cov/$t
  mkdir -p "$out"
  # shellcheck disable=SC2046
  srcs=$(sources_for "$t")
  # shellcheck disable=SC2086
  if ! clang++ "${flags[@]}" "fuzz/$t.cpp" $srcs -lbearssl -o "$out/$t" 2>"$out/build.log"; then
    tail -5 "$out/build.log"; echo "coverage: $t: build FAILED"; continue
  fi
  dirs=("fuzz/corpus/$t")
  [ -d "build/fuzz/$t/corpus" ] && dirs+=("build/fuzz/$t/corpus")
  [ -d "build/fuzz/$t/keys" ] && dirs+=("build/fuzz/$t/keys")
  LLVM_PROFILE_FILE="$out/run.profraw" "./$out/$t" -runs=0 "${dirs[@]}" >"$out/run.log" 2>&1
  llvm-profdata merge -sparse "$out/run.profraw" -o "$out/run.profdata"
  inputs=$(grep -Eo 'INITED.*|[0-9]+ files found in [^ ]+' "$out/run.log" | grep -Eo '^[0-9]+' | paste -sd+ | bc)
  # shellcheck disable=SC2086
  total=$(llvm-cov report "$out/$t" -instr-profile="$out/run.profdata" $srcs | grep '^TOTAL')
  # TOTAL regions missed cover functions missed executed lines missed cover branches missed cover
  read -r _ _ _ _ _ _ _ lines lmiss lcov branches bmiss bcov <<<"$total"
  echo "coverage: $t: lines $lcov ($((lines - lmiss))/$lines), branches $bcov ($((branches - bmiss))/$branches) of $(echo $srcs | wc -w) core file(s), ${inputs:-?} inputs"
  # shellcheck disable=SC2086
  llvm-cov report "$out/$t" -instr-profile="$out/run.profdata" $srcs | grep -E '^[^ ]+\.cpp ' |
    awk '{ printf "  %-36s lines %s, branches %s\n", $1, $10, $13 }'
done
