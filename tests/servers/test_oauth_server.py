#!/usr/bin/python3
"""Self-test of the sandbox's OAuth 2 authorization server (oauth_server.py) and of the sandbox
SMTP server's XOAUTH2/OAUTHBEARER (sandbox.py): both started on free ports, as the other tests
start them, driven with urllib (TLS verified against the one CA they share) and smtplib.

  /usr/bin/python3 tests/servers/test_oauth_server.py [-v] [TestClass.test_name]
"""
import base64
import hashlib
import json
import os
import secrets
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sandbox import read_token_key, sign_token  # noqa: E402

PYTHON = "/usr/bin/python3"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REDIRECT = "http://127.0.0.1:{port}/callback"


def start(script, *args):
    """A server process and its JSON line; stdin is kept open (--exit-on-stdin-eof) and stderr
    goes to a file the test can read."""
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([PYTHON, os.path.join(HERE, script), "--exit-on-stdin-eof", *args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        log.seek(0)
        raise RuntimeError(f"{script} {' '.join(args)} did not start:\n{log.read()}")
    return process, json.loads(line), log


def stop(process, log=None):
    process.stdin.close()  # the server's --exit-on-stdin-eof
    if process.poll() is None:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.stdout.close()
    if log:
        log.close()


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None  # the test is the browser: it reads Location itself


class Client:
    """HTTPS to one authorization server, verified against the CA."""

    def __init__(self, info, ca_file):
        self.issuer = info["issuer"]
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_file)), NoRedirect)

    def request(self, path, data=None, headers=None, method=None):
        url = path if path.startswith("https:") else self.issuer + path
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        request = urllib.request.Request(url, body, headers or {}, method=method)
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as e:
            response = e
        with response:
            raw = response.read()
            document = None
            if raw and response.headers.get("Content-Type", "").startswith("application/json"):
                document = json.loads(raw)
            return response.status, response.headers, document

    def post(self, path, data, headers=None):
        return self.request(path, data, headers)

    def authorize(self, challenge, port=50123, state="st-1", client_id="smtpc-test", method="S256", **extra):
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT.format(port=port),
                 "scope": "smtp", "state": state, "code_challenge": challenge, "code_challenge_method": method}
        query.update(extra)
        query = {k: v for k, v in query.items() if v is not None}
        status, headers, _ = self.request("/authorize?" + urllib.parse.urlencode(query))
        location = headers.get("Location")
        parameters = {}
        if location:
            parameters = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).items()}
        return status, location, parameters

    def exchange(self, code, verifier, port=50123, client_id="smtpc-test", **extra):
        return self.post("/token", {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                    "redirect_uri": REDIRECT.format(port=port), "code_verifier": verifier, **extra})

    def sign_in(self, port=50123, **extra):
        verifier, challenge = pkce()
        status, location, parameters = self.authorize(challenge, port=port, **extra)
        assert status == 302 and "code" in parameters, (status, location)
        status, _, token = self.exchange(parameters["code"], verifier, port=port)
        assert status == 200, token
        return token

    def refresh(self, refresh_token, client_id="smtpc-test"):
        return self.post("/token", {"grant_type": "refresh_token", "refresh_token": refresh_token,
                                    "client_id": client_id})

    def device(self, client_id="smtpc-test"):
        status, _, document = self.post("/device_authorization", {"client_id": client_id, "scope": "smtp"})
        assert status == 200, document
        return document

    def poll(self, device_code, client_id="smtpc-test"):
        return self.post("/token", {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id})


class OAuthTest(unittest.TestCase):
    """The sandbox first (--oauth makes the token key), then the authorization server under the
    sandbox's CA and with its key: one CA file covers SMTP and HTTPS, as a client needs."""

    @classmethod
    def setUpClass(cls):
        cls.processes = []
        cls.sandbox_process, cls.sandbox, cls.sandbox_log = start("sandbox.py", "--oauth")
        cls.processes.append((cls.sandbox_process, cls.sandbox_log))
        cls.addClassCleanup(cls.stop_all)
        cls.ca_file = cls.sandbox["ca_file"]
        cls.key = read_token_key(cls.sandbox["oauth_key_file"])
        cls.auth_process, cls.auth, cls.auth_log = cls.start_auth("--interval", "1")
        cls.client = Client(cls.auth, cls.ca_file)
        cls.secrets_seen = set()  # codes, tokens and verifiers that must never be logged

    @classmethod
    def start_auth(cls, *args):
        process, info, log = start("oauth_server.py", "--ca-cert", cls.sandbox["ca_file"],
                                   "--ca-key", cls.sandbox["ca_key"],
                                   "--token-key-file", cls.sandbox["oauth_key_file"], *args)
        cls.processes.append((process, log))
        return process, info, log

    @classmethod
    def stop_all(cls):
        for process, log in cls.processes:
            stop(process, log)

    def other_server(self, *args):
        """An authorization server with other options, stopped at the end of the test."""
        process, info, log = self.start_auth(*args)
        self.addCleanup(stop, process, log)
        return Client(info, self.ca_file), info

    def remember(self, *values):
        self.secrets_seen.update(v for v in values if v)

    # ---- metadata (RFC 8414)
    def test_metadata(self):
        status, headers, document = self.client.request("/.well-known/oauth-authorization-server")
        self.assertEqual(status, 200)
        issuer = self.auth["issuer"]
        self.assertRegex(issuer, r"^https://127\.0\.0\.1:\d+$")
        self.assertEqual(document["issuer"], issuer)
        for name, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
                           ("device_authorization_endpoint", "/device_authorization"),
                           ("revocation_endpoint", "/revoke")]:
            self.assertEqual(document[name], issuer + path)
        self.assertEqual(document["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(document["response_types_supported"], ["code"])
        self.assertIn(DEVICE_GRANT, document["grant_types_supported"])
        self.assertIn("refresh_token", document["grant_types_supported"])
        self.assertEqual(self.client.request("/.well-known/openid-configuration")[0], 404)

    def test_metadata_openid_only_and_missing_endpoint(self):
        openid, _ = self.other_server("--metadata", "openid")
        self.assertEqual(openid.request("/.well-known/oauth-authorization-server")[0], 404)
        status, _, document = openid.request("/.well-known/openid-configuration")
        self.assertEqual(status, 200)
        self.assertEqual(document["token_endpoint"], openid.issuer + "/token")
        broken, _ = self.other_server("--metadata", "missing-token-endpoint")
        status, _, document = broken.request("/.well-known/oauth-authorization-server")
        self.assertEqual(status, 200)
        self.assertNotIn("token_endpoint", document)
        self.assertIn("authorization_endpoint", document)

    # ---- authorization code + PKCE (RFC 6749 §4.1, RFC 7636, RFC 8252 §7.3)
    def test_code_flow(self):
        verifier, challenge = pkce()
        status, location, parameters = self.client.authorize(challenge, port=41234, state="abc-123")
        self.assertEqual(status, 302)
        self.assertTrue(location.startswith("http://127.0.0.1:41234/callback?"), location)
        self.assertEqual(parameters["state"], "abc-123")
        code = parameters["code"]
        status, headers, token = self.client.exchange(code, verifier, port=41234)
        self.assertEqual(status, 200, token)
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertEqual(token["token_type"], "Bearer")
        self.assertEqual(token["expires_in"], 3600)
        self.assertEqual(token["scope"], "smtp")
        self.assertTrue(token["access_token"] and token["refresh_token"])
        self.remember(code, verifier, token["access_token"], token["refresh_token"])
        # a code works once; the replay also takes back the refresh token it gave (RFC 6749 §4.1.2)
        status, _, error = self.client.exchange(code, verifier, port=41234)
        self.assertEqual((status, error.get("error")), (400, "invalid_grant"))
        self.assertEqual(self.client.refresh(token["refresh_token"])[2].get("error"), "invalid_grant")
        # any loopback port is a good redirect (the client listens where it can)
        self.assertEqual(self.client.authorize(challenge, port=8123)[0], 302)

    def test_code_exchange_refusals(self):
        verifier, challenge = pkce()
        _, _, parameters = self.client.authorize(challenge)
        code = parameters["code"]
        self.remember(code, verifier)
        wrong = pkce()[0]
        status, _, error = self.client.exchange(code, wrong)
        self.assertEqual((status, error.get("error")), (400, "invalid_grant"), "a wrong code_verifier")
        status, _, error = self.client.post("/token", {"grant_type": "authorization_code", "code": code,
                                                       "client_id": "smtpc-test",
                                                       "redirect_uri": REDIRECT.format(port=50123)})
        self.assertEqual((status, error.get("error")), (400, "invalid_request"), "no code_verifier")
        status, _, error = self.client.exchange(code, verifier, port=50124)
        self.assertEqual((status, error.get("error")), (400, "invalid_grant"), "another redirect_uri")
        status, _, error = self.client.exchange(code, verifier, client_id="someone-else")
        self.assertEqual((status, error.get("error")), (401, "invalid_client"))
        status, _, error = self.client.exchange("no-such-code", verifier)
        self.assertEqual((status, error.get("error")), (400, "invalid_grant"))
        # the refusals did not use the code up
        self.assertEqual(self.client.exchange(code, verifier)[0], 200)

    def test_authorize_refusals(self):
        _, challenge = pkce()
        # errors about the request itself go back to the (good) redirect URI, with the state
        for what, kwargs in [("no challenge", dict(challenge=None, method=None)),
                             ("plain", dict(challenge=challenge, method="plain")),
                             ("no method (plain by default)", dict(challenge=challenge, method=None)),
                             ("not a SHA-256", dict(challenge="short", method="S256"))]:
            status, location, parameters = self.client.authorize(**kwargs)
            self.assertEqual(status, 302, what)
            self.assertEqual(parameters.get("error"), "invalid_request", what)
            self.assertEqual(parameters.get("state"), "st-1", what)
            self.assertNotIn("code", parameters, what)
        # a bad client or redirect URI is never redirected to (RFC 6749 §4.1.2.1)
        status, location, _ = self.client.authorize(challenge, client_id="unknown-client")
        self.assertEqual((status, location), (400, None))
        for redirect in ["https://127.0.0.1:5000/", "http://example.com:5000/", "http://192.168.1.2:5000/",
                         "urn:ietf:wg:oauth:2.0:oob"]:
            query = urllib.parse.urlencode({"response_type": "code", "client_id": "smtpc-test", "state": "s",
                                            "redirect_uri": redirect, "code_challenge": challenge,
                                            "code_challenge_method": "S256"})
            status, headers, _ = self.client.request("/authorize?" + query)
            self.assertEqual((status, headers.get("Location")), (400, None), redirect)

    def test_refused_consent(self):
        refusing, _ = self.other_server("--refuse-consent")
        _, challenge = pkce()
        status, location, parameters = refusing.authorize(challenge, state="keep-me")
        self.assertEqual(status, 302)
        self.assertEqual(parameters["error"], "access_denied")
        self.assertEqual(parameters["state"], "keep-me")
        self.assertNotIn("code", parameters)

    def test_client_secret(self):
        confidential, _ = self.other_server("--client-secret", "s3cret-value")
        verifier, challenge = pkce()
        _, _, parameters = confidential.authorize(challenge)
        code = parameters["code"]
        self.remember(code, verifier, "s3cret-value")
        status, headers, error = confidential.exchange(code, verifier)
        self.assertEqual((status, error.get("error")), (401, "invalid_client"), "no secret")
        status, _, error = confidential.exchange(code, verifier, client_secret="wrong")
        self.assertEqual((status, error.get("error")), (401, "invalid_client"), "a wrong secret")
        basic = "Basic " + base64.b64encode(b"smtpc-test:s3cret-value").decode()
        status, _, token = confidential.post("/token", {"grant_type": "authorization_code", "code": code,
                                                        "redirect_uri": REDIRECT.format(port=50123),
                                                        "code_verifier": verifier}, {"Authorization": basic})
        self.assertEqual(status, 200, token)
        self.remember(token["access_token"], token["refresh_token"])
        status, _, token = confidential.post("/token", {"grant_type": "refresh_token", "client_id": "smtpc-test",
                                                        "client_secret": "s3cret-value",
                                                        "refresh_token": token["refresh_token"]})
        self.assertEqual(status, 200, token)
        self.remember(token["access_token"], token["refresh_token"])

    # ---- refresh tokens: rotation and revocation
    def test_refresh_rotation_and_revocation(self):
        first = self.client.sign_in()
        status, _, second = self.client.refresh(first["refresh_token"])
        self.assertEqual(status, 200, second)
        self.assertNotEqual(second["refresh_token"], first["refresh_token"])
        self.assertNotEqual(second["access_token"], first["access_token"])
        self.assertEqual(second["scope"], "smtp")
        status, _, error = self.client.refresh(first["refresh_token"])
        self.assertEqual((status, error.get("error")), (400, "invalid_grant"), "a rotated refresh token")
        # RFC 7009 revocation
        status, _, _ = self.client.post("/revoke", {"token": second["refresh_token"],
                                                    "token_type_hint": "refresh_token", "client_id": "smtpc-test"})
        self.assertEqual(status, 200)
        self.assertEqual(self.client.refresh(second["refresh_token"])[2].get("error"), "invalid_grant")
        # the control endpoint: revoke what a client keeps without the test knowing it
        third = self.client.sign_in()
        status, _, answer = self.client.post("/control/revoke-refresh-tokens", {"user": "demo"})
        self.assertEqual(status, 200)
        self.assertGreaterEqual(answer["revoked"], 1)
        self.assertEqual(self.client.refresh(third["refresh_token"])[2].get("error"), "invalid_grant")
        self.remember(*(t[k] for t in (first, second, third) for k in ("access_token", "refresh_token")))

    def test_no_refresh_token_and_lifetime_and_revoke_flag(self):
        short, _ = self.other_server("--no-refresh-token", "--token-lifetime", "120")
        token = short.sign_in()
        self.assertNotIn("refresh_token", token)
        self.assertEqual(token["expires_in"], 120)
        revoking, _ = self.other_server("--revoke-refresh")
        token = revoking.sign_in()
        self.assertEqual(revoking.refresh(token["refresh_token"])[2].get("error"), "invalid_grant")

    # ---- device authorization grant (RFC 8628)
    def test_device_flow(self):
        device = self.client.device()
        self.assertRegex(device["user_code"], r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
        self.assertEqual(device["verification_uri"], self.auth["issuer"] + "/device")
        self.assertEqual(device["verification_uri_complete"],
                         self.auth["issuer"] + "/device?user_code=" + device["user_code"])
        self.assertEqual(device["interval"], 1)
        self.assertEqual(device["expires_in"], 600)
        self.remember(device["device_code"], device["user_code"])
        status, _, error = self.client.poll(device["device_code"])
        self.assertEqual((status, error.get("error")), (400, "authorization_pending"))
        status, _, error = self.client.poll(device["device_code"])  # at once: too fast
        self.assertEqual((status, error.get("error")), (400, "slow_down"))
        # the person types the code (lower case, no dash: RFC 8628 §6.1 says be lenient)
        typed = device["user_code"].replace("-", "").lower()
        status, _, _ = self.client.post("/device", {"user_code": typed})
        self.assertEqual(status, 200)
        time.sleep(1.5)  # the interval is now 1 + 5 (RFC 8628 §3.5): still too fast, and it grows again
        self.assertEqual(self.client.poll(device["device_code"])[2].get("error"), "slow_down")
        time.sleep(11.2)  # 1 + 5 + 5
        status, _, token = self.client.poll(device["device_code"])
        self.assertEqual(status, 200, token)
        self.assertEqual((token["token_type"], token["scope"]), ("Bearer", "smtp"))
        self.assertIn("refresh_token", token)
        self.remember(token["access_token"], token["refresh_token"])
        self.assertEqual(self.client.poll(device["device_code"])[2].get("error"), "invalid_grant", "used once")
        self.assertEqual(self.client.post("/device", {"user_code": device["user_code"]})[0], 404)

    def test_device_auto_approval_and_refusal(self):
        auto, _ = self.other_server("--interval", "1", "--auto-approve-device", "--approve-after", "2")
        device = auto.device()
        self.remember(device["device_code"])
        errors = []
        for _ in range(3):
            status, _, answer = auto.poll(device["device_code"])
            errors.append(answer.get("error", status))
            time.sleep(1.1)
        self.assertEqual(errors, ["authorization_pending", "authorization_pending", 200])
        refusing, _ = self.other_server("--interval", "1", "--refuse-consent")
        device = refusing.device()
        self.remember(device["device_code"])
        self.assertEqual(refusing.request("/device?user_code=" + device["user_code"])[0], 200)
        status, _, error = refusing.poll(device["device_code"])
        self.assertEqual((status, error.get("error")), (400, "access_denied"))

    def test_device_code_expires(self):
        quick, _ = self.other_server("--interval", "1", "--device-expires", "1")
        device = quick.device()
        self.assertEqual(device["expires_in"], 1)
        self.remember(device["device_code"])
        time.sleep(1.3)
        status, _, error = quick.poll(device["device_code"])
        self.assertEqual((status, error.get("error")), (400, "expired_token"))
        self.assertEqual(quick.post("/device", {"user_code": device["user_code"]})[0], 404)
        status, _, error = quick.poll("no-such-device-code")
        self.assertEqual((status, error.get("error")), (400, "invalid_grant"))

    # ---- CORS, for the page on another loopback origin
    def test_cors(self):
        origin = {"Origin": "http://127.0.0.1:8080"}
        status, headers, _ = self.client.request("/.well-known/oauth-authorization-server", headers=origin)
        self.assertEqual(headers["Access-Control-Allow-Origin"], "http://127.0.0.1:8080")
        status, headers, _ = self.client.request("/token", method="OPTIONS", headers={
            **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["Access-Control-Allow-Origin"], "http://127.0.0.1:8080")
        self.assertIn("POST", headers["Access-Control-Allow-Methods"])
        self.assertIn("content-type", headers["Access-Control-Allow-Headers"].lower())
        status, headers, _ = self.client.post("/token", {"grant_type": "refresh_token", "refresh_token": "x",
                                                         "client_id": "smtpc-test"}, origin)
        self.assertEqual(headers["Access-Control-Allow-Origin"], "http://127.0.0.1:8080", "errors too")
        closed, _ = self.other_server("--no-cors")
        for method, path in [(None, "/.well-known/oauth-authorization-server"), ("OPTIONS", "/token")]:
            _, headers, _ = closed.request(path, method=method, headers=origin)
            self.assertNotIn("Access-Control-Allow-Origin", headers)

    def test_stats(self):
        before = self.client.request("/control/stats")[2]
        self.client.sign_in()
        after = self.client.request("/control/stats")[2]
        self.assertEqual(after["issued"]["authorization_code"], before["issued"].get("authorization_code", 0) + 1)
        self.assertEqual(after["consent"]["approved"], before["consent"].get("approved", 0) + 1)

    # ---- the sandbox SMTP server takes the tokens
    def smtp(self, listener="tls"):
        context = ssl.create_default_context(cafile=self.ca_file)
        if listener == "tls":
            connection = smtplib.SMTP_SSL("127.0.0.1", self.sandbox["tls"], context=context, timeout=30)
        else:
            connection = smtplib.SMTP("127.0.0.1", self.sandbox["starttls"], timeout=30)
            connection.ehlo()
            self.assertNotIn("auth", connection.esmtp_features, "no AUTH before TLS")
            connection.starttls(context=context)
        connection.ehlo()
        self.addCleanup(connection.close)
        return connection

    @staticmethod
    def xoauth2(user, token):
        return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()

    @staticmethod
    def oauthbearer(user, token):
        return base64.b64encode(f"n,a={user},\x01host=127.0.0.1\x01port=465\x01auth=Bearer {token}\x01\x01"
                                .encode()).decode()

    def test_smtp_accepts_issued_tokens(self):
        token = self.client.sign_in()["access_token"]
        self.remember(token)
        connection = self.smtp("tls")
        self.assertEqual(connection.esmtp_features["auth"].split(), ["LOGIN", "OAUTHBEARER", "PLAIN", "XOAUTH2"])
        self.assertEqual(connection.docmd("AUTH", "XOAUTH2 " + self.xoauth2("demo", token))[0], 235)
        connection = self.smtp("starttls")
        self.assertEqual(connection.docmd("AUTH", "OAUTHBEARER " + self.oauthbearer("demo", token))[0], 235)
        connection.sendmail("demo@sandbox.test", ["someone@sandbox.test"], b"Subject: hi\r\n\r\nhello\r\n")
        records = sorted((f for f in os.listdir(self.sandbox["maildir"]) if f.endswith(".json")),
                         key=lambda f: int(f.split(".")[0]))
        with open(os.path.join(self.sandbox["maildir"], records[-1])) as f:
            self.assertEqual(json.load(f)["auth"], ["OAUTHBEARER", "demo"])
        # without an initial response: 334, then the message
        connection = self.smtp("tls")
        self.assertEqual(connection.docmd("AUTH", "XOAUTH2")[0], 334)
        self.assertEqual(connection.docmd(self.xoauth2("demo", token))[0], 235)
        # a device-flow token is as good
        connection = self.smtp("tls")
        self.assertEqual(connection.docmd("AUTH", "OAUTHBEARER " + self.oauthbearer("demo", token))[0], 235)

    def test_smtp_token_sizes(self):
        # the sandbox's own tokens fit AUTH with an initial response (512 octets, RFC 4954 §4) even
        # for a long address and Microsoft's scope
        wordy, _ = self.other_server("--user", "someone.with.a.long.name@sandbox.smtpc.test")
        token = wordy.sign_in(scope="https://outlook.office.com/SMTP.Send offline_access")["access_token"]
        self.remember(token)
        user = "someone.with.a.long.name@sandbox.smtpc.test"
        for mechanism, blob in [("XOAUTH2", self.xoauth2(user, token)), ("OAUTHBEARER", self.oauthbearer(user, token))]:
            line = f"AUTH {mechanism} {blob}"
            self.assertLessEqual(len(line) + 2, 512, mechanism)
            self.assertEqual(self.smtp().docmd(line)[0], 235, mechanism)
        # a provider-sized token: too long to go inline, so after an empty 334 (up to 12288 octets)
        big, _ = self.other_server("--token-size", "2500")
        token = big.sign_in()["access_token"]
        self.remember(token)
        self.assertGreaterEqual(len(token), 2500)
        for mechanism, blob in [("XOAUTH2", self.xoauth2("demo", token)), ("OAUTHBEARER", self.oauthbearer("demo", token))]:
            connection = self.smtp()
            self.assertEqual(connection.docmd(f"AUTH {mechanism} {blob}")[0], 500, "inline: the line is too long")
            self.assertEqual(connection.docmd("AUTH", mechanism), (334, b""))
            self.assertEqual(connection.docmd(blob)[0], 235, mechanism)
        connection = self.smtp()
        self.assertEqual(connection.docmd("AUTH", "XOAUTH2")[0], 334)
        self.assertEqual(connection.docmd("A" * 13000)[0], 500, "over RFC 4954's 12288")
        self.assertEqual(connection.docmd("AUTH", "XOAUTH2 " + self.xoauth2("demo", self.client.sign_in()["access_token"]))[0], 235)

    def refused(self, mechanism, message, listener="tls"):
        connection = self.smtp(listener)
        code, challenge = connection.docmd("AUTH", f"{mechanism} {message}")
        self.assertEqual(code, 334)
        error = json.loads(base64.b64decode(challenge))
        code, text = connection.docmd("AQ==" if mechanism == "OAUTHBEARER" else "")
        self.assertEqual(code, 535)
        self.assertTrue(text.startswith(b"5.7.8 "), text)
        return error, text

    def test_smtp_refuses_bad_tokens(self):
        good = self.client.sign_in()["access_token"]
        self.remember(good)
        now = int(time.time())
        claims = {"iss": self.auth["issuer"], "sub": "demo", "scope": "smtp", "client_id": "smtpc-test",
                  "iat": now - 7200, "exp": now - 3600, "jti": "x"}
        expired = sign_token(self.key, claims)
        forged = sign_token(b"another key, not the server's!!", {**claims, "exp": now + 3600})
        tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
        wrong_scope = sign_token(self.key, {**claims, "exp": now + 3600, "scope": "openid profile"})
        for name, token in [("expired", expired), ("forged", forged), ("tampered", tampered),
                            ("not ours", "ya29.a0AfH6SMB")]:
            error, text = self.refused("XOAUTH2", self.xoauth2("demo", token))
            self.assertEqual(error, {"status": "401", "schemes": "bearer", "scope": "smtp"}, name)
            self.assertEqual(text, b"5.7.8 Username and Password not accepted")
            error, _ = self.refused("OAUTHBEARER", self.oauthbearer("demo", token))
            self.assertEqual(error, {"status": "invalid_token", "scope": "smtp"}, name)
        error, _ = self.refused("XOAUTH2", self.xoauth2("someone-else", good))
        self.assertEqual(error["status"], "401", "another user's token")
        error, _ = self.refused("OAUTHBEARER", self.oauthbearer("someone-else", good), listener="starttls")
        self.assertEqual(error["status"], "invalid_token", "another user's token")
        error, _ = self.refused("OAUTHBEARER", self.oauthbearer("demo", wrong_scope))
        self.assertEqual(error["status"], "insufficient_scope")
        error, _ = self.refused("XOAUTH2", self.xoauth2("demo", wrong_scope))
        self.assertEqual(error["status"], "401")
        # the session goes on after a refusal: a good token still works on the same connection
        connection = self.smtp("tls")
        self.assertEqual(connection.docmd("AUTH", "XOAUTH2 " + self.xoauth2("demo", forged))[0], 334)
        self.assertEqual(connection.docmd("")[0], 535)
        self.assertEqual(connection.docmd("AUTH", "XOAUTH2 " + self.xoauth2("demo", good))[0], 235)
        # password logins are unchanged
        connection = self.smtp("tls")
        connection.login("demo", "demo")

    def test_sigterm_stops_cleanly(self):
        process, info, log = self.start_auth()
        self.addCleanup(stop, process, log)
        self.assertEqual(Client(info, self.ca_file).request("/.well-known/oauth-authorization-server")[0], 200)
        process.terminate()
        self.assertEqual(process.wait(10), 0)
        self.assertFalse(os.path.exists(info["state"]), "its temporary folder is removed")
        self.assertTrue(os.path.exists(self.sandbox["oauth_key_file"]), "a key it was given is left alone")
        process, info, log = start("sandbox.py", "--oauth")
        self.addCleanup(stop, process, log)
        process.terminate()
        self.assertEqual(process.wait(10), 0, "the sandbox too")
        self.assertFalse(os.path.exists(info["state"]))

    def test_zz_logs_hold_no_secrets(self):
        """Runs last (unittest sorts by name): every code, token and verifier the tests saw."""
        self.client.sign_in()
        self.assertTrue(self.secrets_seen)
        logs = ""
        for log in (self.auth_log, self.sandbox_log):
            log.seek(0)
            logs += log.read()
        self.assertIn("POST /token grant_type=authorization_code -> 200", logs)
        self.assertIn("AUTH XOAUTH2 for 'demo' accepted", logs)
        for value in self.secrets_seen:
            self.assertNotIn(value, logs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
