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
expired, wronghost, selfsigned; --names a.test,b.test adds host names to any but wronghost, which
are all for localhost and 127.0.0.1 anyway). Messages are saved in --maildir as N.eml (the bytes the
client sent, dot-stuffing removed) with N.json (envelope). Users: --user NAME:PASSWORD (default
demo:demo). Misbehaviour: --slow SECONDS before every reply, --drop-at ehlo|mail|rcpt|data,
--greeting-554, --reject-rcpt PREFIX, --size-limit OCTETS, --temp-fail-rcpt PREFIX.
Lessons (what learners should meet, keyed by address so that one sandbox serves them all):
--lessons, or one at a time --auth-before-tls, --greylist, --deny-relay, --max-recipients
(sandbox_lessons.py says which address triggers what).
A client certificate from the same CA is made too (client_cert, client_key in the JSON line);
--require-client-cert makes the TLS listeners demand one. The CA's key is kept beside it (ca_key),
so that tests/servers/oauth_server.py can serve HTTPS under the same CA (--ca-cert/--ca-key).

OAuth 2 logins (RFC 7628 OAUTHBEARER and Google's XOAUTH2), offered only when asked for:
  --oauth-key-file PATH  accept access tokens signed with this key (oauth_server.py's token_key_file)
  --oauth                make such a key here (oauth_key_file in the JSON line) for oauth_server.py's
                         --token-key-file, so that the sandbox can start first and lend it its CA
A token is accepted for the user it names, when its scope includes one of --oauth-scope (default:
smtp, https://mail.google.com/, https://outlook.office.com/SMTP.Send). A refusal is the
provider's: 334 + base64 JSON error ({"status":"401",...} for XOAUTH2, RFC 7628 §3.2.2 for
OAUTHBEARER), then 535 after the client's answer.
"""
import argparse
import asyncio
import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
from typing import NamedTuple

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

import sandbox_lessons


def new_key(key_type):
    """A private key: "ec-p256" (the default) or "rsa-2048", the two kinds real mail servers present."""
    if key_type == "rsa-2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def make_certificates(folder, kind, ca_files=None, extra_names=(), key_type="ec-p256"):
    """A CA, and a server certificate for localhost/127.0.0.1/::1 signed by it (or broken as asked).

    ca_files=(cert path, key path) signs with that CA instead of a new one (another sandbox's).
    extra_names: more subject alternative names, but not for "wronghost" (DNS names, or IP addresses
    written as such), e.g. the host names of discovery_world.py's test domains.
    key_type: the new CA's and the server's keys (new_key), so that the page's handshake can be
    measured against both kinds of chain (tests/bench/run-page)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if ca_files:
        with open(ca_files[0], "rb") as f:
            ca = x509.load_pem_x509_certificate(f.read())
        with open(ca_files[1], "rb") as f:
            ca_key = serialization.load_pem_private_key(f.read(), password=None)
        ca_name = ca.subject
    else:
        ca_key = new_key(key_type)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SMTPc Sandbox Test CA"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SMTPc sandbox")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, encipher_only=False, decipher_only=False),
                             critical=True)
              .sign(ca_key, hashes.SHA256()))

    key = new_key(key_type)
    names = ["localhost"] if kind != "wronghost" else ["mail.wrong-host.example"]
    ips = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")] if kind != "wronghost" else []
    if kind != "wronghost":
        for name in extra_names:
            try:
                ips.append(ipaddress.ip_address(name))
            except ValueError:
                names.append(name)
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
    paths = {name: os.path.join(folder, name) for name in ("ca.pem", "ca.key", "server.pem", "server.key")}
    if ca_files:
        paths["ca.pem"], paths["ca.key"] = ca_files
    else:
        with open(paths["ca.pem"], "wb") as f:
            f.write(ca.public_bytes(pem))
        with open(os.open(paths["ca.key"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
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


# ---- OAuth 2 access tokens -------------------------------------------------------------------------
# The sandbox's authorization server (oauth_server.py) issues access tokens that this server checks
# without asking it: "smtpc-sandbox." BASE64URL(JSON claims) "." BASE64URL(HMAC-SHA256(key, all
# before the last dot)), claims {"sub" (the user), "scope", "exp", "jti"} (and "pad" when a test
# wants provider-sized tokens). Short, so that AUTH with an initial response fits in 512 octets.
# The key is 32 random bytes, written as hex in a file only its owner can read.

TOKEN_PREFIX = "smtpc-sandbox."
SASL_LINE_LIMIT = 12288  # RFC 4954 §4: what a server accepts in one line of an AUTH exchange
DEFAULT_OAUTH_SCOPES = ["smtp", "https://mail.google.com/", "https://outlook.office.com/SMTP.Send"]


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token_key(path):
    """A new token key in a new file (mode 0600); refuses to overwrite one."""
    key = secrets.token_bytes(32)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(key.hex() + "\n")
    return key


def read_token_key(path):
    with open(path) as f:
        key = bytes.fromhex(f.read().strip())
    if len(key) < 16:
        raise ValueError(f"{path}: a token key is at least 16 bytes (32 hex digits)")
    return key


def sign_token(key, claims):
    body = TOKEN_PREFIX + _b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return body + "." + _b64url(hmac.new(key, body.encode(), hashlib.sha256).digest())


def verify_token(key, token, now=None):
    """(claims, None) for a token this key signed that has not expired, else (None, why)."""
    body, dot, mac = token.rpartition(".")
    if not dot or not body.startswith(TOKEN_PREFIX):
        return None, "not a token from the sandbox's authorization server"
    try:
        given = _unb64url(mac)
    except ValueError:
        return None, "malformed token"
    if not hmac.compare_digest(given, hmac.new(key, body.encode(), hashlib.sha256).digest()):
        return None, "bad signature (forged, or signed with another key)"
    try:
        claims = json.loads(_unb64url(body[len(TOKEN_PREFIX):]))
        expires = float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None, "malformed token"
    if expires <= (time.time() if now is None else now):
        return None, "expired"
    return claims, None


class OAuthLogin(NamedTuple):
    login: bytes       # aiosmtpd copies .login into session.login_data
    mechanism: str


class OAuthChecker:
    """What the SMTP side knows of OAuth: the key, and which scopes mean "may send mail"."""

    def __init__(self, key, scopes):
        self.key = key
        self.scopes = scopes

    def check(self, user, token):
        """(claims, None) or (None, (status, why)) with status invalid_token or insufficient_scope.
        user None: whoever the token names (OAUTHBEARER without a=)."""
        claims, why = verify_token(self.key, token)
        if claims is None:
            return None, ("invalid_token", why)
        if user is not None and user != claims.get("sub"):
            return None, ("invalid_token", "the token was issued to another user")
        if not set(str(claims.get("scope", "")).split()) & set(self.scopes):
            return None, ("insufficient_scope", f"the token's scope has none of {' '.join(self.scopes)}")
        return claims, None


def log(message):
    print(f"sandbox: {message}", file=sys.stderr, flush=True)


class Handler:
    def __init__(self, options, maildir):
        self.options = options
        self.maildir = maildir
        self.count = 0
        self.lessons = sandbox_lessons.Rules(options)

    def _drop(self, server, phase):
        if self.options.drop_at == phase:
            server.transport.close()
            return True
        return False

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self._drop(server, "ehlo"):
            return []
        return self.lessons.ehlo(server, responses)

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self._drop(server, "mail"):
            return "421 dropping"
        refusal = self.lessons.mail(address, options)
        if refusal:
            return refusal
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
        refusal = self.lessons.rcpt(session, envelope, address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._drop(server, "data"):
            return "421 dropping"
        verdict = self.lessons.data(envelope)
        if verdict == "drop":  # after the final dot, before any reply: the message's fate unknown
            # abort, not close: inside TLS, close() sends close_notify and waits for the client's
            # (up to 30 s) before the TCP connection ends; a server that crashes just goes away
            server.transport.abort()
            return "421 dropping"
        if verdict:
            return verdict
        self.count += 1
        base = os.path.join(self.maildir, str(self.count))
        with open(base + ".eml.part", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "mail_options": envelope.mail_options,
                       # session.ssl is set only by STARTTLS; implicit TLS shows on the transport
                       "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                       "authenticated": bool(session.authenticated),
                       # (mechanism, user) of the AUTH that succeeded, e.g. ["OAUTHBEARER", "demo"]
                       "auth": getattr(session, "smtpc_auth", None)}, f)
        os.rename(base + ".eml.part", base + ".eml")  # appears whole
        return f"250 2.0.0 OK: queued as {self.count}"


class SlowSMTP(SMTP):
    delay = 0.0
    oauth = None  # an OAuthChecker when OAuth logins are on; else XOAUTH2/OAUTHBEARER are excluded

    async def push(self, status):
        if self.delay:
            await asyncio.sleep(self.delay)
        if status == "530 Must issue a STARTTLS command first":  # aiosmtpd's, without RFC 3207's 5.7.0
            status = sandbox_lessons.STARTTLS_FIRST
        await super().push(status)

    async def _read_sasl_line(self):
        """One client line of an AUTH exchange, up to RFC 4954's 12288 octets (aiosmtpd's own
        challenge_auth stops at 1001, and a provider's token is ~2 KB); b"" when the client hung
        up, None when the line was too long (already answered)."""
        line = b""
        while True:
            try:
                line += await self._reader.readuntil(b"\n")
                break
            except asyncio.LimitOverrunError as e:
                line += await self._reader.readexactly(e.consumed)
            except asyncio.IncompleteReadError:
                return b""
            if len(line) > SASL_LINE_LIMIT:
                while True:  # drop the rest of it
                    try:
                        await self._reader.readuntil(b"\n")
                        break
                    except asyncio.LimitOverrunError as e:
                        await self._reader.readexactly(e.consumed)
                    except asyncio.IncompleteReadError:
                        return b""
                await self.push("500 5.5.6 Authentication Exchange line is too long")
                return None
        return line

    async def _initial_response(self, args):
        """The client's first SASL message: inline (RFC 4954 initial response, "=" for empty) or
        after an empty 334. None when the exchange already ended (aborted, not base64)."""
        if len(args) == 1:
            await self.push("334 ")
            line = await self._read_sasl_line()
            if not line:
                return None
            blob = line.strip()
            if blob == b"*":
                await self.push("501 5.7.0 Auth aborted")
                return None
        elif args[1] == "=":
            return b""
        else:
            blob = args[1].encode()
        try:
            return base64.b64decode(blob, validate=True)
        except ValueError:
            await self.push("501 5.5.2 Can't decode base64")
            return None

    async def _refuse(self, mechanism, user, error, final):
        """The providers' way to fail a token: 334 + base64 JSON, the client answers (an empty line
        for XOAUTH2, %x01 for OAUTHBEARER), then the final refusal."""
        log(f"AUTH {mechanism} for {user!r} refused: {error.get('why')}")
        error = {k: v for k, v in error.items() if k != "why"}
        await self.push("334 " + base64.b64encode(json.dumps(error, separators=(",", ":")).encode()).decode())
        line = await self._read_sasl_line()
        if not line:  # the client hung up, or the line was too long
            return AuthResult(success=False, handled=True)
        if line.strip() == b"*":
            return AuthResult(success=False, handled=False, message="501 5.7.0 Auth aborted")
        return AuthResult(success=False, handled=False, message=final)

    def _accept(self, mechanism, user):
        log(f"AUTH {mechanism} for {user!r} accepted")
        self.session.smtpc_auth = (mechanism, user)
        return AuthResult(success=True, auth_data=OAuthLogin(user.encode(), mechanism))

    async def auth_XOAUTH2(self, _, args):
        # "user=" USER ^A "auth=Bearer " TOKEN ^A ^A (Google's and Microsoft's format)
        blob = await self._initial_response(args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        fields = dict(f.split("=", 1) for f in blob.decode("utf-8", "replace").split("\x01") if "=" in f)
        user = fields.get("user", "")
        scheme, _, token = fields.get("auth", "").partition(" ")
        if scheme.lower() != "bearer" or not token or not user:
            claims, why = None, ("invalid_request", "not user=...^Aauth=Bearer ...^A^A")
        else:
            claims, why = self.oauth.check(user, token.strip())
        if claims:
            return self._accept("XOAUTH2", user)
        return await self._refuse("XOAUTH2", user, {"status": "401", "schemes": "bearer",
                                                    "scope": self.oauth.scopes[0], "why": why[1]},
                                  "535 5.7.8 Username and Password not accepted")

    async def auth_OAUTHBEARER(self, _, args):
        # RFC 7628 §3.1: gs2-header ("n,a=USER,") ^A [host=H ^A port=P ^A] auth=Bearer TOKEN ^A ^A
        blob = await self._initial_response(args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        text = blob.decode("utf-8", "replace")
        gs2, _, rest = text.partition("\x01")
        gs2_fields = gs2.split(",")
        user, token, why = None, None, None
        if len(gs2_fields) < 3 or gs2_fields[0] not in ("n", "y") or not rest.endswith("\x01\x01"):
            why = "not a gs2 header ^A key=value ^A ... ^A^A message (RFC 7628 §3.1)"
        else:
            authzid = gs2_fields[1]
            if authzid.startswith("a="):  # saslname: "=2C" is ",", "=3D" is "="
                user = authzid[2:].replace("=2C", ",").replace("=3D", "=")
            pairs = dict(p.split("=", 1) for p in rest.split("\x01") if "=" in p)
            scheme, _, token = pairs.get("auth", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                why = "no auth=Bearer TOKEN"
        if why:
            claims, error = None, ("invalid_request", why)
        else:
            claims, error = self.oauth.check(user, token.strip())
        if claims:  # without a=, the identity is the one the token names (RFC 7628 §3.1)
            return self._accept("OAUTHBEARER", user or claims["sub"])
        return await self._refuse("OAUTHBEARER", user, {"status": error[0], "scope": self.oauth.scopes[0],
                                                        "why": error[1]},
                                  "535 5.7.8 Authentication credentials invalid")


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
    parser.add_argument("--key-type", default="ec-p256", choices=["ec-p256", "rsa-2048"],
                        help="the CA's and the server certificate's keys (default ec-p256)")
    parser.add_argument("--names", default="", metavar="A,B,...",
                        help="more names (or IP addresses) the certificate is valid for, beside localhost")
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--drop-at", choices=["ehlo", "mail", "rcpt", "data"])
    parser.add_argument("--greeting-554", action="store_true")
    parser.add_argument("--reject-rcpt")
    parser.add_argument("--temp-fail-rcpt")
    parser.add_argument("--size-limit", type=int, default=32 * 1024 * 1024)
    sandbox_lessons.add_arguments(parser)
    parser.add_argument("--require-client-cert", action="store_true",
                        help="TLS listeners demand a client certificate signed by the sandbox's CA")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when standard input closes (tests: the server dies with its test)")
    parser.add_argument("--oauth-key-file", metavar="PATH",
                        help="offer XOAUTH2 and OAUTHBEARER, accepting tokens signed with this key "
                             "(oauth_server.py's token_key_file)")
    parser.add_argument("--oauth", action="store_true",
                        help="offer XOAUTH2 and OAUTHBEARER with a token key made here (oauth_key_file in the "
                             "JSON line), for oauth_server.py --token-key-file")
    parser.add_argument("--oauth-scope", action="append", metavar="SCOPE",
                        help="a scope that lets a token send mail (repeatable; default: "
                             + ", ".join(DEFAULT_OAUTH_SCOPES) + "); the first is named in refusals")
    options = parser.parse_args()
    if options.oauth and options.oauth_key_file:
        parser.error("--oauth makes a key, --oauth-key-file reads one: give one of them")

    state = tempfile.mkdtemp(prefix="smtpc-sandbox-")
    maildir = options.maildir or os.path.join(state, "mail")
    os.makedirs(maildir, exist_ok=True)
    extra_names = [name.strip() for name in options.names.split(",") if name.strip()]
    certs = make_certificates(state, options.cert, extra_names=extra_names, key_type=options.key_type)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs["server.pem"], certs["server.key"])
    if options.require_client_cert:  # the handshake fails without a certificate from the sandbox's CA
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs["ca.pem"])
    users = dict(u.split(":", 1) for u in (options.user or ["demo:demo"]))
    oauth_key_file = options.oauth_key_file
    if options.oauth:
        oauth_key_file = os.path.join(state, "oauth-token.key")
        make_token_key(oauth_key_file)
    if oauth_key_file:
        try:
            SlowSMTP.oauth = OAuthChecker(read_token_key(oauth_key_file), options.oauth_scope or DEFAULT_OAUTH_SCOPES)
        except (OSError, ValueError) as e:
            shutil.rmtree(state, ignore_errors=True)
            parser.error(f"--oauth-key-file: {e}")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and users.get(auth_data.login.decode()) == auth_data.password.decode()
        if ok:
            session.smtpc_auth = (mechanism, auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    handler = Handler(options, maildir)
    SlowSMTP.delay = options.slow
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def smtp_factory(**kwargs):
        common = dict(data_size_limit=options.size_limit, enable_SMTPUTF8=True, hostname="sandbox.smtpc.test",
                      ident="SMTPc sandbox (aiosmtpd)", authenticator=authenticator, timeout=60,
                      auth_exclude_mechanism=[] if SlowSMTP.oauth else ["XOAUTH2", "OAUTHBEARER"])
        common.update(kwargs)
        return lambda: (RefusingProtocol() if options.greeting_554 else SlowSMTP(handler, **common))

    async def listen(factory, ssl_context=None):
        server = await loop.create_server(factory, options.host, 0, ssl=ssl_context)
        return server, server.sockets[0].getsockname()[1]

    servers = {}
    servers["plain"] = loop.run_until_complete(listen(smtp_factory(auth_require_tls=False)))
    servers["starttls"] = loop.run_until_complete(listen(smtp_factory(tls_context=context, require_starttls=True)))
    servers["tls"] = loop.run_until_complete(listen(smtp_factory(auth_require_tls=False), context))

    # ready only once a SIGTERM would be handled: a test may stop the server at once
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"host": options.host, **{name: port for name, (_, port) in servers.items()},
                      "ca_file": certs["ca.pem"], "client_cert": certs["client.pem"], "client_key": certs["client.key"],
                      "maildir": maildir, "state": state, "ca_key": certs["ca.key"],
                      **({"lessons": True} if options.lessons else {}),
                      **({"oauth_key_file": oauth_key_file, "oauth_scopes": SlowSMTP.oauth.scopes}
                         if SlowSMTP.oauth else {})}), flush=True)

    if options.exit_on_stdin_eof:
        def watch():
            while os.read(sys.stdin.fileno(), 4096):  # not sys.stdin.buffer: its lock aborts the exit
                pass
            loop.call_soon_threadsafe(stop.set)
        threading.Thread(target=watch, daemon=True).start()
    loop.run_until_complete(stop.wait())
    for server, _ in servers.values():
        server.close()
    shutil.rmtree(state, ignore_errors=True)  # a --maildir given by the caller is left alone


if __name__ == "__main__":
    main()
