#!/usr/bin/env bash
# Installs each wheel of WHEEL_DIR (default dist) into a fresh virtualenv of every CPython it
# serves and runs tests/wheel/smoke.py there, from a temporary directory, so nothing of the
# checkout is importable. cp3XX wheels get CPython 3.XX; the cp312-abi3 wheel gets each of
# WHEEL_ABI3_PYTHONS (default "3.12 3.13").
#
#   WHEEL_TEST_QUICK=1  skips the PostgreSQL full-load materialization (the form `make test` runs)
#
# pip installs the wheel's dependencies (dagster, ...) from the configured index or pip's cache.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. scripts/wheel_env.sh

checkout=$PWD
wheels_dir=${WHEEL_DIR:-dist}
smoke_args=(--checkout "$checkout")
[ "${WHEEL_TEST_QUICK:-0}" = 1 ] && smoke_args+=(--no-postgres)

scratch=$(mktemp -d -t wheel-test-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

shopt -s nullglob
wheels=("$wheels_dir"/dagster_dms-*.whl)
if [ ${#wheels[@]} -eq 0 ]; then
  echo "wheel_test: no dagster_dms wheels in $wheels_dir; run \`make wheels\` first" >&2
  exit 1
fi

tested=0
for wheel in "${wheels[@]}"; do
  tag=$(basename "$wheel" | cut -d- -f3-4)  # e.g. cp311-cp311 or cp312-abi3
  case $tag in
    *-abi3) versions=${WHEEL_ABI3_PYTHONS:-3.12 3.13} ;;
    cp3*) versions="3.${tag:3:2}" ;;
    *) echo "wheel_test: unexpected tag $tag in $wheel" >&2; exit 1 ;;
  esac
  for version in $versions; do
    echo "wheel_test: $(basename "$wheel") on CPython $version"
    work=$scratch/$version-${tag%%-*}
    mkdir -p "$work"
    "$(find_python "$version")" -m venv "$work/venv"
    "$work/venv/bin/python" -m pip install -q --disable-pip-version-check "$(realpath "$wheel")" boto3
    cp tests/wheel/smoke.py "$work/"
    (cd "$work" && env -u PYTHONPATH PATH="$work/venv/bin:$PATH" \
      "$work/venv/bin/python" smoke.py "${smoke_args[@]}")
    rm -rf "$work"
    tested=$((tested + 1))
  done
done
echo "wheel_test: $tested installs passed"
