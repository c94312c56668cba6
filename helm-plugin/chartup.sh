#!/bin/sh
# helm runs this with its settings in the environment (helm removes its global flags from the
# arguments and exports them): HELM_NAMESPACE (-n, already resolved through the kubeconfig
# context), KUBECONFIG (--kubeconfig), HELM_KUBECONTEXT (--kube-context), HELM_DRIVER.
# chartup reads HELM_NAMESPACE, KUBECONFIG, HELM_KUBECONTEXT and HELM_DRIVER itself.
set -e
bin="${CHARTUP_BIN:-}"
if [ -z "$bin" ]; then
  if command -v chartup >/dev/null 2>&1; then
    bin=chartup
  elif [ -x "$HELM_PLUGIN_DIR/bin/chartup" ]; then
    bin="$HELM_PLUGIN_DIR/bin/chartup"
  else
    echo "helm chartup: the chartup binary was not found: install it (cargo install --locked --path .)," \
      "put it on PATH, or set CHARTUP_BIN" >&2
    exit 127
  fi
fi
exec "$bin" "$@"
