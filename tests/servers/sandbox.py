#!/usr/bin/python3
"""SMTPc's sandbox SMTP server: aiosmtpd on loopback, for the tests and the demo.

Listens on free ports (chosen by the system) and prints one JSON line with them:
  {"host": "127.0.0.1", "plain": P, "starttls": P, "tls": P, "ca_file": ..., "maildir": ...}
then serves until SIGTERM/SIGINT (or, with --exit-on-stdin-eof, until its standard input closes,
so that it never outlives the test that started it).

  plain     no TLS; AUTH offered in clear (for testing that clients refuse to use it)
  starttls  STARTTLS offered and required before MAIL; AUTH only after TLS (submission, 587)
  tls       implicit TLS from the first byte; AUTH (submissions, 465)

A throwaway CA and server certificate are made at start (--cert picks a broken one for tests:
expired, wronghost, selfsigned). Messages are saved in --maildir as N.eml (the bytes the client
sent, dot-stuffing removed) with N.json (envelope). Users: --user NAME:PASSWORD (default
demo:demo). Misbehaviour: --slow SECONDS before every reply, --drop-at ehlo|mail|rcpt|data,
--greeting-554, --reject-rcpt PREFIX, --size-limit OCTETS, --temp-fail-rcpt PREFIX.
A client certificate from the same CA is made too (client_cert, client_key in the JSON line);
--require-client-cert makes the TLS listeners demand one.
"""
import argparse
import asyncio
import datetime
import ipaddress
import json
import os
import shutil
import signal
import ssl
import sys
import tempfile
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificates(folder, kind):
    """A CA, and a server certificate for localhost/127.0.0.1/::1 signed by it (or broken as asked)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SMTPc Sandbox Test CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SMTPc sandbox")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))

    key = ec.generate_private_key(ec.SECP256R1())
    names = ["localhost"] if kind != "wronghost" else ["mail.wrong-host.example"]
    ips = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")] if kind != "wronghost" else []
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    not_before, not_after = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
    if kind == "expired":
        not_before, not_after = now - datetime.timedelta(days=60), now - datetime.timedelta(days=30)
    issuer_name, signing_key = ca_name, ca_key
    if kind == "selfsigned":
        issuer_name, signing_key = subject, key
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names] +
                                                       [x509.IPAddress(i) for i in ips]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(signing_key, hashes.SHA256()))

    pem = serialization.Encoding.PEM
    paths = {name: os.path.join(folder, name) for name in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(pem))
        if kind != "selfsigned":
            f.write(ca.public_bytes(pem))
    with open(paths["server.key"], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    # A client certificate from the same CA, for servers that ask for one (--require-client-cert).
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SMTPc test client")])
    client = (x509.CertificateBuilder().subject_name(client_name).issuer_name(ca_name)
              .public_key(client_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths["client.pem"] = os.path.join(folder, "client.pem")
    paths["client.key"] = os.path.join(folder, "client.key")
    with open(paths["client.pem"], "wb") as f:
        f.write(client.public_bytes(pem))
    with open(paths["client.key"], "wb") as f:
        f.write(client_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


class Handler:
    def __init__(self, options, maildir):
        self.options = options
        self.maildir = maildir
        self.count = 0

    def _drop(self, server, phase):
        if self.options.drop_at == phase:
            server.transport.close()
            return True
        return False

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self._drop(server, "ehlo"):
            return []
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self._drop(server, "mail"):
            return "421 dropping"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self._drop(server, "rcpt"):
            return "421 dropping"
        if self.options.reject_rcpt and address.startswith(self.options.reject_rcpt):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if self.options.temp_fail_rcpt and address.startswith(self.options.temp_fail_rcpt):
            return f"451 4.7.1 <{address}>: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._drop(server, "data"):
            return "421 dropping"
        self.count += 1
        base = os.path.join(self.maildir, str(self.count))
        with open(base + ".eml.part", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "mail_options": envelope.mail_options,
                       # session.ssl is set only by STARTTLS; implicit TLS shows on the transport
                       "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                       "authenticated": bool(session.authenticated)}, f)
        os.rename(base + ".eml.part", base + ".eml")  # appears whole
        return f"250 2.0.0 OK: queued as {self.count}"


class SlowSMTP(SMTP):
    delay = 0.0

    async def push(self, status):
        if self.delay:
            await asyncio.sleep(self.delay)
        await super().push(status)


class RefusingProtocol(asyncio.Protocol):
    """A server that will not talk: 554 greeting, then only QUIT is answered (RFC 5321 §3.1)."""

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        transport.write(b"554 5.7.1 sandbox: no SMTP service here for you\r\n")

    def data_received(self, data):
        self.buffer += data
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            if line.upper().startswith(b"QUIT"):
                self.transport.write(b"221 2.0.0 Bye\r\n")
                self.transport.close()
                return
            self.transport.write(b"503 5.5.1 sandbox: bad sequence of commands\r\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", action="append", help="NAME:PASSWORD (default demo:demo)")
    parser.add_argument("--maildir")
    parser.add_argument("--cert", default="valid", choices=["valid", "expired", "wronghost", "selfsigned"])
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--drop-at", choices=["ehlo", "mail", "rcpt", "data"])
    parser.add_argument("--greeting-554", action="store_true")
    parser.add_argument("--reject-rcpt")
    parser.add_argument("--temp-fail-rcpt")
    parser.add_argument("--size-limit", type=int, default=32 * 1024 * 1024)
    parser.add_argument("--require-client-cert", action="store_true",
                        help="TLS listeners demand a client certificate signed by the sandbox's CA")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when standard input closes (tests: the server dies with its test)")
    options = parser.parse_args()

    state = tempfile.mkdtemp(prefix="smtpc-sandbox-")
    maildir = options.maildir or os.path.join(state, "mail")
    os.makedirs(maildir, exist_ok=True)
    certs = make_certificates(state, options.cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs["server.pem"], certs["server.key"])
    if options.require_client_cert:  # the handshake fails without a certificate from the sandbox's CA
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs["ca.pem"])
    users = dict(u.split(":", 1) for u in (options.user or ["demo:demo"]))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and users.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)

    handler = Handler(options, maildir)
    SlowSMTP.delay = options.slow
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def smtp_factory(**kwargs):
        common = dict(data_size_limit=options.size_limit, enable_SMTPUTF8=True, hostname="sandbox.smtpc.test",
                      ident="SMTPc sandbox (aiosmtpd)", authenticator=authenticator, timeout=60)
        common.update(kwargs)
        return lambda: (RefusingProtocol() if options.greeting_554 else SlowSMTP(handler, **common))

    async def listen(factory, ssl_context=None):
        server = await loop.create_server(factory, options.host, 0, ssl=ssl_context)
        return server, server.sockets[0].getsockname()[1]

    servers = {}
    servers["plain"] = loop.run_until_complete(listen(smtp_factory(auth_require_tls=False)))
    servers["starttls"] = loop.run_until_complete(listen(smtp_factory(tls_context=context, require_starttls=True)))
    servers["tls"] = loop.run_until_complete(listen(smtp_factory(auth_require_tls=False), context))

    print(json.dumps({"host": options.host, **{name: port for name, (_, port) in servers.items()},
                      "ca_file": certs["ca.pem"], "client_cert": certs["client.pem"], "client_key": certs["client.key"],
                      "maildir": maildir, "state": state}), flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if options.exit_on_stdin_eof:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            loop.call_soon_threadsafe(stop.set)
        threading.Thread(target=watch, daemon=True).start()
    loop.run_until_complete(stop.wait())
    for server, _ in servers.values():
        server.close()
    shutil.rmtree(state, ignore_errors=True)  # a --maildir given by the caller is left alone


if __name__ == "__main__":
    main()
