"""An SMTP sink on loopback for the review mail tests, built on aiosmtpd.

It accepts mail and writes each message as a JSON file into --out, with the envelope
sender, the envelope recipients and the message text. Options make it behave like the
servers the mail code must handle:

  --mode starttls      plain greeting, STARTTLS offered and required before MAIL
  --mode implicit      TLS from the first byte (SMTPS)
  --mode no-starttls   plain, STARTTLS not offered
  --drop-data N        close the connection instead of replying to the first N DATA
  --auth-reply TEXT    reply to every AUTH with TEXT (such as a 535 refusal)
  --auth USER:PASS     accept AUTH with these credentials only

It prints `READY <port>` on its standard output once it accepts connections, and runs
until it is terminated.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    """Stores accepted messages, and drops the first --drop-data DATA commands."""

    def __init__(self, out, drop_data):
        self.out = out
        self.drops_left = drop_data
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            drop = self.drops_left > 0
            if drop:
                self.drops_left -= 1
        if drop:
            # The client has sent the whole message and waits for the reply, which never
            # comes: the connection ends as if the server had crashed mid-send.
            server.transport.abort()
            return None
        with self.lock:
            self.count += 1
            number = self.count
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # session.ssl is set after STARTTLS; an implicit-TLS transport carries its own.
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        path = os.path.join(self.out, f"{number:04d}.json")
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.replace(temporary, path)
        return "250 Message accepted for delivery"


def authenticator(expected, reply):
    def check(server, session, envelope, mechanism, auth_data):
        if reply:
            return AuthResult(success=False, handled=False, message=reply)
        if isinstance(auth_data, LoginPassword) and expected is not None:
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if (login, password) == expected:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    return check


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["starttls", "implicit", "no-starttls"], required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--out", required=True)
    parser.add_argument("--drop-data", type=int, default=0)
    parser.add_argument("--auth")
    parser.add_argument("--auth-reply")
    args = parser.parse_args()

    context = None
    if args.mode in ("starttls", "implicit"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    expected = tuple(args.auth.split(":", 1)) if args.auth else None
    kwargs = {}
    if expected or args.auth_reply:
        kwargs["authenticator"] = authenticator(expected, args.auth_reply)
        kwargs["auth_require_tls"] = True
    if args.mode == "starttls":
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True

    port = free_port()
    controller = Controller(
        Sink(args.out, args.drop_data),
        hostname="127.0.0.1",
        port=port,
        ssl_context=context if args.mode == "implicit" else None,
        ready_timeout=10.0,
        **kwargs,
    )
    controller.start()
    print(f"READY {port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
