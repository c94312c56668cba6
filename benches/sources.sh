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

# --- A large index (the size of a public catalogue's: 400 charts × 40 versions = 16,000 entries,
# ≈ 14 MB of YAML in helm's own layout), read from the repository cache by `template big/demo`:
# what every repository reference costs before any download.
big="$CHARTUP_SRC_DIR/www/big-index"
if [ ! -f "$big/index.yaml" ]; then
  mkdir -p "$big.tmp"; cp "$CHARTUP_SRC_DIR/www/charts/demo-1.0.0.tgz" "$big.tmp/"
  python3 - "$big.tmp" <<'PY'
import hashlib, sys
d = sys.argv[1]
sha = hashlib.sha256(open(d + "/demo-1.0.0.tgz", "rb").read()).hexdigest()
out = ["apiVersion: v1", "entries:"]
for c in range(400):
    name = "demo" if c == 0 else "chart-%d" % c
    out.append("  %s:" % name)
    for v in range(40):
        ver = "1.0.0" if (c == 0 and v == 0) else "%d.%d.%d" % (v // 10 + 1, v % 10, c % 7 + 1)
        url = "demo-1.0.0.tgz" if ver == "1.0.0" and c == 0 else "%s-%s.tgz" % (name, ver)
        out += ["  - annotations:", "      category: Database", "      licenses: Apache-2.0",
                "    apiVersion: v2", '    appVersion: "%s"' % ver, "    created: \"2026-01-0%dT10:00:00.000000000Z\"" % (v % 9 + 1),
                "    dependencies:", "    - name: common", "      repository: oci://registry.example/charts",
                "      tags:", "      - common", "      version: 2.x.x",
                "    description: Chart %s, a database with replication and backups, version %s" % (name, ver),
                "    digest: %s" % (sha if url == "demo-1.0.0.tgz" else "%064x" % (c * 1000 + v)),
                "    home: https://example.invalid/%s" % name, "    icon: https://example.invalid/%s.svg" % name,
                "    keywords:", "    - database", "    - %s" % name,
                "    maintainers:", "    - name: Example", "      url: https://example.invalid",
                "    name: %s" % name, "    sources:", "    - https://example.invalid/src/%s" % name,
                "    urls:", "    - %s" % url, "    version: %s" % ver]
out.append("generated: \"2026-01-01T00:00:00Z\"")
open(d + "/index.yaml", "w").write("\n".join(out) + "\n")
PY
  mv "$big.tmp" "$big"
fi
bigurl="${CHARTUP_SRC_HTTP%/charts}/big-index"
helm repo add big "$bigurl" >/dev/null
# chartup memoises a parsed index (<cache>/chartup/index/); the first read after a refresh by helm
# parses it: timed once here (memo removed), then the warm rounds below.
helm template r big/demo --version 1.0.0 >/dev/null
rm -rf "$HELM_CACHE_HOME/chartup/index"
s=$(date +%s%N); "$chartup" template r big/demo --version 1.0.0 >/dev/null; e=$(date +%s%N)
echo "large index, first chartup read (parse + memo): $(( (e - s) / 1000000 ))ms"
hb=(); cb=()
oneb() { local s e; s=$(date +%s%N); "$1" template r big/demo --version 1.0.0 >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
for _ in $(seq "$rounds"); do hb+=("$(oneb helm)"); cb+=("$(oneb "$chartup")"); done
h=$(( $(sum "${hb[@]}") / rounds )); c=$(( $(sum "${cb[@]}") / rounds ))
echo "large index ($(du -h "$big/index.yaml" | cut -f1)): rounds=$rounds helm=${h}ms chartup=${c}ms speedup=$(awk "BEGIN{printf \"%.1f\", $h/$c}")x" \
  "median helm=$(median "${hb[@]}")ms chartup=$(median "${cb[@]}")ms load=$(cut -d' ' -f1-3 /proc/loadavg)"
