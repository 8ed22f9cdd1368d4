#!/bin/bash
# `make fuzz`: for each target, replay every committed regression input (each once: a crash fixed
# must stay fixed), then fuzz for SECONDS from the committed corpus. New interesting inputs go to a
# scratch folder, never into fuzz/corpus; a crash writes its input to ARTIFACTS and fails the run.
#   fuzz/run.sh BIN_DIR SECONDS [ARTIFACTS]
set -euo pipefail
BIN=$1
SECONDS_EACH=$2
ROOT=$(cd "$(dirname "$0")" && pwd)
ARTIFACTS=${3:-$PWD/fuzz-artifacts}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$ARTIFACTS"
# Leaks are reported by LeakSanitizer at exit; a failed allocation is a finding, not a crash of the tool.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for target in config wav manifest worker_pipe submit_request pickle; do
  fuzzer="$BIN/${target}_fuzzer"
  if [ -d "$ROOT/regressions/$target" ]; then
    "$fuzzer" -runs=1 "$ROOT"/regressions/"$target"/* > "$SCRATCH/$target.replay" 2>&1 ||
      { cat "$SCRATCH/$target.replay"; echo "fuzz: $target: a committed regression input fails again" >&2; exit 1; }
  fi
  mkdir -p "$SCRATCH/$target"
  if ! "$fuzzer" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$ARTIFACTS/$target-" "$SCRATCH/$target" "$ROOT/corpus/$target" > "$SCRATCH/$target.log" 2>&1; then
    tail -n 60 "$SCRATCH/$target.log"
    echo "fuzz: $target found a crash; its input is in $ARTIFACTS (add it to fuzz/regressions/$target with a test)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$SCRATCH/$target.log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$SCRATCH/$target.log")
  printf 'fuzz: %-15s %9s inputs in %ss, corpus %s + %s new, peak RSS %s MB, no crash\n' "$target" "$runs" \
    "$SECONDS_EACH" "$(ls "$ROOT/corpus/$target" | wc -l)" "$(ls "$SCRATCH/$target" | wc -l)" "$rss"
done
