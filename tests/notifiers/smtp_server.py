"""A real SMTP server for notifiers_test (aiosmtpd, Debian's python3-aiosmtpd).

Listens on 127.0.0.1 at a port the kernel picks and writes that port to
--port-file once it accepts connections. Each message it accepts is written to
--out as N.eml (the bytes received, after SMTP dot-unstuffing) and N.json: the
envelope, whether TLS was in use, and the message as Python's email package
reads it with policy=email.policy.strict, plus every defect it or the raw
checks found ("problems" must be empty for a well-formed message).

  --tls none|starttls|implicit   (starttls: STARTTLS offered and required)
  --reject ADDR=CODE             answer RCPT TO:<ADDR> with CODE (e.g. 550)
  --user NAME --password PW      require AUTH (over TLS) with these
  --down                         bind a port and write --port-file, but refuse
                                 connections (nothing listens) until SIGUSR1;
                                 then listen and write --port-file + ".up"
"""

import argparse
import asyncio
import email
import email.policy
import email.utils
import json
import os
import signal
import socket
import ssl

from aiosmtpd.smtp import SMTP, AuthResult


def check(raw: bytes):
    problems = []
    if b"\n" in raw.replace(b"\r\n", b""):
        problems.append("bare LF")
    if b"\r" in raw.replace(b"\r\n", b""):
        problems.append("bare CR")
    head, _, _ = raw.partition(b"\r\n\r\n")
    for line in raw.split(b"\r\n"):
        if len(line) > 998:
            problems.append("line over 998 octets")
    for line in head.split(b"\r\n"):
        if len(line) > 78:
            problems.append("header line over 78 characters: %r" % line[:40])
        if any(b > 0x7E for b in line):
            problems.append("non-ASCII header line: %r" % line[:40])
    parsed = {}
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.strict)
        problems += ["message defect: %r" % d for d in msg.defects]
        headers = {}
        for name in msg.keys():
            values = msg.get_all(name)
            if len(values) != 1:
                problems.append("header %s appears %d times" % (name, len(values)))
            h = values[0]
            problems += ["%s defect: %r" % (name, d) for d in getattr(h, "defects", ())]
            headers[name.lower()] = str(h)
        parsed["headers"] = headers
        date = msg["Date"]
        parsed["date_iso"] = date.datetime.isoformat() if date is not None and date.datetime else None
        parsed["from_addresses"] = [a.addr_spec for a in msg["From"].addresses] if msg["From"] else []
        parsed["from_names"] = [a.display_name for a in msg["From"].addresses] if msg["From"] else []
        parsed["to_addresses"] = [a.addr_spec for a in msg["To"].addresses] if msg["To"] else []
        parsed["to_names"] = [a.display_name for a in msg["To"].addresses] if msg["To"] else []
        parsed["content_type"] = msg.get_content_type()
        parsed["charset"] = msg.get_content_charset()
        parsed["cte"] = msg.get("Content-Transfer-Encoding")
        # Lines end in CRLF on the wire (checked above); the text is compared
        # with '\n' line ends.
        parsed["body"] = msg.get_content().replace("\r\n", "\n")
    except Exception as e:  # noqa: BLE001 - reported to the test, which fails
        problems.append("parse error: %s: %s" % (type(e).__name__, e))
    return parsed, problems


class Recorder:
    def __init__(self, out, reject):
        self.out = out
        self.reject = reject
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.reject.get(address)
        if code:
            return "%s %s.1.1 <%s>: rejected by the test" % (code, code[0], address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content
        parsed, problems = check(raw)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "parsed": parsed,
            "problems": problems,
        }
        stem = os.path.join(self.out, "%d" % self.count)
        with open(stem + ".eml.tmp", "wb") as f:
            f.write(raw)
        os.rename(stem + ".eml.tmp", stem + ".eml")
        with open(stem + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(stem + ".json.tmp", stem + ".json")
        return "250 2.0.0 queued as %d" % self.count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--down", action="store_true", help="refuse connections until SIGUSR1")
    args = ap.parse_args()

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    reject = dict(r.split("=", 1) for r in args.reject)
    handler = Recorder(args.out, reject)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = args.user is not None and auth_data.login == args.user.encode() and \
            auth_data.password == args.password.encode()
        return AuthResult(success=ok, handled=False)

    def factory():
        kwargs = dict(hostname="mx.test", ident="docket-test-smtp")
        if args.tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if args.user:
            kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=True)
        return SMTP(handler, **kwargs)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.new_event_loop()

    def publish(path, text):
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)

    def serve():
        return loop.create_server(factory, sock=sock, ssl=context if args.tls == "implicit" else None)

    if args.down:
        # Bound, not listening: a connection is refused, as by a server that
        # is down, and the port stays ours for when it comes back.
        def come_up():
            loop.create_task(serve()).add_done_callback(lambda _: publish(args.port_file + ".up", "up"))
        loop.add_signal_handler(signal.SIGUSR1, come_up)
    else:
        loop.run_until_complete(serve())
    publish(args.port_file, str(sock.getsockname()[1]))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()


if __name__ == "__main__":
    main()
