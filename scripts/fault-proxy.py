#!/usr/bin/env python3
"""A fault-injecting HTTPS proxy between a client and a real kube-apiserver (chartup's e2e tests).

Why: a write whose answer is lost (the server acted, the client never heard) or that never reached
the server can only be produced reliably between the two. The proxy breaks nothing but the
transport: every request it lets through goes to the real API server, which decides.

Usage: fault-proxy.py --dir DIR --upstream https://127.0.0.1:PORT --upstream-ca CA.crt

It makes its own CA and serving certificate (openssl) in DIR, listens on a free loopback port,
writes DIR/port once it serves, and for every request:
  - reads DIR/rules.json (a JSON list; re-read when it changes) and applies the first matching rule;
  - appends one JSON line to DIR/log.jsonl: {"n", "method", "path", "action", "upstream": status or
    null (not forwarded), "t"}.
The client's Authorization header (the bearer token of its kubeconfig) is passed on, so the
server authenticates the same user as without the proxy.

A rule: {"method": "PUT", "path": "substring of the path", "exclude": "", "nth": 1, "count": 1,
         "action": "drop-after" | "drop-before" | "status", "status": 503, "seconds": 0}
  - the rule matches requests with that method (any if absent) whose path (with query) contains
    `path` and not `exclude` (e.g. "dryRun", to leave a preflight's dry runs alone); it acts on matches number nth .. nth+count-1 (1-based; count 0 = all from nth on), and
    with "seconds" > 0 on every match within that many seconds of its first action instead;
  - drop-after: forward, read the server's whole answer, then reset the client connection without
    answering (the write happened; the client cannot know);
  - drop-before: reset the client connection without forwarding (nothing reached the server);
  - status: answer with that HTTP status (503, 429: a Status object, Retry-After: 1) without
    forwarding.
"""

import argparse
import http.client
import http.server
import json
import os
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer",
       "content-length", "host"}


class Rules:
    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.rules = []
        self.hits = []  # per rule: matches seen
        self.first = []  # per rule: time of the first action
        self.lock = threading.Lock()

    def _reload(self):
        try:
            m = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            m = None
        if m == self.mtime:
            return
        self.mtime = m
        self.rules = json.load(open(self.path)) if m is not None else []
        self.hits = [0] * len(self.rules)
        self.first = [None] * len(self.rules)

    def decide(self, method, path):
        with self.lock:
            self._reload()
            for i, r in enumerate(self.rules):
                if r.get("method") and r["method"] != method:
                    continue
                if r.get("path", "") not in path:
                    continue
                if r.get("exclude") and r["exclude"] in path:
                    continue
                self.hits[i] += 1
                k = self.hits[i]
                nth, count, secs = r.get("nth", 1), r.get("count", 1), r.get("seconds", 0)
                if secs > 0:
                    if k < nth:
                        continue
                    if self.first[i] is None:
                        self.first[i] = time.monotonic()
                    if time.monotonic() - self.first[i] > secs:
                        continue
                elif k < nth or (count > 0 and k >= nth + count):
                    continue
                return r
            return None


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # the JSON log is the record
        pass

    def record(self, action, upstream):
        srv = self.server
        with srv.log_lock:
            srv.n += 1
            line = {"n": srv.n, "method": self.command, "path": self.path, "action": action,
                    "upstream": upstream, "t": time.time()}
            with open(srv.log_path, "a") as f:
                f.write(json.dumps(line) + "\n")

    def reset(self):
        # SO_LINGER 0: close with a TCP reset, as a dying load balancer or API server does.
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def body(self):
        n = self.headers.get("Content-Length")
        if n is not None:
            return self.rfile.read(int(n))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return None

    def handle_any(self):
        data = self.body()
        rule = self.server.rules.decide(self.command, self.path)
        action = rule.get("action") if rule else "forward"
        if action == "drop-before":
            self.record(action, None)
            self.reset()
            return
        if action == "status":
            code = int(rule.get("status", 503))
            msg = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": f"injected by fault-proxy: HTTP {code}", "code": code}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg)))
            if code in (429, 503):
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(msg)
            self.record(f"status {code}", None)
            return
        up = http.client.HTTPSConnection(self.server.upstream_host, self.server.upstream_port,
                                         context=self.server.upstream_ctx, timeout=600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if data is not None:
            headers["Content-Length"] = str(len(data))
        try:
            up.request(self.command, self.path, body=data, headers=headers)
            resp = up.getresponse()
        except OSError as e:
            self.record(f"upstream error: {e}", None)
            self.reset()
            return
        if action == "drop-after":
            resp.read()
            up.close()
            self.record(action, resp.status)
            self.reset()
            return
        self.record(action, resp.status)
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        length = resp.getheader("Content-Length")
        try:
            if length is not None:
                payload = resp.read()
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            else:
                # Streaming (watches): pass chunks on as they come.
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                while True:
                    chunk = resp.read1(65536)
                    if not chunk:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        finally:
            up.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_certs(d):
    if os.path.exists(os.path.join(d, "server.crt")):
        return
    run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=fault-proxy-ca")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=fault-proxy")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "server.ext")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--upstream-ca", required=True)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    make_certs(a.dir)
    hostport = a.upstream.removeprefix("https://").rstrip("/")
    host, port = hostport.rsplit(":", 1)
    srv = Server(("127.0.0.1", 0), Proxy)
    srv.upstream_host, srv.upstream_port = host, int(port)
    srv.upstream_ctx = ssl.create_default_context(cafile=a.upstream_ca)
    srv.rules = Rules(os.path.join(a.dir, "rules.json"))
    srv.log_path = os.path.join(a.dir, "log.jsonl")
    srv.log_lock = threading.Lock()
    srv.n = 0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(a.dir, "server.crt"), os.path.join(a.dir, "server.key"))
    ctx.set_alpn_protocols(["http/1.1"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = os.path.join(a.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, os.path.join(a.dir, "port"))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
