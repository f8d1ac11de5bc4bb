#!/usr/bin/env bash
# Fails, naming the file and the command that fixes it, when generated output is stale:
#   - the typed API models (scripts/generate_models.py, from ../shared/reference);
#   - the extension's stub (make stub);
#   - a C++ file clang-format would change (make format).
# Usage: scripts/check_generated.sh PYTHON
set -euo pipefail
cd "$(dirname "$0")/.."
python=$1
status=0

if [ -d ../shared/reference ]; then
  if ! "$python" scripts/generate_models.py --check; then
    echo "lint: the files generated from the API models are stale: run $python scripts/generate_models.py" >&2
    status=1
  fi
else
  echo "lint: ../shared/reference is absent: the generated API models were not checked" >&2
fi

mkdir -p build
fresh=$(mktemp -p build --suffix=.pyi)
trap 'rm -f "$fresh"' EXIT
scripts/native_stub.sh "$python" "$fresh"
if ! diff -u python/dagster_dms/_native.pyi "$fresh" >&2; then
  echo "lint: python/dagster_dms/_native.pyi differs from what stubgen writes: run make stub" >&2
  status=1
fi

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/cpp/*.cpp' 'tests/cpp/*.hpp' \
  'tests/fuzz/*.cpp')
if ! clang-format --dry-run --Werror "${sources[@]}"; then
  echo "lint: clang-format would change the files above: run make format" >&2
  status=1
fi
exit $status
