"""A real SMTP server for the tests (aiosmtpd), storing each message it receives as a file.

Usage: smtp_sink.py PORT DIR [USER PASSWORD]
Each message is written to DIR/<n>.eml with the envelope in DIR/<n>.json. With USER and
PASSWORD, AUTH PLAIN/LOGIN is required (allowed without TLS: loopback tests only).
Prints "ready" on stdout once listening.
"""

import email
import email.policy
import json
import os
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.directory, str(n))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        # Decoded for the tests' assertions (encoded words, quoted-printable, base64).
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "authenticated": session.authenticated,
                       "subject": str(parsed.get("Subject", "")),
                       "message_id": str(parsed.get("Message-ID", "")),
                       "list_unsubscribe": parsed.get("List-Unsubscribe"),
                       "text": text.get_content() if text is not None else None,
                       "html": html.get_content() if html is not None else None}, f,
                      ensure_ascii=False)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    credentials = tuple(sys.argv[3:5]) if len(sys.argv) >= 5 else None

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (credentials is not None and isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == credentials[0]
              and auth_data.password.decode() == credentials[1])
        return AuthResult(success=ok)

    kwargs = {}
    if credentials:
        kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    controller = Controller(Store(directory), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
