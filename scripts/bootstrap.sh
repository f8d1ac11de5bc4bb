#!/usr/bin/env bash
# Installs everything `make test` and `make demo` need, idempotently: Debian packages (chromium
# drives the browser test; Playwright never downloads a browser), then a virtualenv with the
# Python dependencies and the project itself (`pip install -e .[test]`).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git python3-venv python3-dev
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libtinyxml2-dev libre2-dev
  libpq-dev libsqlite3-dev libcpp-httplib-dev postgresql awscli
  libmariadb-dev mariadb-server  # MySQL-family sources: the client library, and servers for tests
  libyaml-cpp-dev clang clang-format clang-tidy ccache chromium
  libclang-rt-14-dev  # the ASan, UBSan and libFuzzer runtimes clang links (only recommended by clang)
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

VENV=${VENV:-.venv}
# Paths relative to the checkout, so clones in other folders share the compiler cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating virtualenv $VENV"
  python3 -m venv "$VENV"
fi
stamp="$VENV/.bootstrap-stamp"
# Reinstall when the dependency list or the native sources changed since the last bootstrap.
digest=$(cat pyproject.toml CMakeLists.txt $(git ls-files 'src/*' 2>/dev/null || find src -type f) 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "bootstrap: installing the project and its Python dependencies into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q nanobind scikit-build-core
  # The C++ unit tests are built in the same (Release) build tree as the extension, so
  # `make test` compiles the core once for them and once more under the sanitizers.
  "$VENV/bin/python" -m pip install -q --no-build-isolation -e '.[test]' \
    -C cmake.define.DAGSTER_DMS_TESTS=ON -C cmake.define.DAGSTER_DMS_MYSQL=ON \
    -C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache
  echo "$digest" > "$stamp"
fi
