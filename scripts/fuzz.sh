#!/usr/bin/env bash
# Run each fuzz target for a while (default 60 s): the template parser and the strvals parser.
# cargo-fuzz drives libFuzzer with nightly-only rustc flags; the machine has one stable
# toolchain, so RUSTC_BOOTSTRAP=1 lets it use them. Findings land in fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for t in template_parse strvals; do
  echo "== fuzzing $t for ${secs}s"
  cargo fuzz run "$t" --sanitizer none -O -- -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 2>&1 |
    grep -E "^(#[0-9]+.*DONE|Done|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)" || true
  if ls fuzz/artifacts/"$t"/crash-* fuzz/artifacts/"$t"/timeout-* fuzz/artifacts/"$t"/oom-* >/dev/null 2>&1; then
    echo "!! $t: findings in fuzz/artifacts/$t/"; ls fuzz/artifacts/"$t"/
  else
    echo "ok $t: no crash, timeout or out-of-memory in ${secs}s"
  fi
done
