#!/usr/bin/env bash
# Writes the type stub of dagster_dms._native with nanobind's stubgen, formatted like the rest of
# the package. Usage: scripts/native_stub.sh PYTHON OUTPUT
set -euo pipefail
cd "$(dirname "$0")/.."
python=$1
output=$2
"$python" -m nanobind.stubgen -q -m dagster_dms._native -p scripts/native_stub_patterns.txt \
  -o "$output"
"$(dirname "$python")/ruff" format -q "$output"
