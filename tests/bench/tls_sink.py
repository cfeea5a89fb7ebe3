#!/usr/bin/python3
"""An SMTP sink with STARTTLS and AUTH, fast enough for the 100 MB row of tests/bench/run-native.

The sandbox (aiosmtpd) reads the content line by line and keeps it: at 100 MB it, not the client,
would be what is measured. This sink accepts everything, keeps nothing, and reads the content in
large blocks, looking only for the final dot. One thread per connection; pipelined commands are
answered together, in one write.

Prints one JSON line, {"port": P, "ca_file": PATH}, then serves until SIGTERM or SIGINT.
  tls_sink.py [--user NAME:PASSWORD]   (default demo:demo; AUTH PLAIN and LOGIN, after TLS only)
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))
from sandbox import make_certificates  # noqa: E402  (the sandbox's throwaway CA and certificate)

END_OF_DATA = b"\r\n.\r\n"
BLOCK = 1 << 20


class Connection:
    def __init__(self, sock, context, user, password):
        self.sock, self.context = sock, context
        self.user, self.password = user, password
        self.buffer = b""
        self.tls = False
        self.authenticated = False

    def ehlo(self):
        lines = ["sink.test", "PIPELINING", "8BITMIME", "SIZE"]
        lines.append("AUTH PLAIN LOGIN" if self.tls else "STARTTLS")
        return "".join(f"250{' ' if i == len(lines) - 1 else '-'}{line}\r\n" for i, line in enumerate(lines))

    def login(self, user, password):
        self.authenticated = user == self.user and password == self.password
        return "235 2.7.0 Authentication successful\r\n" if self.authenticated else "535 5.7.8 Bad credentials\r\n"

    def read_line(self, replies):
        """The next command line; sends the replies gathered so far before waiting for more bytes."""
        while b"\r\n" not in self.buffer:
            if replies:
                self.sock.sendall("".join(replies).encode())
                replies.clear()
            chunk = self.sock.recv(BLOCK)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def skip_content(self):
        """Drops the message content up to and including the final dot; what follows stays buffered."""
        tail = b"\r\n"  # DATA's own line end: an empty message is just ".\r\n"
        data = self.buffer
        while True:
            found = (tail + data).find(END_OF_DATA)
            if found >= 0:
                self.buffer = (tail + data)[found + len(END_OF_DATA):]
                return True
            tail = (tail + data)[-(len(END_OF_DATA) - 1):]
            data = self.sock.recv(BLOCK)
            if not data:
                return False

    def serve(self):
        replies = ["220 sink.test ESMTP\r\n"]
        while True:
            line = self.read_line(replies)
            if line is None:
                return
            verb, _, argument = line.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                replies.append(self.ehlo() if verb == "EHLO" else "250 sink.test\r\n")
            elif verb == "STARTTLS" and not self.tls:
                self.sock.sendall("".join(replies + ["220 2.0.0 Ready to start TLS\r\n"]).encode())
                replies.clear()
                self.sock = self.context.wrap_socket(self.sock, server_side=True)
                self.tls, self.buffer = True, b""
            elif verb == "AUTH" and self.tls:
                mechanism, _, initial = argument.partition(" ")
                if mechanism.upper() == "PLAIN":
                    if not initial:
                        replies.append("334 \r\n")
                        initial = self.read_line(replies) or ""
                    parts = base64.b64decode(initial).split(b"\0")
                    replies.append(self.login(parts[1].decode(), parts[2].decode()) if len(parts) == 3
                                   else "501 5.5.2 Bad PLAIN response\r\n")
                elif mechanism.upper() == "LOGIN":
                    replies.append("334 VXNlcm5hbWU6\r\n")
                    user = base64.b64decode(self.read_line(replies) or "").decode()
                    replies.append("334 UGFzc3dvcmQ6\r\n")
                    password = base64.b64decode(self.read_line(replies) or "").decode()
                    replies.append(self.login(user, password))
                else:
                    replies.append("504 5.5.4 Unrecognized authentication type\r\n")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                replies.append("250 2.0.0 Ok\r\n")
            elif verb == "DATA":
                replies.append("354 End data with <CR><LF>.<CR><LF>\r\n")
                self.sock.sendall("".join(replies).encode())
                replies.clear()
                if not self.skip_content():
                    return
                replies.append("250 2.0.0 Ok: queued\r\n")
            elif verb == "QUIT":
                self.sock.sendall("".join(replies + ["221 2.0.0 Bye\r\n"]).encode())
                return
            else:
                replies.append("502 5.5.2 Error: command not recognized\r\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", default="demo:demo")
    options = parser.parse_args()
    user, _, password = options.user.partition(":")
    folder = tempfile.mkdtemp(prefix="smtpc-tls-sink-")
    certs = make_certificates(folder, "good")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs["server.pem"], certs["server.key"])

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve(sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            Connection(sock, context, user, password).serve()
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            sock.close()

    def accept():
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(json.dumps({"port": listener.getsockname()[1], "ca_file": certs["ca.pem"]}), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    listener.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
