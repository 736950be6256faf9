#!/usr/bin/env bash
# The C++ style, one tool: clang-format with the project's .clang-format (clang-format 14, Debian's).
#   bash scripts/format.sh          formats every C++ file of the project in place
#   bash scripts/format.sh --check  changes nothing; lists the files that differ and exits 1 if any does
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format: clang-format not found: apt-get install clang-format (scripts/bootstrap.sh does)" >&2; exit 2; }
mapfile -t files < <(git ls-files 'lib/*.cpp' 'lib/*.h' 'src/*.cpp' 'src/*.h' 'test/unit/*.cpp' 'test/unit/*.h' \
                                  'fuzz/*.cpp' 'fuzz/*.h' 'bench/*.cpp' 'include/*.h')
if [ "${1:-}" != "--check" ]; then
  clang-format -i "${files[@]}"
  echo "format: ${#files[@]} files formatted"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then echo "format: $f differs (bash scripts/format.sh to fix)"; bad=$((bad + 1)); fi
done
echo "format: ${#files[@]} files checked, $bad differ"
[ "$bad" -eq 0 ]
