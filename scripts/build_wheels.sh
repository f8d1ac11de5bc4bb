#!/usr/bin/env bash
# Builds the release artifacts into dist/: the sdist and one repaired (manylinux) wheel per
# CPython ABI: cp310, cp311 and cp312-abi3 (the stable-ABI wheel that also serves 3.13 and
# later). `dmsctl` and `dms-local` are inside each wheel; `auditwheel repair` copies the shared
# libraries they and the extension need into the wheel and moves the executables next to them.
#
#   WHEEL_PYTHONS  the interpreters' versions (default "3.10 3.11 3.12"), found as pythonX.Y on
#                  PATH or under pyenv
#   WHEEL_PLAT     the manylinux tag to repair to (default: the one docs/release.md explains)
#   WHEEL_DIR      where the artifacts go (default dist; earlier dagster_dms artifacts there are
#                  removed first)
#   WHEEL_STATIC_CURL  1 (the default where Debian's libcurl4-openssl-dev is installed): link the
#                  HTTP-only libcurl of scripts/build_static_curl.sh instead of the system's
#
# Reproducible: timestamps come from the last commit (SOURCE_DATE_EPOCH) and the build tools
# are pinned in scripts/wheel-requirements.txt.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

PYTHONS=${WHEEL_PYTHONS:-3.10 3.11 3.12}
PLAT=${WHEEL_PLAT:-manylinux_2_35_$(uname -m)}
OUT=${WHEEL_DIR:-dist}
WORK=build/wheels

SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
export SOURCE_DATE_EPOCH
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

. scripts/find_python.sh

# A virtualenv per interpreter with the pinned build tools (no build isolation, so the versions
# are the pinned ones and nothing is fetched per build).
build_env() {
  local version=$1 env=$WORK/env-$1
  if [ ! -x "$env/bin/python" ] || ! cmp -s scripts/wheel-requirements.txt "$env/requirements.txt"; then
    rm -rf "$env"
    "$(find_python "$version")" -m venv "$env"
    "$env/bin/python" -m pip install -q -r scripts/wheel-requirements.txt
    cp scripts/wheel-requirements.txt "$env/requirements.txt"
  fi
  echo "$env"
}

mkdir -p "$OUT" "$WORK"
cmake_deps=()
if [ "${WHEEL_STATIC_CURL:-$(dpkg-query -W libcurl4-openssl-dev >/dev/null 2>&1 && echo 1)}" = 1 ]; then
  scripts/build_static_curl.sh "$WORK/deps"
  cmake_deps=(-C cmake.define.CMAKE_PREFIX_PATH="$PWD/$WORK/deps")
fi
rm -f "$OUT"/dagster_dms-*.whl "$OUT"/dagster_dms-*.tar.gz
rm -rf "$WORK/raw"

first=${PYTHONS%% *}
env=$(build_env "$first")
echo "build_wheels: sdist"
"$env/bin/python" -m build --sdist --no-isolation --outdir "$OUT" . >/dev/null

for version in $PYTHONS; do
  env=$(build_env "$version")
  echo "build_wheels: wheel for CPython $version"
  "$env/bin/python" -m pip wheel --no-deps --no-build-isolation -q -w "$WORK/raw/$version" \
    -C build-dir="$WORK/build-$version" "${launcher[@]}" "${cmake_deps[@]}" .
  PATH="$PWD/$env/bin:$PATH" auditwheel repair --plat "$PLAT" -w "$OUT" "$WORK/raw/$version"/*.whl
done

(cd "$OUT" && sha256sum dagster_dms-* >SHA256SUMS)
ls -l "$OUT"
