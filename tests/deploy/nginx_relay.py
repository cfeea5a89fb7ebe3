#!/usr/bin/python3
"""deploy/nginx/smtpc.conf for real: Debian's nginx runs the example (its ports, certificate and
log paths moved to a scratch folder and free loopback ports) in front of smtpc-proxy started as
deploy/smtpc-proxy.service starts it behind nginx (--trust-forwarded-for 127.0.0.1); a client
from another loopback address, 127.0.0.2, opens wss://.../smtp through nginx and holds one SMTP
session with a small SMTP server of this test. Checks: the session arrives whole, the relay logs
the forwarded client (127.0.0.2, not nginx's 127.0.0.1) and no payload, nginx's access log keeps
no relay token, and a client's own X-Forwarded-For does not change who the relay thinks it is.

    tests/deploy/nginx_relay.py --proxy build/native/proxy/smtpc-proxy [--web DIR]
Every server it starts binds loopback and is stopped when it ends."""
import argparse
import base64
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "deploy", "nginx", "smtpc.conf")
ORIGIN = "https://smtpc.example.org"
TOKEN = "nginx-relay-Token-7781"


def fail(what):
    print("FAIL: " + what, flush=True)
    sys.exit(1)


def check(condition, what):
    if not condition:
        fail(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer(threading.Thread):
    """An SMTP server of a few lines: records every line it receives."""

    def __init__(self):
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lines = []

    def run(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            f = conn.makefile("rb")
            conn.sendall(b"220 test ESMTP\r\n")
            in_data = False
            for raw in f:
                line = raw.rstrip(b"\r\n").decode("latin1")
                self.lines.append(line)
                if in_data:
                    if line == ".":
                        in_data = False
                        conn.sendall(b"250 2.0.0 queued\r\n")
                    continue
                verb = line.split(" ")[0].upper()
                if verb == "EHLO":
                    conn.sendall(b"250-test\r\n250 8BITMIME\r\n")
                elif verb == "DATA":
                    in_data = True
                    conn.sendall(b"354 go ahead\r\n")
                elif verb == "QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 2.1.0 ok\r\n")


class WebSocket:
    """The client side of RFC 6455, as much as one SMTP session needs (binary frames, masked)."""

    def __init__(self, port, target, headers=()):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0))
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's throwaway certificate
        self.sock = context.wrap_socket(raw, server_hostname="smtpc.example.org")
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {target} HTTP/1.1\r\nHost: smtpc.example.org\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {ORIGIN}\r\n")
        request += "".join(f"{h}\r\n" for h in headers) + "\r\n"
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            check(chunk, "the upgrade got no answer: %r" % self.buffer)
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.status = head.split(b"\r\n")[0].decode()

    def send(self, payload):
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        head = bytes([0x82, 0x80 | n]) if n < 126 else bytes([0x82, 0x80 | 126]) + struct.pack(">H", n)
        self.sock.sendall(head + mask + masked)

    def _need(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed")
            self.buffer += chunk

    def frame(self):
        """(opcode, payload) of the next frame (the server never masks)."""
        self._need(2)
        opcode, n = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
        at = 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack(">H", self.buffer[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack(">Q", self.buffer[2:10])[0], 10
        self._need(at + n)
        payload, self.buffer = self.buffer[at:at + n], self.buffer[at + n:]
        return opcode, payload

    def reply(self):
        """The next complete SMTP reply (its last line has a space after the code)."""
        text = b""
        while True:
            opcode, payload = self.frame()
            check(opcode == 2, "a binary frame, not opcode %d %r" % (opcode, payload))
            text += payload
            last = text.rstrip(b"\r\n").split(b"\r\n")[-1]
            if text.endswith(b"\r\n") and len(last) >= 4 and last[3:4] == b" ":
                return text.decode("latin1")


def template(text, replacements):
    """The example with each (pattern, new) applied, each pattern matching as often as said, so
    that the example and this test cannot drift apart silently."""
    for pattern, new, count in replacements:
        text, n = re.subn(pattern, new, text, flags=re.M)
        check(n == count, f"{EXAMPLE}: expected {count} match(es) of {pattern!r}, found {n}")
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--web", help="a folder for --web (default: a scratch one with an index.html)")
    args = parser.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check(os.path.exists(nginx), "nginx is missing (Debian nginx-light; scripts/setup installs it)")

    scratch = tempfile.mkdtemp(prefix="smtpc-nginx-")
    os.chmod(scratch, 0o755)  # nginx's workers run as nobody when started by root
    children = []
    try:
        cert, key = os.path.join(scratch, "cert.pem"), os.path.join(scratch, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", "/CN=smtpc.example.org", "-days", "1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        token_file = os.path.join(scratch, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        web = args.web
        if not web:
            web = os.path.join(scratch, "web")
            os.mkdir(web)
            with open(os.path.join(web, "index.html"), "w") as f:
                f.write('<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src \'self\'">'
                        "<title>smtpc</title>\n")

        smtp = SmtpServer()
        smtp.start()
        # The relay as the unit starts it behind nginx (listen on loopback, trust 127.0.0.1's
        # X-Forwarded-For), with a token so the access log's treatment of it is tested too.
        relay_log = open(os.path.join(scratch, "relay.log"), "w+")
        relay = subprocess.Popen([args.proxy, "--listen", "127.0.0.1:0", "--web", web, "--allow-origin", ORIGIN,
                                  "--allow", f"127.0.0.1:{smtp.port}", "--trust-forwarded-for", "127.0.0.1",
                                  "--token-file", token_file],
                                 stdout=subprocess.PIPE, stderr=relay_log, text=True)
        children.append(relay)
        first = relay.stdout.readline()
        check(first.startswith("listening on "), f"smtpc-proxy did not start: {first!r}")
        relay_port = int(first.strip().rsplit(":", 1)[1])

        https_port, http_port = free_port(), free_port()
        with open(EXAMPLE) as f:
            site = template(f.read(), [
                (r"^\s*listen \[::\]:\d+.*\n", "", 2),  # loopback IPv4 only
                (r"listen 443 ", f"listen 127.0.0.1:{https_port} ", 1),
                (r"listen 80;", f"listen 127.0.0.1:{http_port};", 1),
                (r"server 127\.0\.0\.1:8025;", f"server 127.0.0.1:{relay_port};", 1),
                (r"/etc/letsencrypt/live/smtpc\.example\.org/fullchain\.pem", cert, 1),
                (r"/etc/letsencrypt/live/smtpc\.example\.org/privkey\.pem", key, 1),
                (r"/var/log/nginx/smtpc\.access\.log", os.path.join(scratch, "access.log"), 2),
            ])
        with open(os.path.join(scratch, "smtpc.conf"), "w") as f:
            f.write(site)
        temp_paths = "".join(f"    {kind}_temp_path {scratch}/{kind};\n" for kind in
                             ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(os.path.join(scratch, "nginx.conf"), "w") as f:
            f.write(f"daemon off;\nworker_processes 1;\npid {scratch}/nginx.pid;\nerror_log {scratch}/error.log info;\n"
                    "events { worker_connections 64; }\n"
                    f"http {{\n{temp_paths}    access_log off;\n    include {scratch}/smtpc.conf;\n}}\n")
        test = subprocess.run([nginx, "-t", "-p", scratch, "-e", f"{scratch}/error.log", "-c", f"{scratch}/nginx.conf"],
                              capture_output=True, text=True)
        check(test.returncode == 0, "nginx -t refuses the example: " + test.stderr)
        server = subprocess.Popen([nginx, "-p", scratch, "-e", f"{scratch}/error.log", "-c", f"{scratch}/nginx.conf"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        children.append(server)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                check(server.poll() is None, "nginx exited: " + server.stderr.read())
                time.sleep(0.1)

        # One SMTP session through nginx over wss://. The client also claims to be 192.0.2.66 in
        # its own X-Forwarded-For: nginx appends the address it sees, and that is what counts.
        ws = WebSocket(https_port, f"/smtp?host=127.0.0.1&port={smtp.port}&token={TOKEN}",
                       headers=["X-Forwarded-For: 192.0.2.66"])
        check(ws.status.startswith("HTTP/1.1 101"), "the upgrade through nginx: " + ws.status)
        check(ws.reply().startswith("220 "), "the greeting")
        conversation = [(b"EHLO client.example\r\n", "250 "), (b"MAIL FROM:<a@example.org>\r\n", "250 "),
                        (b"RCPT TO:<b@example.org>\r\n", "250 "), (b"DATA\r\n", "354 "),
                        (b"Subject: through nginx\r\n\r\nhello\r\n.\r\n", "250 "), (b"QUIT\r\n", "221 ")]
        for line, expected in conversation:
            ws.send(line)
            answer = ws.reply()
            check(answer.splitlines()[-1].startswith(expected), f"{line!r} -> {answer!r}")
        opcode, payload = ws.frame()
        check(opcode == 8 and struct.unpack(">H", payload[:2])[0] == 1000, f"closed with 1000: {opcode} {payload!r}")
        ws.sock.close()
        check(smtp.lines[:3] == ["EHLO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.org>"]
              and "QUIT" in smtp.lines, f"the server got the session: {smtp.lines}")

        # The page itself through nginx (the relay's --web).
        page = WebSocket.__new__(WebSocket)
        raw = socket.create_connection(("127.0.0.1", https_port), timeout=10)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        page.sock = context.wrap_socket(raw, server_hostname="smtpc.example.org")
        page.sock.sendall(b"GET / HTTP/1.1\r\nHost: smtpc.example.org\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := page.sock.recv(65536):
            answer += chunk
        page.sock.close()
        check(answer.startswith(b"HTTP/1.1 200") and b"<title>" in answer, "the page through nginx: %r" % answer[:300])

        # What the relay logged: the forwarded client, and none of the session's words.
        deadline = time.time() + 10
        while True:
            relay_log.seek(0)
            log = relay_log.read()
            if re.search(r"client \S+ destination 127\.0\.0\.1:%d " % smtp.port, log) or time.time() > deadline:
                break
            time.sleep(0.1)
        line = re.search(r"client (\S+) destination 127\.0\.0\.1:%d .*" % smtp.port, log)
        check(line, "the relay logged the session: " + log)
        check(line.group(1) == "127.0.0.2", f"the relay logged the forwarded client 127.0.0.2, not: {line.group(0)}")
        check("close 1000" in line.group(0), "a normal close: " + line.group(0))
        for word in ("EHLO", "MAIL FROM", "hello", TOKEN, "192.0.2.66"):
            check(word not in log, f"the relay's log holds {word!r}: {log}")
        print("relay log:", line.group(0))

        # nginx's access log (the example's format): the request, never the token.
        with open(os.path.join(scratch, "access.log")) as f:
            access = f.read()
        check("GET /smtp HTTP/1.1\" 101" in access, "nginx logged the upgrade: " + access)
        check(TOKEN not in access, "nginx's access log holds the relay token: " + access)
        print("PASS: one SMTP session relayed through nginx over wss://, logged as client 127.0.0.2")
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
