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
for t in "${targets[@]}"; do cargo fuzz build --sanitizer none -O "$t"; done

run_one() {
  local t=$1 log=fuzz/artifacts/$1.log
  mkdir -p fuzz/corpus/"$t" fuzz/artifacts/"$t"
  local seeds=()
  [ -d fuzz/seeds/"$t" ] && seeds=(fuzz/seeds/"$t")
  nice -n 19 cargo fuzz run "$t" --sanitizer none -O fuzz/corpus/"$t" "${seeds[@]}" -- \
    -max_total_time="$secs" -max_len=262144 -rss_limit_mb=2048 -timeout=60 >"$log" 2>&1 || true
  grep -E "^(#[0-9]+.*DONE|Done [0-9]+ runs)" "$log" | tail -2 | sed "s/^/$t: /"
  if ls fuzz/artifacts/"$t"/crash-* fuzz/artifacts/"$t"/timeout-* fuzz/artifacts/"$t"/oom-* >/dev/null 2>&1; then
    echo "!! $t: findings in fuzz/artifacts/$t/"; ls fuzz/artifacts/"$t"/
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
