# Sourced by the wheel scripts: find_python X.Y prints the path of a working CPython X.Y.
# pyenv's installations come first: its shims on PATH exist for every version but only run the
# selected ones.
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
