# Sourced by the wheel scripts (run from the checkout's root).

# find_python X.Y: prints the path of a working CPython X.Y. pyenv's installations come first:
# its shims on PATH exist for every version but only run the selected ones.
find_python() {
  local version=$1 candidate
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version" \
    "$(command -v "python$version" || true)"; do
    if [ -x "$candidate" ] && "$candidate" -c pass 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "no working python$version under pyenv or on PATH" >&2
  exit 1
}

# build_env X.Y: prints the path of build/wheels/env-X.Y, a virtualenv of CPython X.Y with the
# pinned build and repair tools of scripts/wheel-requirements.txt (made or updated first).
build_env() {
  local version=$1 env=build/wheels/env-$1
  if [ ! -x "$env/bin/python" ] || ! cmp -s scripts/wheel-requirements.txt "$env/requirements.txt"; then
    rm -rf "$env"
    "$(find_python "$version")" -m venv "$env"
    "$env/bin/python" -m pip install -q -r scripts/wheel-requirements.txt
    cp scripts/wheel-requirements.txt "$env/requirements.txt"
  fi
  echo "$env"
}
