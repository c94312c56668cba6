#!/usr/bin/env bash
# Run each fuzz target for a while (default 600 s = 10 min each): the template parser, template
# execution with a bounded function set, the --set parser, values YAML loading, chart archive
# loading and the saved-plan reader. Seed corpora (fuzz/seeds/<target>/) hold the deep-nesting
# cases; -max_len is 256 KiB so inputs can reach them (10,000 nested `[`, 12,000 nested `{{if}}`).
# cargo-fuzz drives libFuzzer with nightly-only rustc flags; the machine has one stable
# toolchain, so RUSTC_BOOTSTRAP=1 lets it use them. Findings land in fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET…]; FUZZ_JOBS=N runs N targets at a time (each nice 19).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(template_parse template_exec strvals values_yaml chart_archive plan_reader)
jobs=${FUZZ_JOBS:-1}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
# The same flags for build and run (different flags would rebuild the whole tree before each run);
# 16 codegen units: a build that fits in the time of the runs on a shared 2-core machine.
flags=(--sanitizer none -O --codegen-units 16)
for t in "${targets[@]}"; do cargo fuzz build "${flags[@]}" "$t"; done

# FUZZ_KEEP_GOING=1 (the default) runs libFuzzer in fork mode, which records a finding and keeps
# fuzzing, so one run collects every crash, timeout and out-of-memory instead of stopping at the
# first; FUZZ_KEEP_GOING=0 stops at the first finding (plain mode).
run_one() {
  local t=$1 log=fuzz/artifacts/$1.log mode=()
  mkdir -p fuzz/corpus/"$t" fuzz/artifacts/"$t"
  local seeds=()
  [ -d fuzz/seeds/"$t" ] && seeds=(fuzz/seeds/"$t")
  [ "${FUZZ_KEEP_GOING:-1}" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  local t0 t1
  t0=$(date +%s)
  nice -n 19 cargo fuzz run "$t" "${flags[@]}" fuzz/corpus/"$t" "${seeds[@]}" -- "${mode[@]}" \
    -max_total_time="$secs" -max_len=262144 -rss_limit_mb=2048 -timeout=60 -print_final_stats=1 >"$log" 2>&1 || true
  t1=$(date +%s)
  # Plain mode ends with "Done N runs"; fork mode's last status line starts with "#N:" (N executions).
  local runs
  runs=$(grep -oE "^(Done [0-9]+ runs|#[0-9]+)" "$log" | tail -1 | grep -oE "[0-9]+" || echo "?")
  echo "$t: $((t1 - t0)) s, $runs executions, corpus $(find fuzz/corpus/"$t" -type f | wc -l) files," \
    "$(date -u +%F), commit $(git rev-parse --short HEAD)"
  if ls fuzz/artifacts/"$t"/crash-* fuzz/artifacts/"$t"/timeout-* fuzz/artifacts/"$t"/oom-* >/dev/null 2>&1; then
    echo "!! $t: findings in fuzz/artifacts/$t/"; ls fuzz/artifacts/"$t"/
  elif [ $((t1 - t0)) -lt "$secs" ]; then
    echo "?? $t: ended after $((t1 - t0)) s, before ${secs} s — see $log"
  else
    echo "ok $t: no crash, timeout or out-of-memory in ${secs}s"
  fi
}

running=0
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${secs}s"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
