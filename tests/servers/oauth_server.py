#!/usr/bin/python3
"""SMTPc's sandbox OAuth 2 authorization server, for the tests and the demo.

HTTPS on 127.0.0.1 on a free port, with a certificate from --ca-cert/--ca-key (e.g. the sandbox
SMTP server's ca_file and ca_key, so that one CA file covers both) or from a CA made here. When
ready it prints one JSON line:
  {"issuer": "https://127.0.0.1:PORT", "port": PORT, "ca_file": ..., "token_key_file": ..., ...}
then serves until SIGTERM/SIGINT (or, with --exit-on-stdin-eof, until its standard input closes).

  /.well-known/oauth-authorization-server  RFC 8414 metadata (--metadata changes where and what)
  /authorize             authorization code with PKCE (RFC 7636, S256 only) to a loopback redirect
                         (RFC 8252 §7.3: http://127.0.0.1:ANY-PORT/..., [::1] or localhost);
                         approves --user at once (or refuses: --refuse-consent) and redirects (302)
  /token                 authorization_code, refresh_token (rotated), and RFC 8628 device_code
  /device_authorization  RFC 8628 §3.1; /device?user_code=... approves a code (a person would)
  /revoke                RFC 7009 (refresh tokens; access tokens are not tracked)
  /control/stats         what was asked and issued (a test's view; never a secret)
  /control/revoke-refresh-tokens   POST: every refresh token is revoked (optional user=NAME)

Access tokens are signed with an HMAC key (token_key_file, or --token-key-file), so that
sandbox.py --oauth-key-file checks them without asking this server (format: sandbox.py).
With the sandbox, one CA for both (a client then needs one --ca-file):
  sandbox.py --oauth   -> {..., "ca_file": CA, "ca_key": CAKEY, "oauth_key_file": KEY}
  oauth_server.py --ca-cert CA --ca-key CAKEY --token-key-file KEY
Requests are logged to stderr without codes, tokens, secrets or verifiers.

python3-oauthlib does the authorization endpoint, the code and refresh grants and revocation;
its 3.2 has no server side for RFC 8628, so the device grant is a grant class written here and the
device authorization endpoint is hand-written. Metadata is written here too (it is one dict).
"""
import argparse
import base64
import collections
import html
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import types
import urllib.parse

from oauthlib import common
from oauthlib.oauth2 import RequestValidator, WebApplicationServer
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant, RefreshTokenGrant
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.oauth2.rfc6749.grant_types.base import GrantTypeBase

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandbox import make_certificates, make_token_key, read_token_key, sign_token  # noqa: E402

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: no vowels, no look-alikes
PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.1 verifier; S256 challenge is 43
CODE_LIFETIME = 600
POLL_TOLERANCE = 0.15  # seconds a poll may come early (coarse timers) before it counts as too fast


def log(message):
    print(f"oauth_server: {message}", file=sys.stderr, flush=True)


def is_loopback_redirect(uri):
    """RFC 8252 §7.3: http to a loopback IP literal, any port, any path (localhost tolerated, §8.3)."""
    try:
        parts = urllib.parse.urlsplit(uri)
        parts.port  # raises on a bad port
    except ValueError:
        return False
    return (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
            and not parts.fragment and not parts.username and not parts.password)


class Store:
    """Everything the server remembers; one lock around every request."""

    def __init__(self):
        self.lock = threading.RLock()
        self.codes = {}           # code -> dict (client_id, redirect_uri, challenge, method, scopes, user, ...)
        self.used_codes = {}      # code -> refresh tokens issued from it (revoked on reuse, RFC 6749 §4.1.2)
        self.refresh_tokens = {}  # token -> dict (client_id, user, scopes, code)
        self.devices = {}         # device_code -> dict
        # a test's view of what happened (GET /control/stats): counts only, never a code or a token
        self.stats = {"requests": collections.Counter(),  # "POST /token"
                      "consent": collections.Counter(),   # "approved", "refused" (browser and device)
                      "issued": collections.Counter(),    # access tokens by grant_type
                      "errors": collections.Counter(),    # error codes answered
                      "revoked_refresh_tokens": 0}


class Validator(RequestValidator):
    """oauthlib's questions, answered from the options and the Store."""

    def __init__(self, options, store):
        self.options = options
        self.store = store

    # -- clients: public (client_id only) unless --client-secret is set
    def _client(self, client_id):
        return types.SimpleNamespace(client_id=client_id) if client_id in self.options.client_ids else None

    def _basic(self, request):
        auth = request.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None
        return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)

    def client_authentication_required(self, request, *args, **kwargs):
        return bool(self.options.client_secret) or self._basic(request) is not None

    def authenticate_client(self, request, *args, **kwargs):
        basic = self._basic(request)
        client_id, secret = basic if basic else (request.client_id, request.client_secret)
        if self.options.client_secret and not (secret and secrets.compare_digest(secret, self.options.client_secret)):
            return False
        request.client_id = client_id
        request.client = self._client(client_id)
        return request.client is not None

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        request.client = self._client(client_id)
        return request.client is not None

    def validate_client_id(self, client_id, request, *args, **kwargs):
        return self._client(client_id) is not None

    # -- authorization request
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return is_loopback_redirect(redirect_uri)

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return None  # nothing is registered: the client must name its loopback redirect

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code"

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return True  # any scope is granted; the SMTP server decides what a scope may do

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return self.options.default_scope.split()

    def is_pkce_required(self, client_id, request):
        return True

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.store.codes[code["code"]] = {
            "client_id": client_id, "redirect_uri": request.redirect_uri, "scopes": request.scopes,
            "user": request.user, "challenge": request.code_challenge, "method": request.code_challenge_method,
            "expires": time.time() + CODE_LIFETIME}

    # -- token request, authorization_code
    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        grant = self.store.codes.get(code)
        if grant is None:
            if code in self.store.used_codes:  # a replayed code: what it gave is taken back
                for token in self.store.used_codes[code]:
                    self.store.refresh_tokens.pop(token, None)
                log("refused: code already used; its refresh tokens are revoked")
            else:
                log("refused: unknown code")
            return False
        if grant["expires"] < time.time():
            log("refused: code expired")
            return False
        if grant["client_id"] != client_id:
            log("refused: code issued to another client")
            return False
        request.user = grant["user"]
        request.scopes = grant["scopes"]
        return True

    def get_code_challenge(self, code, request):
        return self.store.codes[code]["challenge"]

    def get_code_challenge_method(self, code, request):
        return self.store.codes[code]["method"]

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        return self.store.codes[code]["redirect_uri"] == redirect_uri  # RFC 6749 §4.1.3: identical

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.store.codes.pop(code, None)
        self.store.used_codes.setdefault(code, [])  # (oauthlib saves the token first: see save_bearer_token)

    # -- token request, refresh_token
    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        return grant_type in ("authorization_code", "refresh_token", DEVICE_GRANT)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if self.options.revoke_refresh:
            log("refused: --revoke-refresh: every refresh token counts as revoked")
            return False
        grant = self.store.refresh_tokens.get(refresh_token)
        if grant is None or grant["client_id"] != client.client_id:
            log("refused: unknown, rotated or revoked refresh token")
            return False
        request.user = grant["user"]
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return self.store.refresh_tokens[refresh_token]["scopes"]

    def rotate_refresh_token(self, request):
        return True

    def save_bearer_token(self, token, request, *args, **kwargs):
        code = None
        if request.grant_type == "refresh_token":  # rotation: the old one stops working now
            code = self.store.refresh_tokens.pop(request.refresh_token, {}).get("code")
        elif request.grant_type == "authorization_code":
            code = request.code
        if "refresh_token" in token:
            self.store.refresh_tokens[token["refresh_token"]] = {
                "client_id": request.client_id, "user": request.user, "scopes": request.scopes, "code": code}
            if code is not None:  # refresh tokens descended from a code, revoked if the code is replayed
                self.store.used_codes.setdefault(code, []).append(token["refresh_token"])
        self.store.stats["issued"][request.grant_type] += 1

    # -- revocation (RFC 7009)
    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        if self.store.refresh_tokens.pop(token, None) is not None:
            self.store.stats["revoked_refresh_tokens"] += 1


class CodeGrant(AuthorizationCodeGrant):
    """oauthlib's code grant with PKCE S256 only (no "plain", no default), well-formed PKCE values,
    and a redirect mismatch at the token endpoint reported as invalid_grant (RFC 6749 §5.2)."""
    _code_challenge_methods = {"S256": code_challenge_method_s256}

    def validate_authorization_request(self, request):
        result = super().validate_authorization_request(request)
        if len(request.code_challenge or "") != 43 or not PKCE_VALUE.match(request.code_challenge):
            raise errors.InvalidRequestError(request=request, description="code_challenge is not a BASE64URL "
                                             "SHA-256 (43 characters, RFC 7636 §4.2)")
        return result

    def validate_token_request(self, request):
        if request.code_verifier is not None and not PKCE_VALUE.match(request.code_verifier):
            raise errors.InvalidGrantError(request=request, description="code_verifier is not 43-128 unreserved "
                                           "characters (RFC 7636 §4.1)")
        try:
            super().validate_token_request(request)
        except errors.MismatchingRedirectURIError:
            raise errors.InvalidGrantError(request=request, description="redirect_uri differs from the "
                                           "authorization request's")


class DeviceCodeError(errors.CustomOAuth2Error):
    pass


class DeviceCodeGrant(GrantTypeBase):
    """RFC 8628 §3.4-3.5: the token endpoint's side of the device authorization grant."""

    def __init__(self, request_validator, options, store, **kwargs):
        super().__init__(request_validator, **kwargs)
        self.options = options
        self.store = store

    def create_token_response(self, request, token_handler):
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as e:
            headers.update(e.headers)
            return headers, e.json, e.status_code
        token = token_handler.create_token(request, refresh_token=self.refresh_token)
        self.request_validator.save_token(token, request)
        return headers, json.dumps(token), 200

    def validate_token_request(self, request):
        v = self.request_validator
        if v.client_authentication_required(request):
            if not v.authenticate_client(request):
                raise errors.InvalidClientError(request=request)
        elif not v.authenticate_client_id(request.client_id, request):
            raise errors.InvalidClientError(request=request)
        if not request.device_code:
            raise errors.InvalidRequestError(request=request, description="Missing device_code parameter.")
        device = self.store.devices.get(request.device_code)
        if device is None or device["client_id"] != request.client_id or device["status"] == "used":
            log("refused: unknown or used device code")
            raise errors.InvalidGrantError(request=request)
        now = time.monotonic()
        if now >= device["expires"]:
            raise DeviceCodeError("expired_token", request=request, description="The device code has expired.")
        last, device["last_poll"] = device["last_poll"], now
        if last is not None and now - last < device["interval"] - POLL_TOLERANCE:
            device["interval"] += self.options.slow_down_increment  # "for this and all subsequent requests"
            raise DeviceCodeError("slow_down", request=request,
                                  description=f"Polled too fast; the interval is now {device['interval']} s.")
        device["polls"] += 1
        if self.options.auto_approve_device and device["status"] == "pending" \
                and device["polls"] > self.options.approve_after:
            device["status"] = "denied" if self.options.refuse_consent else "approved"
            device["user"] = self.options.user
            self.store.stats["consent"][device["status"].replace("denied", "refused")] += 1
        if device["status"] == "pending":
            raise DeviceCodeError("authorization_pending", request=request,
                                  description="The user has not yet approved this device code.")
        if device["status"] == "denied":
            raise errors.AccessDeniedError(request=request, description="The user refused.")
        device["status"] = "used"
        request.user = device["user"]
        request.scopes = device["scopes"]


class OAuthServer(WebApplicationServer):
    def __init__(self, options, store, key):
        validator = Validator(options, store)

        def access_token(request):
            claims = {"sub": request.user, "scope": " ".join(request.scopes),
                      "exp": int(time.time()) + request.expires_in, "jti": secrets.token_urlsafe(8)}
            token = sign_token(key, claims)
            while len(token) < options.token_size:  # a provider-sized token (Microsoft's are ~2 KB)
                claims["pad"] = claims.get("pad", "") + "x" * max(1, (options.token_size - len(token)) * 3 // 4)
                token = sign_token(key, claims)
            return token

        super().__init__(validator, token_generator=access_token, token_expires_in=options.token_lifetime,
                         refresh_token_generator=lambda request: secrets.token_urlsafe(32))
        issue_refresh = not options.no_refresh_token
        self.auth_grant = CodeGrant(validator, refresh_token=issue_refresh)
        self.refresh_grant = RefreshTokenGrant(validator, issue_new_refresh_tokens=issue_refresh)
        self.device_grant = DeviceCodeGrant(validator, options, store, refresh_token=issue_refresh)
        self._response_types = {"code": self.auth_grant}
        self._grant_types = {"authorization_code": self.auth_grant, "refresh_token": self.refresh_grant,
                             DEVICE_GRANT: self.device_grant}
        self.validator = validator


def new_user_code():
    code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return code[:4] + "-" + code[4:]


def normalise_user_code(text):
    return re.sub(r"[^A-Z]", "", (text or "").upper())


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>SMTPc sandbox sign-in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto"><h1>SMTPc sandbox sign-in</h1>
{body}</body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SMTPc-sandbox-oauth/1"
    timeout = 60

    # -- plumbing
    def log_request(self, code="-", size="-"):
        pass  # one line per request, written by respond()

    def log_message(self, format, *args):
        log(format % args)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_OPTIONS(self):
        self.note = ""
        self.respond(204, b"", {"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                                "Access-Control-Allow-Headers": self.headers.get(
                                    "Access-Control-Request-Headers", "Content-Type, Authorization"),
                                "Access-Control-Max-Age": "600"})

    def respond(self, status, body, headers=None, content_type=None):
        body = body.encode() if isinstance(body, str) else (body or b"")
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        origin = self.headers.get("Origin")
        if origin and not self.server.options.no_cors:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")
            if self.headers.get("Access-Control-Request-Private-Network") == "true":
                self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        error = ""
        if status >= 400 and body[:1] == b"{":
            try:
                error = " " + json.loads(body).get("error", "")
            except ValueError:
                pass
            self.server.store.stats["errors"][error.strip()] += 1
        path = urllib.parse.urlsplit(self.path).path  # never the query: codes, states, user codes
        log(f"{self.command} {path}{self.note} -> {status}{error}")

    def respond_json(self, status, document, headers=None):
        self.respond(status, json.dumps(document), {"Cache-Control": "no-store", "Pragma": "no-cache",
                                                    **(headers or {})}, "application/json")

    def respond_page(self, status, body):
        self.respond(status, PAGE.format(body=body), {"Cache-Control": "no-store"}, "text/html; charset=utf-8")

    def respond_oauthlib(self, headers, body, status):
        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
        self.respond(status, body or "", headers, "application/json" if body else None)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 65536:
            raise ValueError("body too large")
        return self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def dispatch(self):
        self.note = ""
        server = self.server
        path = urllib.parse.urlsplit(self.path).path
        server.store.stats["requests"][f"{self.command} {path}"] += 1
        routes = {
            "/.well-known/oauth-authorization-server": ("GET", self.metadata),
            "/.well-known/openid-configuration": ("GET", self.metadata),
            "/authorize": ("GET", self.authorize),
            "/token": ("POST", self.token),
            "/device_authorization": ("POST", self.device_authorization),
            "/device": (("GET", "POST"), self.device),
            "/revoke": ("POST", self.revoke),
            "/control/stats": ("GET", self.stats),
            "/control/revoke-refresh-tokens": ("POST", self.revoke_all),
        }
        if path not in routes:
            return self.respond_json(404, {"error": "not_found"})
        methods, handler = routes[path]
        if self.command not in methods:
            return self.respond_json(405, {"error": "invalid_request", "error_description": "method not allowed"},
                                     {"Allow": methods if isinstance(methods, str) else ", ".join(methods)})
        try:
            body = self.read_body() if self.command == "POST" else ""
        except ValueError as e:
            return self.respond_json(400, {"error": "invalid_request", "error_description": str(e)})
        with server.store.lock:
            handler(path, body)

    def uri(self):
        return self.server.issuer + self.path

    def oauth_headers(self):
        return {k: v for k, v in self.headers.items()}

    # -- endpoints
    def metadata(self, path, body):
        mode = self.server.options.metadata
        wanted = {"rfc8414": "/.well-known/oauth-authorization-server",
                  "missing-token-endpoint": "/.well-known/oauth-authorization-server",
                  "openid": "/.well-known/openid-configuration"}.get(mode)
        if mode == "none" or (mode != "both" and path != wanted):
            return self.respond_json(404, {"error": "not_found"})
        issuer = self.server.issuer
        document = {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "device_authorization_endpoint": issuer + "/device_authorization",
            "revocation_endpoint": issuer + "/revoke",
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_post", "client_secret_basic"] if self.server.options.client_secret else ["none"],
            "scopes_supported": sorted(set(self.server.options.default_scope.split())),
        }
        if mode == "missing-token-endpoint":
            del document["token_endpoint"]
        self.respond_json(200, document, {"Cache-Control": "max-age=60"})

    def authorize(self, path, body):
        server = self.server
        oauth = server.oauth
        try:
            scopes, info = oauth.validate_authorization_request(self.uri(), "GET", None, self.oauth_headers())
        except errors.FatalClientError as e:
            # RFC 6749 §4.1.2.1: a bad client_id or redirect_uri is never redirected to
            return self.respond_page(e.status_code, f"<p>Refused: <b>{html.escape(e.error)}</b>: "
                                     f"{html.escape(e.description or '')}</p>")
        except errors.OAuth2Error as e:
            # the redirect_uri is good: the other errors go back to the client
            return self.respond(302, "", {"Location": common.add_params_to_uri(e.redirect_uri or "", e.twotuples)})
        server.store.stats["consent"]["refused" if server.options.refuse_consent else "approved"] += 1
        if server.options.refuse_consent:
            error = errors.AccessDeniedError(description="The user refused to sign in.", state=info.get("state"))
            return self.respond(302, "", {"Location": common.add_params_to_uri(info["redirect_uri"], error.twotuples)})
        headers, _, status = oauth.create_authorization_response(
            self.uri(), "GET", None, self.oauth_headers(), scopes, {"user": server.options.user})
        self.respond(status, "", {"Location": headers["Location"]})

    def token(self, path, body):
        grant = (urllib.parse.parse_qs(body).get("grant_type") or ["(none)"])[0]
        known = ("authorization_code", "refresh_token", DEVICE_GRANT, "(none)")
        self.note = f" grant_type={grant if grant in known else '(other)'}"
        headers, body, status = self.server.oauth.create_token_response(
            self.uri(), "POST", body, self.oauth_headers())
        self.respond_oauthlib(headers, body, status)

    def revoke(self, path, body):
        self.respond_oauthlib(*self.server.oauth.create_revocation_response(
            self.uri(), "POST", body, self.oauth_headers()))

    def device_authorization(self, path, body):
        server = self.server
        request = common.Request(self.uri(), "POST", body, self.oauth_headers())
        v = server.oauth.validator
        ok = v.authenticate_client(request) if v.client_authentication_required(request) \
            else v.authenticate_client_id(request.client_id, request)
        if not ok:
            return self.respond_json(401, {"error": "invalid_client"})
        device_code = secrets.token_urlsafe(32)
        user_code = new_user_code()
        scopes = (request.scope or server.options.default_scope).split()
        server.store.devices[device_code] = {
            "client_id": request.client_id, "user_code": user_code, "scopes": scopes, "status": "pending",
            "user": None, "expires": time.monotonic() + server.options.device_expires,
            "interval": server.options.interval, "last_poll": None, "polls": 0}
        verification = server.issuer + "/device"
        self.respond_json(200, {
            "device_code": device_code, "user_code": user_code, "verification_uri": verification,
            "verification_uri_complete": verification + "?" + urllib.parse.urlencode({"user_code": user_code}),
            "expires_in": server.options.device_expires, "interval": server.options.interval})

    def device(self, path, body):
        """The person's side of RFC 8628: enter (or follow a link with) the user code."""
        fields = urllib.parse.parse_qs(body or urllib.parse.urlsplit(self.path).query)
        entered = (fields.get("user_code") or [""])[0]
        if not entered:
            return self.respond_page(200, '<form method="post"><label>Code shown by the application: '
                                          '<input name="user_code" autofocus></label> <button>Continue</button></form>')
        wanted = normalise_user_code(entered)
        now = time.monotonic()
        for device in self.server.store.devices.values():
            if normalise_user_code(device["user_code"]) == wanted and device["status"] == "pending" \
                    and now < device["expires"]:
                user = self.server.options.user
                self.server.store.stats["consent"]["refused" if self.server.options.refuse_consent else "approved"] += 1
                if self.server.options.refuse_consent:
                    device["status"] = "denied"
                    return self.respond_page(200, f"<p>Refused: {html.escape(user)} did not allow the "
                                                  "application to sign in.</p>")
                device["status"], device["user"] = "approved", user
                return self.respond_page(200, f"<p>Signed in as <b>{html.escape(user)}</b>. You may close "
                                              "this window and return to the application.</p>")
        self.respond_page(404, "<p>Unknown, used or expired code.</p>")

    def stats(self, path, body):
        self.respond_json(200, self.server.store.stats)

    def revoke_all(self, path, body):
        user = (urllib.parse.parse_qs(body).get("user") or [None])[0]
        store = self.server.store
        doomed = [t for t, g in store.refresh_tokens.items() if user is None or g["user"] == user]
        for token in doomed:
            del store.refresh_tokens[token]
        store.stats["revoked_refresh_tokens"] += len(doomed)
        self.respond_json(200, {"revoked": len(doomed)})


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        # the handshake happens here, in the connection's own thread: a silent client blocks no one
        request.settimeout(Handler.timeout)
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"TLS handshake with {client_address[0]}:{client_address[1]} failed: {e}")
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ca-cert", help="the CA that signs this server's certificate (PEM) ...")
    parser.add_argument("--ca-key", help="... and its private key (PEM); without them a CA is made")
    parser.add_argument("--token-key-file", help="sign access tokens with this key (hex; default: a new key, "
                                                 "token_key_file in the JSON line)")
    parser.add_argument("--user", default="demo", help="the person who signs in (default demo)")
    parser.add_argument("--client-id", dest="client_ids", action="append",
                        help="a known client (repeatable; default smtpc-test)")
    parser.add_argument("--client-secret", help="clients must authenticate with this secret (post or basic)")
    parser.add_argument("--default-scope", default="smtp", help="the scope when a client asks for none")
    parser.add_argument("--token-lifetime", type=int, default=3600, help="expires_in of access tokens")
    parser.add_argument("--token-size", type=int, default=0,
                        help="pad access tokens to at least this many characters (real ones are 1-2 KB, too "
                             "long for AUTH with an initial response: RFC 4954 §4)")
    parser.add_argument("--no-refresh-token", action="store_true", help="token responses carry no refresh_token")
    parser.add_argument("--revoke-refresh", action="store_true", help="every refresh token is refused (invalid_grant)")
    parser.add_argument("--refuse-consent", action="store_true",
                        help="the user refuses: /authorize redirects with access_denied, device codes are denied")
    parser.add_argument("--interval", type=int, default=5, help="device flow polling interval (s)")
    parser.add_argument("--slow-down-increment", type=int, default=5,
                        help="seconds added to the interval on slow_down (RFC 8628: 5)")
    parser.add_argument("--device-expires", type=int, default=600, help="device code lifetime (s)")
    parser.add_argument("--auto-approve-device", action="store_true",
                        help="approve a device code by itself after --approve-after polls")
    parser.add_argument("--approve-after", type=int, default=1,
                        help="polls answered authorization_pending before auto-approval (default 1)")
    parser.add_argument("--metadata", default="rfc8414",
                        choices=["rfc8414", "openid", "both", "missing-token-endpoint", "none"],
                        help="where metadata is served: the RFC 8414 path, only the OpenID path, both, the RFC "
                             "8414 path without token_endpoint, or nowhere")
    parser.add_argument("--no-cors", action="store_true",
                        help="no Access-Control-Allow-Origin: browsers may not read the answers")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when standard input closes (tests: the server dies with its test)")
    options = parser.parse_args()
    options.client_ids = options.client_ids or ["smtpc-test"]
    if bool(options.ca_cert) != bool(options.ca_key):
        parser.error("--ca-cert and --ca-key go together")

    state = tempfile.mkdtemp(prefix="smtpc-oauth-")
    try:
        certs = make_certificates(state, "valid", (options.ca_cert, options.ca_key) if options.ca_cert else None)
        if options.token_key_file:
            key_file = options.token_key_file
            key = read_token_key(key_file)
        else:
            key_file = os.path.join(state, "token.key")
            key = make_token_key(key_file)
    except (OSError, ValueError) as e:
        shutil.rmtree(state, ignore_errors=True)
        parser.error(str(e))

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certs["server.pem"], certs["server.key"])
    httpd = TLSServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]
    httpd.tls = tls
    httpd.options = options
    httpd.issuer = f"https://127.0.0.1:{port}"
    httpd.store = Store()
    httpd.oauth = OAuthServer(options, httpd.store, key)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    # ready only once a SIGTERM would be handled: a test may stop the server at once
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(json.dumps({"issuer": httpd.issuer, "port": port, "ca_file": certs["ca.pem"], "token_key_file": key_file,
                      "metadata_url": httpd.issuer + "/.well-known/" + (
                          "openid-configuration" if options.metadata == "openid" else "oauth-authorization-server"),
                      "client_id": options.client_ids[0], "user": options.user,
                      "scope": options.default_scope, "state": state}), flush=True)

    if options.exit_on_stdin_eof:
        def watch():
            while os.read(sys.stdin.fileno(), 4096):  # not sys.stdin.buffer: its lock aborts the exit
                pass
            stop.set()
        threading.Thread(target=watch, daemon=True).start()
    while not stop.wait(0.5):
        pass
    httpd.shutdown()
    httpd.server_close()
    shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
