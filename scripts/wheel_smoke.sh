#!/usr/bin/env bash
# The quick wheel check (`make wheel-smoke`): a wheel for .venv's Python, built
# from the tree `make bootstrap` already compiled (so nothing is compiled again), repaired by
# auditwheel, installed into a fresh virtualenv and checked by tests/wheel/smoke.py without the
# PostgreSQL run. It covers the packaging (executables moved by auditwheel, the installed
# testing helpers, ldd), not the release wheels' trimmed static dependencies: `make wheels
# wheel-test` does that.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
. scripts/wheel_env.sh

VENV=${VENV:-.venv}
out=build/wheel-smoke
version=$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
tools=$(build_env "$version")
rm -rf "$out"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
# The same settings as scripts/bootstrap.sh, so the build tree is reused as it is.
"$VENV/bin/python" -m pip wheel --no-deps --no-build-isolation -q -w "$out/raw" \
  -C build-dir=build/python -C cmake.define.DAGSTER_DMS_TESTS=ON -C cmake.define.DAGSTER_DMS_MYSQL=ON \
  -C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache .
# Debian's shared libraries are bundled here, hence the higher tag than the release wheels'.
PATH="$PWD/$tools/bin:$PATH" auditwheel repair --plat "manylinux_2_35_$(uname -m)" -w "$out" \
  "$out/raw"/*.whl
WHEEL_DIR=$out WHEEL_TEST_QUICK=1 WHEEL_ABI3_PYTHONS=$version scripts/wheel_test.sh
