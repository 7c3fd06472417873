#!/usr/bin/env python3
"""Threaded HTTP echo server for Tandem tests (stdlib only, 127.0.0.1).

Every GET/POST/PUT/DELETE/PATCH answers JSON describing the request:
  {"method", "path", "query": {k: v}, "headers": {k: v}, "body": str, "json": parsed-or-null}
Special paths:
  /health            -> 200 {"ok": true}
  /status/NNN        -> answers with status NNN (body still the echo JSON)
  /json              -> 200 {"user": "alice", "id": 42, "tags": ["a", "b"], "nested": {"x": 1.5}}
  /text              -> 200 text/plain "hello"
Per-request delay (before answering): query param `delay_ms=N` (or `delay=SECONDS`), else the
environment variable TANDEM_TEST_HTTP_DELAY_MS, else 0.
Usage: http_server.py --port PORT [--host 127.0.0.1]
"""
import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_DELAY_MS = float(os.environ.get("TANDEM_TEST_HTTP_DELAY_MS", "0") or 0)
FIXED_JSON = {"user": "alice", "id": 42, "tags": ["a", "b"], "nested": {"x": 1.5}}


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TandemTestHTTP/1.0"

    def log_message(self, fmt, *args):  # quiet unless TANDEM_TEST_HTTP_VERBOSE is set
        if os.environ.get("TANDEM_TEST_HTTP_VERBOSE"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _handle(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body = raw.decode("utf-8", errors="replace")
        delay_ms = DEFAULT_DELAY_MS
        try:
            if "delay_ms" in query:
                delay_ms = float(query["delay_ms"])
            elif "delay" in query:
                delay_ms = float(query["delay"]) * 1000.0
        except ValueError:
            pass
        if delay_ms > 0:
            time.sleep(min(delay_ms, 60_000) / 1000.0)

        status, ctype = 200, "application/json"
        if url.path == "/health":
            payload = json.dumps({"ok": True}).encode()
        elif url.path == "/json":
            payload = json.dumps(FIXED_JSON).encode()
        elif url.path == "/text":
            payload, ctype = b"hello", "text/plain; charset=utf-8"
        else:
            if url.path.startswith("/status/"):
                try:
                    status = int(url.path.split("/")[2])
                except (IndexError, ValueError):
                    status = 400
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            payload = json.dumps({
                "method": self.command,
                "path": url.path,
                "query": query,
                "headers": {k: v for k, v in self.headers.items()},
                "body": body,
                "json": parsed,
                "delay_ms": delay_ms,
            }).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    srv = Server((args.host, args.port), EchoHandler)
    print(f"listening on http://{args.host}:{srv.server_address[1]}/", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
