#!/usr/bin/env bash
# The project's test command (README): installs what the tests need, then runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-helm.sh
export PATH="$root/.tools/bin:$PATH"
cargo test --all-targets
