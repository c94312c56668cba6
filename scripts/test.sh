#!/usr/bin/env bash
# The project's test command (README): installs what the tests need, brings up the end-to-end test
# cluster (docs/test-cluster.md), then runs every test of the workspace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-helm.sh
export PATH="$root/.tools/bin:$PATH"
# A cluster that was already running (a developer's) is reused and left running; one started here is
# stopped at the end, whatever the outcome.
cleanup=()
if ! scripts/test-cluster.sh status 2>/dev/null; then
  cleanup+=("scripts/test-cluster.sh down")
fi
trap 'for c in "${cleanup[@]}"; do $c; done' EXIT
# Two simulated nodes, so DaemonSet replacements are shown node by node (docs/test-cluster.md).
export NODESIM_NODES=${NODESIM_NODES:-2}
cluster_env=$(scripts/test-cluster.sh up)
eval "$cluster_env"   # KUBECONFIG, CHARTUP_TEST_CLUSTER_DIR, …
# The chart repository (nginx, HTTP + HTTPS with basic auth) and OCI registry (Debian's
# docker-registry, htpasswd + TLS) the chart-source tests use (tests/it/sources.rs); stopped at the end
# when started here.
if ! scripts/test-sources.sh status 2>/dev/null; then
  cleanup+=("scripts/test-sources.sh down")
fi
eval "$(scripts/test-sources.sh up)"   # CHARTUP_SRC_*
cargo test --workspace --all-targets
# The documented install (docs/helm-user.md, issue #18): `cargo install --locked --path .` works.
# `--debug` into the same target directory reuses the build the tests just made: a link at most.
install_root=$(mktemp -d)
cargo install --locked --path . --debug --target-dir "${CARGO_TARGET_DIR:-$root/target}" --root "$install_root" --quiet
"$install_root/bin/chartup" --version
rm -rf "$install_root"
