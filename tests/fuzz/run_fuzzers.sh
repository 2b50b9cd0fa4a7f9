#!/usr/bin/env bash
# Runs every fuzz target of a build for SECONDS each, JOBS at a time, from its seed corpus
# (tests/fuzz/corpus/<target>/). New inputs go to BUILD/fuzz-corpus/<target>/, not the tree;
# crashes, leaks, timeouts and OOMs to BUILD/fuzz-artifacts/ and fail the run.
# Usage: run_fuzzers.sh BUILD_DIR SECONDS [JOBS] [TARGET...]
set -euo pipefail
build=$(realpath "$1"); seconds=$2; jobs=${3:-2}; shift $(( $# < 3 ? $# : 3 ))
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(cd "$here/corpus" && ls))
fi
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"

run_one() {
  local t=$1 build=$2 seconds=$3 here=$4
  local bin="$build/bin/${t}_fuzz" log="$build/fuzz-logs/$t.log"
  mkdir -p "$build/fuzz-corpus/$t"
  # libFuzzer ends a timed run with _Exit, past the targets' atexit cleanup: their scratch
  # files go to a directory of this run's, removed here.
  local scratch
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/accllm-fuzz-$t.XXXXXX")
  trap 'rm -rf "$scratch"' RETURN
  # rss_limit/malloc_limit: a parser that allocates what a header says is a bug, not a slow input.
  TMPDIR=$scratch ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
    "$build/fuzz-corpus/$t" "$here/corpus/$t" >"$log" 2>&1
  local rc=$?
  local runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  if [ $rc -eq 0 ]; then
    printf '%-22s ok    %12s executions in %ss\n' "$t" "$runs" "$seconds"
  else
    printf '%-22s FAIL  (exit %d) see %s\n' "$t" "$rc" "$log"
    grep -m 5 -E 'ERROR|SUMMARY|Test unit written' "$log" | sed 's/^/    /'
    return 1
  fi
}
export -f run_one

printf '%s\n' "${targets[@]}" |
  xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$build" "$seconds" "$here"
