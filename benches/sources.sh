#!/usr/bin/env bash
# `dependency build` + `template` of a chart with five dependencies (two from the HTTPS repository
# with basic auth, two from the OCI registry, one file://), chartup against helm, on the local
# repository and registry of scripts/test-sources.sh. Each round starts from the chart with its
# Chart.lock and no charts/; caches are warm after the first round (both tools keep a content cache).
#
# Usage: benches/sources.sh [ROUNDS]   (CHARTUP: the binary; default target/release-lto/chartup,
#        else target/release/chartup)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-10}
export PATH="$root/.tools/bin:/work/main/.tools/bin:$PATH"
chartup=${CHARTUP:-}
if [ -z "$chartup" ]; then
  for c in "$root/target/release-lto/chartup" "$root/target/release/chartup"; do [ -x "$c" ] && { chartup=$c; break; }; done
fi
[ -x "$chartup" ] || { echo "build chartup first: cargo build --profile release-lto" >&2; exit 1; }
eval "$("$root/scripts/test-sources.sh" up)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export HELM_CONFIG_HOME=$work/config HELM_CACHE_HOME=$work/cache HELM_DATA_HOME=$work/data
helm repo add srcs "$CHARTUP_SRC_HTTPS" --ca-file "$CHARTUP_SRC_CA" --username "$CHARTUP_SRC_USER" --password "$CHARTUP_SRC_PASSWORD" >/dev/null
helm registry login "$CHARTUP_SRC_REGISTRY" --ca-file "$CHARTUP_SRC_CA" -u "$CHARTUP_SRC_USER" -p "$CHARTUP_SRC_PASSWORD" >/dev/null 2>&1
cp -r "$root/tests/data/sources/umbrella" "$work/umbrella"
sed -i "s/REGISTRY/$CHARTUP_SRC_REGISTRY/" "$work/umbrella/Chart.yaml"
cp -r "$root/tests/data/sources/dep" "$work/dep-e"
sed -i "s/^name: .*/name: dep-e/; s/^version: .*/version: 0.3.0/" "$work/dep-e/Chart.yaml"
helm dependency update "$work/umbrella" --ca-file "$CHARTUP_SRC_CA" >/dev/null 2>&1   # writes Chart.lock
run() { # tool
  rm -rf "$work/umbrella/charts"
  "$1" dependency build "$work/umbrella" --ca-file "$CHARTUP_SRC_CA" >/dev/null 2>&1
  "$1" template r "$work/umbrella" >/dev/null
}
run helm; run "$chartup"   # warm both caches
# Alternating rounds (helm, chartup, helm, …) so both see the same load; per-round times are
# summed per tool, the median per tool printed too.
ht=(); ct=()
one() { local s e; s=$(date +%s%N); run "$1"; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
for _ in $(seq "$rounds"); do ht+=("$(one helm)"); ct+=("$(one "$chartup")"); done
sum() { local t=0 x; for x in "$@"; do t=$((t + x)); done; echo "$t"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
h=$(( $(sum "${ht[@]}") / rounds )); c=$(( $(sum "${ct[@]}") / rounds ))
echo "rounds=$rounds helm=${h}ms chartup=${c}ms speedup=$(awk "BEGIN{printf \"%.1f\", $h/$c}")x" \
  "median helm=$(median "${ht[@]}")ms chartup=$(median "${ct[@]}")ms load=$(cut -d' ' -f1-3 /proc/loadavg)"
