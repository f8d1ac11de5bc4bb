#!/usr/bin/env bash
# Runs every libFuzzer target of a DAGSTER_DMS_FUZZ build for a bounded time.
# Usage: scripts/run_fuzzers.sh BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
build_dir=$(cd "$1" && pwd)  # absolute: each fuzzer runs from its own work folder
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for binary in "$build_dir"/tests/fuzz/*_fuzz; do
  name=$(basename "$binary" _fuzz)
  work="$root/build/fuzz/$name"
  # The committed corpus is read-only input; what the run discovers goes to a scratch folder.
  # -entropic=0: with this many coverage features the entropic scheduler spends half the time
  # updating feature frequencies; plain scheduling runs about twice as many inputs.
  # -seed: fixed by default, so `make test` explores the same inputs each run and a failure
  # reproduces; FUZZ_SEED=0 asks libFuzzer for a random seed when hunting.
  rm -rf "$work"
  mkdir -p "$work/corpus"
  dict=()
  if [[ -f "$root/tests/fuzz/$name.dict" ]]; then dict=(-dict="$root/tests/fuzz/$name.dict"); fi
  echo "fuzz: $name for ${seconds}s"
  if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -entropic=0 \
      -seed="${FUZZ_SEED:-1}" \
      "${dict[@]}" corpus "$root/tests/fuzz/corpus/$name" >"$work/fuzz.log" 2>&1); then
    echo "fuzz: $name FAILED; the end of $work/fuzz.log:"
    tail -n 60 "$work/fuzz.log"
    status=1
  else
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$work/fuzz.log" | tr '\n' ' '
    echo
  fi
done
exit $status
