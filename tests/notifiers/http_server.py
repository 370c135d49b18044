"""A real HTTP(S) receiver for notifiers_test (Python's ThreadingHTTPServer).

Listens on 127.0.0.1 at a port the kernel picks and writes the port to
--port-file once it accepts connections. Each POST is recorded, before the
answer is sent, as N.json (path and headers) and N.body (the bytes received).
The path chooses the answer:

  /status/CODE     answers CODE (with Retry-After: 7 for 429 and 503; with
                   ?date, Retry-After as the HTTP-date an hour ahead)
  /sleep/MS        waits MS milliseconds, then answers 200
  /hang            never answers (until the client goes away)
  /flaky/N         answers the first N posts to it 503 (Retry-After: 1), then 200
  anything else    answers 200
"""

import argparse
import email.utils
import json
import os
import signal
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    count = 0
    out = "."
    seen = {}

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with Handler.lock:
            Handler.count += 1
            n = Handler.count
            Handler.seen[self.path] = Handler.seen.get(self.path, 0) + 1
            times = Handler.seen[self.path]
        stem = os.path.join(Handler.out, "%d" % n)
        with open(stem + ".body", "wb") as f:
            f.write(body)
        record = {"path": self.path, "method": "POST",
                  "headers": {k.lower(): v for k, v in self.headers.items()}}
        with open(stem + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(stem + ".json.tmp", stem + ".json")

        status = 200
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if parts == ["hang"]:
            self.rfile.read(1)  # returns once the client has closed
            return
        if len(parts) == 2 and parts[0] == "status":
            status = int(parts[1])
        elif len(parts) == 2 and parts[0] == "sleep":
            time.sleep(int(parts[1]) / 1000.0)
        elif len(parts) == 2 and parts[0] == "flaky":
            status = 503 if times <= int(parts[1]) else 200
        reply = b'{"answer": %d}' % status
        self.send_response(status)
        if status in (429, 503):
            if url.query == "date":
                self.send_header("Retry-After", email.utils.formatdate(time.time() + 3600, usegmt=True))
            else:
                self.send_header("Retry-After", "1" if parts[0] == "flaky" else "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    Handler.out = args.out
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":
    main()
