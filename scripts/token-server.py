#!/usr/bin/env python3
"""A minimal Docker registry token server, for the bearer-token tests only (issue 13).

Debian ships the CNCF distribution registry (docker-registry) but no token server (no
docker_auth/cesanta, no Harbor/Quay component), so scripts/test-sources.sh starts this one beside a
second, real registry configured with `auth: token`. The registry is the real part: it challenges
with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` and verifies every token it is given —
the RS256 signature, the x5c certificate chain against its `rootcertbundle`, issuer, audience,
expiry and the granted actions. This endpoint only does what the token spec asks of a server:
check the client's Basic credentials (one user), and sign a JWT granting the requested scopes.

Standard library only; the RS256 signature is made by the `openssl` command line.
"""
import argparse
import base64
import http.server
import json
import os
import ssl
import subprocess
import time
import urllib.parse


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def parse_scope(scope):
    # type:name:actions; the name may hold ':' only in a registry host, which scopes never carry.
    parts = scope.split(":")
    if len(parts) < 3:
        return None
    return {"type": parts[0], "name": ":".join(parts[1:-1]), "actions": [a for a in parts[-1].split(",") if a]}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(self.server.opts.log, "a") as f:
            f.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def deny(self, why):
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": why}]}).encode()
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="chartup-test-token"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            self.send_error(404)
            return
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return self.deny("credentials required")
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except Exception:
            return self.deny("malformed credentials")
        self.grant(user, password, urllib.parse.parse_qs(url.query))

    def do_POST(self):
        # The OAuth2 form (grant_type=password) oras-go tries first.
        if urllib.parse.urlparse(self.path).path != "/token":
            self.send_error(404)
            return
        n = int(self.headers.get("Content-Length") or 0)
        q = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if (q.get("grant_type") or [""])[0] != "password":
            return self.deny("only grant_type=password")
        self.grant((q.get("username") or [""])[0], (q.get("password") or [""])[0], q)

    def grant(self, user, password, q):
        o = self.server.opts
        if (user, password) != (o.user, o.password):
            return self.deny("invalid username or password")
        service = (q.get("service") or [""])[0]
        access = [a for a in (parse_scope(s) for s in q.get("scope", []) for s in s.split(" ")) if a]
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [o.cert_der]}
        claims = {"iss": o.issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": b64url(os.urandom(12)), "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", o.token_key], input=signing_input,
                             capture_output=True, check=True).stdout
        token = signing_input.decode() + "." + b64url(sig)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    p = argparse.ArgumentParser()
    for a in ["--port", "--tls-cert", "--tls-key", "--token-key", "--token-cert", "--issuer", "--user",
              "--password", "--log"]:
        p.add_argument(a, required=True)
    o = p.parse_args()
    with open(o.token_cert) as f:
        pem = f.read()
    der = ssl.PEM_cert_to_DER_cert(pem)
    o.cert_der = base64.b64encode(der).decode()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(o.port)), Handler)
    srv.opts = o
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(o.tls_cert, o.tls_key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
