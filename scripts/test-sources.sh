#!/usr/bin/env bash
# A real chart repository and a real OCI registry for the chart-source tests (issue 13):
#   - nginx (Debian's nginx-light) serving a chart repository over HTTP (no auth) and HTTPS with
#     basic auth, index and archives made by `helm package` + `helm repo index`;
#   - the CNCF distribution registry (Debian's docker-registry) over HTTPS with htpasswd auth,
#     charts put there by `helm push`;
#   - a self-signed CA (openssl) both certificates chain to;
#   - signed charts (provenance): a GnuPG key pair (and a second, foreign key), `helm package --sign`
#     charts under /signed in the repository and oci://…/signed in the registry — one good, one
#     without .prov, one tampered after signing (index regenerated, as a repository owner could);
#   - bearer tokens: a second registry process on the same storage with `auth: token` (the real
#     registry verifies every JWT: signature, x5c chain to its rootcertbundle, issuer, audience,
#     expiry, granted actions) and scripts/token-server.py as its token endpoint (Debian ships no
#     token server), which checks Basic credentials and signs the requested scopes;
#   - client certificates: a second nginx serving the same repository over HTTPS only to clients
#     presenting a certificate of the test CA (`--cert-file`/`--key-file`).
# Everything binds to free loopback ports and lives in one run directory.
#
# Usage: scripts/test-sources.sh up|down|env|status [RUN_DIR]
#   up      install packages if missing, start both servers, publish the charts, print env lines
#   env     print the env lines of a running setup (eval "$(scripts/test-sources.sh env)")
#   status  exit 0 when both servers answer
#   down    stop both servers
# RUN_DIR defaults to $CHARTUP_SOURCES_DIR, else ~/.cache/chartup/sources/default.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
RUN=${2:-${CHARTUP_SOURCES_DIR:-$HOME/.cache/chartup/sources/default}}
HELM=${CHARTUP_HELM:-helm}
export PATH="$root/.tools/bin:$PATH"
USER_NAME=chartup
PASSWORD=s3cret-pass

log() { echo "test-sources: $*" >&2; }
die() { log "error: $*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_packages() {
  local need=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
  command -v htpasswd >/dev/null || need+=(apache2-utils)
  command -v openssl >/dev/null || need+=(openssl)
  command -v curl >/dev/null || need+=(curl)
  command -v python3 >/dev/null || need+=(python3)
  command -v gpg >/dev/null || need+=(gnupg)
  if [ ${#need[@]} -gt 0 ]; then
    as_root apt-get update -qq
    log "installing ${need[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

print_env() {
  [ -f "$RUN/ports" ] || die "not up (no $RUN/ports)"
  # shellcheck disable=SC1091
  . "$RUN/ports"
  cat <<ENV
export CHARTUP_SRC_DIR=$RUN
export CHARTUP_SRC_HTTP=http://127.0.0.1:$HTTP_PORT/charts
export CHARTUP_SRC_HTTPS=https://127.0.0.1:$HTTPS_PORT/charts
export CHARTUP_SRC_REGISTRY=127.0.0.1:$REGISTRY_PORT
export CHARTUP_SRC_CA=$RUN/tls/ca.crt
export CHARTUP_SRC_USER=$USER_NAME
export CHARTUP_SRC_PASSWORD=$PASSWORD
export CHARTUP_SRC_SIGNED=http://127.0.0.1:$HTTP_PORT/signed
export CHARTUP_SRC_KEYRING=$RUN/gpg/pubring.gpg
export CHARTUP_SRC_OTHER_KEYRING=$RUN/gpg/other.gpg
ENV
  if [ -f "$RUN/mtls-port" ]; then
    # shellcheck disable=SC1091
    . "$RUN/mtls-port"
    echo "export CHARTUP_SRC_MTLS=https://127.0.0.1:$MTLS_PORT/charts"
    echo "export CHARTUP_SRC_CLIENT_CERT=$RUN/tls/client.crt"
    echo "export CHARTUP_SRC_CLIENT_KEY=$RUN/tls/client.key"
  fi
  if [ -f "$RUN/token-ports" ]; then
    # shellcheck disable=SC1091
    . "$RUN/token-ports"
    echo "export CHARTUP_SRC_TOKEN_REGISTRY=127.0.0.1:$TOKEN_REGISTRY_PORT"
  fi
}

token_status() {
  [ -f "$RUN/token-ports" ] || return 1
  # shellcheck disable=SC1091
  . "$RUN/token-ports"
  curl -s -D - -o /dev/null --cacert "$RUN/tls/ca.crt" "https://127.0.0.1:$TOKEN_REGISTRY_PORT/v2/" 2>/dev/null \
    | grep -qi '^www-authenticate: Bearer' || return 1
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$RUN/tls/ca.crt" "https://127.0.0.1:$TOKEN_PORT/token" || true)
  [ "$code" = 401 ]
}

mtls_status() {
  [ -f "$RUN/mtls-port" ] || return 1
  # shellcheck disable=SC1091
  . "$RUN/mtls-port"
  curl -fsS -o /dev/null --cacert "$RUN/tls/ca.crt" --cert "$RUN/tls/client.crt" --key "$RUN/tls/client.key" \
    "https://127.0.0.1:$MTLS_PORT/charts/index.yaml" 2>/dev/null
}

# The repository behind client-certificate TLS (idempotent): its own nginx process.
mtls() {
  mtls_status && return 0
  exec 7>"$RUN/mtls.lock"; flock 7
  mtls_status && return 0
  [ -f "$RUN/mtls-nginx.pid" ] && { kill "$(cat "$RUN/mtls-nginx.pid")" 2>/dev/null || true; rm -f "$RUN/mtls-nginx.pid"; }
  (cd "$RUN/tls"
   openssl req -newkey rsa:2048 -nodes -subj "/CN=chartup test client" -keyout client.key -out client.csr 2>/dev/null
   printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client-ext.cnf
   openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
     -extfile client-ext.cnf -out client.crt 2>/dev/null)
  local port; port=$(free_port)
  mkdir -p "$RUN/logs/mtls"
  cat > "$RUN/mtls-nginx.conf" <<NGINX
user $(id -un);
worker_processes 1;
pid $RUN/mtls-nginx.pid;
error_log $RUN/logs/mtls/error.log;
events { worker_connections 64; }
http {
  access_log $RUN/logs/mtls/access.log;
  client_body_temp_path $RUN/logs/mtls/body;
  proxy_temp_path $RUN/logs/mtls/proxy;
  fastcgi_temp_path $RUN/logs/mtls/fastcgi;
  uwsgi_temp_path $RUN/logs/mtls/uwsgi;
  scgi_temp_path $RUN/logs/mtls/scgi;
  types { application/x-yaml yaml; application/gzip tgz; }
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $RUN/tls/server.crt;
    ssl_certificate_key $RUN/tls/server.key;
    ssl_client_certificate $RUN/tls/ca.crt;
    ssl_verify_client on;
    root $RUN/www;
  }
}
NGINX
  /usr/sbin/nginx -p "$RUN" -c "$RUN/mtls-nginx.conf" -e "$RUN/logs/mtls/error.log" 7>&- 8>&- 9>&-
  printf 'MTLS_PORT=%s\n' "$port" > "$RUN/mtls-port"
  wait_for "the client-certificate repository" mtls_status
}

# The token-auth registry and its token endpoint (idempotent, added to a running setup too).
token() {
  token_status && return 0
  exec 8>"$RUN/token.lock"; flock 8
  token_status && return 0
  for p in token-registry.pid token-server.pid; do
    [ -f "$RUN/$p" ] && { kill "$(cat "$RUN/$p")" 2>/dev/null || true; rm -f "$RUN/$p"; }
  done
  (cd "$RUN/tls"
   openssl req -newkey rsa:2048 -nodes -subj "/CN=chartup test token issuer" -keyout token.key -out token.csr 2>/dev/null
   printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n' > token-ext.cnf
   openssl x509 -req -in token.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
     -extfile token-ext.cnf -out token.crt 2>/dev/null)
  local reg_port tok_port
  reg_port=$(free_port); tok_port=$(free_port)
  cat > "$RUN/registry-token.yml" <<REG
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $RUN/registry-data }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$reg_port
  tls: { certificate: $RUN/tls/server.crt, key: $RUN/tls/server.key }
auth:
  token:
    realm: https://127.0.0.1:$tok_port/token
    service: chartup-test-registry
    issuer: chartup-test-token-issuer
    rootcertbundle: $RUN/tls/ca.crt
REG
  setsid python3 "$root/scripts/token-server.py" --port "$tok_port" --tls-cert "$RUN/tls/server.crt" \
    --tls-key "$RUN/tls/server.key" --token-key "$RUN/tls/token.key" --token-cert "$RUN/tls/token.crt" \
    --issuer chartup-test-token-issuer --user "$USER_NAME" --password "$PASSWORD" \
    --log "$RUN/logs/token-server.log" >"$RUN/logs/token-server.out" 2>&1 < /dev/null 8>&- 9>&- &
  echo $! > "$RUN/token-server.pid"
  setsid /usr/bin/docker-registry serve "$RUN/registry-token.yml" >"$RUN/logs/registry-token.log" 2>&1 < /dev/null 8>&- 9>&- &
  echo $! > "$RUN/token-registry.pid"
  printf 'TOKEN_REGISTRY_PORT=%s\nTOKEN_PORT=%s\n' "$reg_port" "$tok_port" > "$RUN/token-ports"
  wait_for "the token registry and its token endpoint" token_status
}

# Signed charts (idempotent, added to a running setup too): keys by gpg, .prov files by helm.
signed() {
  [ -f "$RUN/gpg/done" ] && return 0
  exec 9>"$RUN/gpg.lock"; flock 9
  [ -f "$RUN/gpg/done" ] && return 0
  # shellcheck disable=SC1091
  . "$RUN/ports"
  local g="$RUN/gpg" work="$RUN/signed-work" src="$root/tests/data/sources"
  rm -rf "$g" "$work" "$RUN/www/signed"; mkdir -p "$g" "$work/pkg" "$RUN/www/signed"; chmod 700 "$g"
  for who in "Chartup Test:test" "Someone Else:other"; do
    mkdir -m 700 "$g/${who#*:}.home"
    printf '%%no-protection\nKey-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\nName-Real: %s\nName-Email: %s@chartup.invalid\nExpire-Date: 0\n%%commit\n' \
      "${who%%:*}" "${who#*:}" > "$g/${who#*:}.params"
    GNUPGHOME="$g/${who#*:}.home" gpg --batch --gen-key "$g/${who#*:}.params" 2>/dev/null
  done
  # helm reads legacy (non-keybox) keyrings: exports, as `gpg --export` writes them.
  GNUPGHOME="$g/test.home" gpg --export > "$g/pubring.gpg"
  GNUPGHOME="$g/test.home" gpg --export-secret-keys > "$g/secring.gpg"
  GNUPGHOME="$g/other.home" gpg --export > "$g/other.gpg"
  for v in 1.0.0 1.1.0 1.2.0; do
    rm -rf "$work/signed"; cp -r "$src/demo" "$work/signed"
    sed -i "s/^name: .*/name: signed/; s/^version: .*/version: $v/" "$work/signed/Chart.yaml"
    if [ "$v" = 1.1.0 ]; then
      "$HELM" package "$work/signed" -d "$work/pkg" >/dev/null
    else
      "$HELM" package --sign --key "Chartup Test" --keyring "$g/secring.gpg" "$work/signed" -d "$work/pkg" >/dev/null
    fi
  done
  # 1.2.0 altered after signing: the same name, another archive, the old .prov.
  (cd "$work" && rm -rf signed && tar xzmf pkg/signed-1.2.0.tgz && echo "tampered: true" >> signed/values.yaml \
     && tar czf pkg/signed-1.2.0.tgz signed)
  cp "$work"/pkg/* "$RUN/www/signed/"
  "$HELM" repo index "$RUN/www/signed" >/dev/null
  export HELM_REGISTRY_CONFIG="$RUN/helm/registry.json"
  for t in "$work"/pkg/*.tgz; do   # helm push takes the .prov beside the archive as its layer
    "$HELM" push "$t" "oci://127.0.0.1:$REGISTRY_PORT/signed" --ca-file "$RUN/tls/ca.crt" >/dev/null 2>&1 \
      || die "helm push $t failed"
  done
  touch "$g/done"
}

status() {
  [ -f "$RUN/ports" ] || return 1
  # shellcheck disable=SC1091
  . "$RUN/ports"
  curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/charts/index.yaml" 2>/dev/null || return 1
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$RUN/tls/ca.crt" "https://127.0.0.1:$REGISTRY_PORT/v2/" || true)
  [ "$code" = 401 ]
}

down() {
  for p in nginx.pid registry.pid token-registry.pid token-server.pid mtls-nginx.pid; do
    if [ -f "$RUN/$p" ]; then
      kill "$(cat "$RUN/$p")" 2>/dev/null || true
      rm -f "$RUN/$p"
    fi
  done
  rm -f "$RUN/ports" "$RUN/token-ports" "$RUN/mtls-port"
}

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "$what did not come up"
}

up() {
  ensure_packages
  command -v "$HELM" >/dev/null || "$root/scripts/install-helm.sh" >&2
  if status; then signed; token; mtls; print_env; return; fi
  down
  mkdir -p "$RUN"/{tls,www/charts,registry-data,logs,charts,helm}
  # --- certificates: a CA and a server certificate for 127.0.0.1/localhost ---
  (cd "$RUN/tls"
   openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=chartup test CA" \
     -keyout ca.key -out ca.crt 2>/dev/null
   openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
   printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
   openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
     -extfile ext.cnf -out server.crt 2>/dev/null)
  # nginx wants crypt()/apr1 hashes, the registry bcrypt.
  htpasswd -cbm "$RUN/nginx.htpasswd" "$USER_NAME" "$PASSWORD" 2>/dev/null
  htpasswd -cbB "$RUN/registry.htpasswd" "$USER_NAME" "$PASSWORD" 2>/dev/null
  local http_port https_port registry_port
  http_port=$(free_port); https_port=$(free_port); registry_port=$(free_port)
  # --- charts: demo 1.0.0, 1.1.0, 1.2.0-rc.1; dep-a…dep-e 0.1.0 and 0.2.0 ---
  local src="$root/tests/data/sources" work="$RUN/charts"
  rm -rf "$work"; mkdir -p "$work/pkg"
  for v in 1.0.0 1.1.0 1.2.0-rc.1; do
    rm -rf "$work/demo"; cp -r "$src/demo" "$work/demo"
    sed -i "s/^version: .*/version: $v/; s/^appVersion: .*/appVersion: \"$v\"/" "$work/demo/Chart.yaml"
    "$HELM" package "$work/demo" -d "$work/pkg" >/dev/null
  done
  for d in a b c d e; do
    for v in 0.1.0 0.2.0; do
      rm -rf "$work/dep-$d"; cp -r "$src/dep" "$work/dep-$d"
      sed -i "s/^name: .*/name: dep-$d/; s/^version: .*/version: $v/" "$work/dep-$d/Chart.yaml"
      "$HELM" package "$work/dep-$d" -d "$work/pkg" >/dev/null
    done
  done
  rm -rf "$work/demo" "$work"/dep-?
  cp "$work"/pkg/*.tgz "$RUN/www/charts/"
  "$HELM" repo index "$RUN/www/charts" >/dev/null
  # --- nginx: /charts over HTTP (open) and HTTPS (basic auth) ---
  cat > "$RUN/nginx.conf" <<NGINX
user $(id -un);
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/logs/nginx-error.log;
events { worker_connections 64; }
http {
  access_log $RUN/logs/nginx-access.log;
  client_body_temp_path $RUN/logs/body;
  proxy_temp_path $RUN/logs/proxy;
  fastcgi_temp_path $RUN/logs/fastcgi;
  uwsgi_temp_path $RUN/logs/uwsgi;
  scgi_temp_path $RUN/logs/scgi;
  types { application/x-yaml yaml; application/gzip tgz; application/json json; }
  server {
    listen 127.0.0.1:$http_port;
    root $RUN/www;
  }
  server {
    listen 127.0.0.1:$https_port ssl;
    ssl_certificate $RUN/tls/server.crt;
    ssl_certificate_key $RUN/tls/server.key;
    root $RUN/www;
    auth_basic "chartup test repository";
    auth_basic_user_file $RUN/nginx.htpasswd;
  }
}
NGINX
  /usr/sbin/nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/logs/nginx-error.log"
  # --- the registry ---
  cat > "$RUN/registry.yml" <<REG
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $RUN/registry-data }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$registry_port
  tls: { certificate: $RUN/tls/server.crt, key: $RUN/tls/server.key }
auth:
  htpasswd: { realm: chartup-test-registry, path: $RUN/registry.htpasswd }
REG
  setsid /usr/bin/docker-registry serve "$RUN/registry.yml" >"$RUN/logs/registry.log" 2>&1 < /dev/null &
  echo $! > "$RUN/registry.pid"
  printf 'HTTP_PORT=%s\nHTTPS_PORT=%s\nREGISTRY_PORT=%s\n' "$http_port" "$https_port" "$registry_port" > "$RUN/ports"
  wait_for "nginx" curl -fsS -o /dev/null "http://127.0.0.1:$http_port/charts/index.yaml"
  wait_for "the registry" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$RUN/tls/ca.crt' https://127.0.0.1:$registry_port/v2/)\" = 401 ]"
  # --- push every chart with helm (its own registry config, so no login leaks elsewhere) ---
  export HELM_REGISTRY_CONFIG="$RUN/helm/registry.json"
  "$HELM" registry login "127.0.0.1:$registry_port" --ca-file "$RUN/tls/ca.crt" \
    -u "$USER_NAME" -p "$PASSWORD" >/dev/null 2>&1 || die "helm registry login failed"
  for t in "$work"/pkg/*.tgz; do
    "$HELM" push "$t" "oci://127.0.0.1:$registry_port/charts" --ca-file "$RUN/tls/ca.crt" >/dev/null 2>&1 \
      || die "helm push $t failed"
  done
  rm -f "$RUN/gpg/done"
  signed
  token
  mtls
  log "repository http://127.0.0.1:$http_port/charts (https $https_port, basic auth), registry 127.0.0.1:$registry_port"
  print_env
}

case "$cmd" in
  up) up ;;
  down) down ;;
  env) print_env ;;
  status) status ;;
  *) echo "usage: $0 up|down|env|status [RUN_DIR]" >&2; exit 2 ;;
esac
