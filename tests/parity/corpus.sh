#!/usr/bin/env bash
# Compare `chartup template` with `helm template` on many real charts (not part of `cargo test`:
# the charts are not in this repository). For each chart directory given, prints
#   OK NAME | DIFF NAME (n lines) | CHARTUP-FAILED NAME: error | (skipped when helm itself fails)
# Differences in random material (passwords, certificates) show up as DIFF: inspect them with
#   diff <(helm template DIR) <(chartup template DIR)
# Example (bitnami charts need their `common` library copied into charts/ first):
#   tests/parity/corpus.sh /tmp/bitnami/*/
set -uo pipefail
helm=${CHARTUP_HELM:-$(command -v helm || true)}
chartup=${CHARTUP:-$(cd "$(dirname "$0")/../.." && pwd)/target/debug/chartup}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in "$@"; do
  [ -f "$dir/Chart.yaml" ] || continue
  name=$(basename "$dir")
  "$helm" template "$dir" >"$tmp/h" 2>/dev/null || continue
  if ! "$chartup" template "$dir" >"$tmp/o" 2>"$tmp/e"; then
    echo "CHARTUP-FAILED $name: $(head -c 200 "$tmp/e" | tr '\n' ' ')"
    continue
  fi
  n=$(diff "$tmp/h" "$tmp/o" | grep -c '^[<>]')
  if [ "$n" = 0 ]; then echo "OK $name"; else echo "DIFF $name ($n lines)"; fi
done
