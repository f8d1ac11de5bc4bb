#!/usr/bin/env bash
# Builds the release artifacts into dist/: the sdist and one repaired (manylinux) wheel per
# CPython ABI: cp310, cp311 and cp312-abi3 (the stable-ABI wheel that also serves 3.13 and
# later). `dmsctl` and `dms-local` are inside each wheel; `auditwheel repair` copies the shared
# libraries they and the extension need into the wheel and moves the executables next to them.
#
#   WHEEL_PYTHONS  the interpreters' versions (default "3.10 3.11 3.12"), found as pythonX.Y on
#                  PATH or under pyenv
#   WHEEL_PLAT     the manylinux tag to repair to (default manylinux_2_34, or 2_35 without the
#                  static dependencies: docs/release.md)
#   WHEEL_DIR      where the artifacts go (default dist; earlier dagster_dms artifacts there are
#                  removed first)
#   WHEEL_STATIC_DEPS  1 (the default on Debian with libcurl4-openssl-dev and libpq-dev): link the
#                  trimmed static libcurl and libpq of scripts/build_wheel_deps.sh
#
# Reproducible: timestamps come from the last commit (SOURCE_DATE_EPOCH) and the build tools
# are pinned in scripts/wheel-requirements.txt.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

PYTHONS=${WHEEL_PYTHONS:-3.10 3.11 3.12}
OUT=${WHEEL_DIR:-dist}
WORK=build/wheels

SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
export SOURCE_DATE_EPOCH
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

. scripts/wheel_env.sh

mkdir -p "$OUT" "$WORK"
cmake_deps=()
floor=2_35
debian_dev_packages() { dpkg-query -W libcurl4-openssl-dev libpq-dev >/dev/null 2>&1 && echo 1; }
if [ "${WHEEL_STATIC_DEPS:-$(debian_dev_packages)}" = 1 ]; then
  scripts/build_wheel_deps.sh "$WORK/deps"
  cmake_deps=(-C cmake.define.CMAKE_PREFIX_PATH="$PWD/$WORK/deps"
    -C cmake.define.DAGSTER_DMS_GLIBCXX_COMPAT=ON)
  floor=2_34
fi
PLAT=${WHEEL_PLAT:-manylinux_${floor}_$(uname -m)}
rm -f "$OUT"/dagster_dms-*.whl "$OUT"/dagster_dms-*.tar.gz
rm -rf "$WORK/raw"

first=${PYTHONS%% *}
env=$(build_env "$first")
echo "build_wheels: sdist"
"$env/bin/python" -m build --sdist --no-isolation --outdir "$OUT" . >/dev/null

for version in $PYTHONS; do
  env=$(build_env "$version")
  echo "build_wheels: wheel for CPython $version"
  # Configured afresh each time (the objects stay, and ccache has them): results cached by an
  # earlier configuration, such as which libpq pkg-config found, must not leak into the wheel.
  rm -f "$WORK/build-$version/CMakeCache.txt"
  "$env/bin/python" -m pip wheel --no-deps --no-build-isolation -q -w "$WORK/raw/$version" \
    -C build-dir="$WORK/build-$version" "${launcher[@]}" "${cmake_deps[@]}" .
  PATH="$PWD/$env/bin:$PATH" auditwheel repair --plat "$PLAT" -w "$OUT" "$WORK/raw/$version"/*.whl
done

(cd "$OUT" && sha256sum dagster_dms-* >SHA256SUMS)
ls -l "$OUT"
