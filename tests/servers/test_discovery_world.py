#!/usr/bin/python3
"""Self-test of the discovery world (discovery_world.py): started as the other tests start it, then
asked with dnslib's client (UDP and TCP, port 53 of its DNS address), http.client over TLS
verified against the sandbox CA (the web address, with each name as SNI and Host) and smtplib.

  /usr/bin/python3 tests/servers/test_discovery_world.py [-v] [TestClass.test_name]

Needs root, as the world does (ports 53, 80, 443); without it, exits 77 (ctest: skipped).
"""
import http.client
import json
import os
import random
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ElementTree

from dnslib import QTYPE, RCODE, DNSRecord

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
EXIT_NO_PRIVILEGE = 77


class NoPrivilege(Exception):
    pass


def start(*args):
    """The world's process and its JSON line; stdin kept open (--exit-on-stdin-eof), stderr to a file."""
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([PYTHON, os.path.join(HERE, "discovery_world.py"), "--exit-on-stdin-eof", *args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
    line = process.stdout.readline()
    if not line:
        code = process.wait(10)
        process.stdin.close()
        process.stdout.close()
        log.seek(0)
        text = log.read()
        log.close()
        if code == EXIT_NO_PRIVILEGE:
            raise NoPrivilege(text)
        raise RuntimeError(f"discovery_world.py {' '.join(args)} did not start (exit {code}):\n{text}")
    return process, json.loads(line), log


def stop(process, log):
    process.stdin.close()  # the world's --exit-on-stdin-eof
    try:
        code = process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    process.stdout.close()
    log.close()
    return code


def refused(address, port):
    with socket.socket() as probe:
        probe.settimeout(3)
        return probe.connect_ex((address, port)) != 0


# DNS: (name, type, rcode, answers); answers in presentation form with the world's {web}, {http},
# {tls}, {starttls} filled in. Every row is asked over UDP and over TCP.
NOERROR, NXDOMAIN, REFUSED = RCODE.NOERROR, RCODE.NXDOMAIN, RCODE.REFUSED
DNS_ROWS = [
    ("autoconfig.own.test", "A", NOERROR, ["{web}"]),
    ("smtp.own.test", "A", NOERROR, ["127.0.0.1"]),
    ("SMTP.Own.Test", "A", NOERROR, ["127.0.0.1"]),  # names are case-insensitive (RFC 4343)
    ("smtp.own.test", "AAAA", NOERROR, []),
    ("own.test", "A", NOERROR, []),
    ("_submissions._tcp.own.test", "SRV", NXDOMAIN, []),
    ("wellknown.test", "A", NOERROR, ["{web}"]),
    ("mail.wellknown.test", "A", NOERROR, ["127.0.0.1"]),
    ("autoconfig.wellknown.test", "A", NXDOMAIN, []),
    ("_submissions._tcp.srv.test", "SRV", NOERROR, ["0 1 {tls} mail.srv.test."]),
    ("_submission._tcp.srv.test", "SRV", NOERROR, ["10 1 {starttls} mail.srv.test."]),
    ("_tcp.srv.test", "SRV", NOERROR, []),  # an empty non-terminal exists
    ("mail.srv.test", "A", NOERROR, ["127.0.0.1"]),
    ("autoconfig.srv.test", "A", NXDOMAIN, []),
    ("srv.test", "A", NOERROR, []),
    ("hosted.test", "MX", NOERROR, ["10 mx1.mailhost.test."]),
    ("hosted.test", "A", NOERROR, []),
    ("autoconfig.hosted.test", "A", NXDOMAIN, []),
    ("_submissions._tcp.hosted.test", "SRV", NXDOMAIN, []),
    ("smtp.hosted.test", "A", NXDOMAIN, []),
    ("mx1.mailhost.test", "A", NOERROR, ["127.0.0.1"]),
    ("smtp.mailhost.test", "A", NOERROR, ["127.0.0.1"]),
    ("ispdb.test", "A", NOERROR, ["{web}"]),
    ("empty.test", "SOA", NOERROR, ["ns.test. hostmaster.empty.test. 1 3600 600 86400 60"]),
    ("empty.test", "NS", NOERROR, ["ns.test."]),
    ("empty.test", "MX", NOERROR, []),
    ("empty.test", "A", NOERROR, []),
    ("autoconfig.empty.test", "A", NXDOMAIN, []),
    ("_submissions._tcp.empty.test", "SRV", NXDOMAIN, []),
    ("_submission._tcp.empty.test", "SRV", NXDOMAIN, []),
    ("smtp.empty.test", "A", NXDOMAIN, []),
    ("mail.empty.test", "A", NXDOMAIN, []),
    ("autoconfig.plainhttp.test", "A", NOERROR, ["{http}"]),
    ("smtp.plainhttp.test", "A", NOERROR, ["127.0.0.1"]),
    ("_submissions._tcp.notoffered.test", "SRV", NOERROR, ["0 0 0 ."]),
    ("_submission._tcp.notoffered.test", "SRV", NOERROR, ["0 0 {starttls} mail.notoffered.test."]),
    ("mail.notoffered.test", "A", NOERROR, ["127.0.0.1"]),
    ("_submissions._tcp.spoof.test", "SRV", NOERROR, ["0 0 {tls} smtp.elsewhere.test."]),
    ("smtp.elsewhere.test", "A", NOERROR, ["127.0.0.1"]),
    ("autoconfig.sandbox.test", "A", NOERROR, ["{web}"]),
    ("smtp.sandbox.test", "A", NOERROR, ["127.0.0.1"]),
    ("_submissions._tcp.sandbox.test", "SRV", NOERROR, ["0 1 {tls} smtp.sandbox.test."]),
    ("_submission._tcp.sandbox.test", "SRV", NOERROR, ["10 1 {starttls} smtp.sandbox.test."]),
    ("ns.test", "A", NOERROR, ["{dns}"]),
    ("nowhere.test", "A", NXDOMAIN, []),
    ("example.com", "A", REFUSED, []),
    ("localhost", "A", REFUSED, []),
]

AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"
# Documents: (scheme, host, path with query, [(hostname, port, socketType, username, [authentication])]).
DOCUMENT_ROWS = [
    ("https", "autoconfig.own.test", AUTOCONFIG + "?emailaddress=alice%40own.test",
     [("smtp.own.test", "{tls}", "SSL", "%EMAILADDRESS%", ["password-cleartext"]),
      ("smtp.own.test", "{starttls}", "STARTTLS", "%EMAILADDRESS%", ["password-cleartext"])]),
    ("https", "wellknown.test", WELL_KNOWN,
     [("mail.wellknown.test", "{starttls}", "STARTTLS", "%EMAILADDRESS%", ["password-cleartext"])]),
    ("https", "ispdb.test", "/v1.1/mailhost.test",
     [("smtp.mailhost.test", "{tls}", "SSL", "%EMAILADDRESS%", ["OAuth2", "password-cleartext"])]),
    ("http", "autoconfig.plainhttp.test", AUTOCONFIG + "?emailaddress=alice%40plainhttp.test",
     [("smtp.plainhttp.test", "{starttls}", "STARTTLS", "%EMAILADDRESS%", ["password-cleartext"])]),
    ("https", "autoconfig.sandbox.test", AUTOCONFIG + "?emailaddress=demo%40sandbox.test",
     [("smtp.sandbox.test", "{starttls}", "STARTTLS", "%EMAILLOCALPART%", ["password-cleartext"]),
      ("smtp.sandbox.test", "{tls}", "SSL", "%EMAILLOCALPART%", ["password-cleartext"])]),
]
# Not there: (scheme, host, path).
MISSING_ROWS = [
    ("https", "autoconfig.own.test", WELL_KNOWN),
    ("https", "own.test", WELL_KNOWN),
    ("https", "wellknown.test", AUTOCONFIG),
    ("https", "autoconfig.wellknown.test", AUTOCONFIG),
    ("https", "ispdb.test", "/v1.1/hosted.test"),
    ("https", "ispdb.test", "/v1.1/own.test"),
    ("https", "ispdb.test", "/v1.1/empty.test"),
    ("https", "ispdb.test", "/v1.1/mailhost.test/"),
    ("https", "ispdb.test", "/control/log"),  # not a control request: that is on the address only
    ("https", "ispdb.test", "/"),
    ("https", "autoconfig.plainhttp.test", AUTOCONFIG),  # that document is on plain HTTP only
    ("https", "autoconfig.srv.test", AUTOCONFIG),
    ("https", "autoconfig.empty.test", AUTOCONFIG),
    ("http", "autoconfig.own.test", AUTOCONFIG),
    ("http", "autoconfig.sandbox.test", AUTOCONFIG),
]
SMTP_NAMES = ["smtp.own.test", "mail.wellknown.test", "mail.srv.test", "smtp.mailhost.test", "mx1.mailhost.test",
              "smtp.plainhttp.test", "mail.notoffered.test", "smtp.elsewhere.test", "smtp.sandbox.test"]
WEB_NAMES = ["autoconfig.own.test", "wellknown.test", "ispdb.test", "autoconfig.sandbox.test"]


class WorldTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.process, cls.info, cls.log = start()
        cls.tls = ssl.create_default_context(cafile=cls.info["ca_file"])
        cls.values = {"dns": cls.info["dns"], "web": cls.info["web"], "http": cls.info["http"],
                      "tls": cls.info["smtp"]["tls"], "starttls": cls.info["smtp"]["starttls"]}

    @classmethod
    def tearDownClass(cls):
        code = stop(cls.process, cls.log)
        assert code == 0, f"the world exited with {code}"

    def ask(self, name, qtype, tcp=False):
        packet = DNSRecord.question(name, qtype).send(self.info["dns"], 53, tcp=tcp, timeout=5)
        return DNSRecord.parse(packet)

    def fetch(self, scheme, host, path, method="GET", sni=None):
        """(status, body) from the world's web (https) or http address, with Host host and TLS
        verified for sni (default: host)."""
        if scheme == "https":
            connection = http.client.HTTPSConnection(self.info["web"], 443, context=self.tls, timeout=10)
            raw = socket.create_connection((self.info["web"], 443), timeout=10)
            connection.sock = self.tls.wrap_socket(raw, server_hostname=sni or host)
        else:
            connection = http.client.HTTPConnection(self.info["http"], 80, timeout=10)
        try:
            connection.request(method, path, headers={"Host": host})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def control(self, path, method="GET"):
        status, body = self.fetch("https", self.info["web"], path, method)
        self.assertEqual(status, 200, path)
        return json.loads(body)

    def test_json_line(self):
        self.assertEqual(self.info["ispdb"], "https://ispdb.test/v1.1/")
        self.assertEqual(self.info["smtp"]["host"], "127.0.0.1")
        self.assertTrue(os.path.exists(self.info["ca_file"]))
        self.assertEqual(set(self.info["domains"]), {"own.test", "wellknown.test", "srv.test", "hosted.test",
                                                     "empty.test", "plainhttp.test", "notoffered.test",
                                                     "spoof.test", "sandbox.test"})
        addresses = [self.info[k] for k in ("dns", "web", "http")]
        self.assertEqual(len(set(addresses)), 3, addresses)
        for address in addresses:
            self.assertTrue(address.startswith("127."), address)

    def test_dns(self):
        for tcp in (False, True):
            for name, qtype, rcode, answers in DNS_ROWS:
                with self.subTest(name=name, type=qtype, tcp=tcp):
                    reply = self.ask(name, qtype, tcp)
                    self.assertEqual(RCODE.get(reply.header.rcode), RCODE.get(rcode))
                    self.assertEqual(sorted(str(rr.rdata) for rr in reply.rr),
                                     sorted(a.format(**self.values) for a in answers))
                    for rr in reply.rr:
                        self.assertEqual(QTYPE.get(rr.rtype), qtype)
                        self.assertEqual(str(rr.rname).lower(), name.lower() + ".")
                    if rcode != REFUSED:
                        self.assertEqual(reply.header.aa, 1, "authoritative")
                    if rcode == NXDOMAIN or (rcode == NOERROR and not answers):
                        # RFC 2308 §3: a negative answer carries the zone's SOA (its TTL bounds caching)
                        self.assertEqual([QTYPE.get(rr.rtype) for rr in reply.auth], ["SOA"])

    def test_srv_and_mx_answers_carry_their_targets_addresses(self):
        reply = self.ask("_submissions._tcp.srv.test", "SRV")
        self.assertEqual([(str(rr.rname), str(rr.rdata)) for rr in reply.ar], [("mail.srv.test.", "127.0.0.1")])
        reply = self.ask("hosted.test", "MX")
        self.assertEqual([(str(rr.rname), str(rr.rdata)) for rr in reply.ar], [("mx1.mailhost.test.", "127.0.0.1")])

    def outgoing_servers(self, body):
        root = ElementTree.fromstring(body)
        self.assertEqual(root.tag, "clientConfig")
        self.assertEqual(root.get("version"), "1.1")
        provider = root.find("emailProvider")
        self.assertIsNotNone(provider.find("incomingServer"), "an incomingServer for parsers to skip")
        return [(server.findtext("hostname"), server.findtext("port"), server.findtext("socketType"),
                 server.findtext("username"), [a.text for a in server.findall("authentication")])
                for server in provider.findall("outgoingServer")]

    def test_documents(self):
        for scheme, host, path, outgoing in DOCUMENT_ROWS:
            with self.subTest(url=f"{scheme}://{host}{path}"):
                status, body = self.fetch(scheme, host, path)
                self.assertEqual(status, 200)
                expected = [(h, str(p).format(**self.values), s, u, a) for h, p, s, u, a in outgoing]
                self.assertEqual(self.outgoing_servers(body), expected)

    def test_ispdb_document_names_its_provider_and_oauth(self):
        status, body = self.fetch("https", "ispdb.test", "/v1.1/mailhost.test")
        root = ElementTree.fromstring(body)
        self.assertEqual([d.text for d in root.findall("emailProvider/domain")], ["mailhost.test"])
        self.assertIsNotNone(root.find("oAuth2/tokenURL"))

    def test_everything_else_is_404(self):
        for scheme, host, path in MISSING_ROWS:
            with self.subTest(url=f"{scheme}://{host}{path}"):
                # names without an address are not in the certificate: asked as the address itself
                sni = host if host in WEB_NAMES else self.info["web"]
                self.assertEqual(self.fetch(scheme, host, path, sni=sni)[0], 404)

    def test_closed_ports(self):
        self.assertTrue(refused(self.info["http"], 443), "plainhttp.test has no HTTPS")
        self.assertTrue(refused(self.info["web"], 80), "the HTTPS host has no plain HTTP")

    def test_web_certificate(self):
        for name in WEB_NAMES:
            with self.subTest(name=name):
                self.assertEqual(self.fetch("https", name, "/nothing")[0], 404)  # the handshake verified
        for name in ["autoconfig.srv.test", "smtp.own.test", "autoconfig.plainhttp.test"]:
            with self.subTest(name=name), self.assertRaises(ssl.SSLCertVerificationError):
                self.fetch("https", name, AUTOCONFIG)

    def test_smtp_certificate_names_every_smtp_host(self):
        for name in SMTP_NAMES:
            with self.subTest(name=name):
                with socket.create_connection(("127.0.0.1", self.info["smtp"]["tls"]), timeout=10) as raw, \
                        self.tls.wrap_socket(raw, server_hostname=name) as connection:
                    self.assertTrue(connection.recv(512).startswith(b"220"))
        with self.assertRaises(ssl.SSLCertVerificationError):
            with socket.create_connection(("127.0.0.1", self.info["smtp"]["tls"]), timeout=10) as raw:
                self.tls.wrap_socket(raw, server_hostname="smtp.empty.test").close()

    def test_starttls_and_login(self):
        client = smtplib.SMTP(self.info["smtp"]["host"], self.info["smtp"]["starttls"], timeout=10)
        try:
            client._host = "smtp.sandbox.test"  # the name STARTTLS verifies (smtplib uses the connect host)
            client.starttls(context=self.tls)
            self.assertEqual(client.login("demo", "demo")[0], 235)
        finally:
            client.quit()

    def test_request_log(self):
        self.control("/control/reset-log", "POST")
        self.assertEqual(self.control("/control/log"), [])
        self.assertEqual(self.control("/control/dns-log"), [])
        self.fetch("https", "autoconfig.own.test", AUTOCONFIG + "?emailaddress=alice%40own.test")
        self.fetch("http", "autoconfig.plainhttp.test", AUTOCONFIG)
        self.fetch("https", "ispdb.test", "/v1.1/nowhere.test")
        self.ask("_submission._tcp.srv.test", "SRV", tcp=True)
        self.assertEqual(self.control("/control/log"), [
            {"scheme": "https", "host": "autoconfig.own.test", "path": AUTOCONFIG,
             "query": "emailaddress=alice%40own.test", "method": "GET", "status": 200},
            {"scheme": "http", "host": "autoconfig.plainhttp.test", "path": AUTOCONFIG, "query": "",
             "method": "GET", "status": 200},
            {"scheme": "https", "host": "ispdb.test", "path": "/v1.1/nowhere.test", "query": "", "method": "GET",
             "status": 404}])
        self.assertEqual(self.control("/control/dns-log"),
                         [{"name": "_submission._tcp.srv.test.", "type": "SRV", "protocol": "tcp"}])
        self.control("/control/reset-log", "POST")
        self.assertEqual(self.control("/control/log"), [])


class LifecycleTest(unittest.TestCase):
    def test_two_worlds_at_once_then_stopped_both_ways(self):
        first, first_info, first_log = start()
        try:
            second, second_info, second_log = start("--dns-address", "127.53.0.1")
        except BaseException:
            stop(first, first_log)
            raise
        self.assertEqual(second_info["dns"], "127.53.0.1")
        self.assertNotEqual(first_info["dns"], second_info["dns"])
        for info in (first_info, second_info):
            reply = DNSRecord.parse(DNSRecord.question("ns.test", "A").send(info["dns"], 53, timeout=5))
            self.assertEqual([str(rr.rdata) for rr in reply.rr], [info["dns"]])

        first.send_signal(signal.SIGTERM)
        self.assertEqual(first.wait(15), 0)
        self.assertEqual(stop(first, first_log), 0)
        self.assertEqual(stop(second, second_log), 0)  # standard input closed
        for info in (first_info, second_info):
            for address, port in [(info["dns"], 53), (info["web"], 443), (info["http"], 80),
                                  (info["smtp"]["host"], info["smtp"]["tls"])]:
                self.assertTrue(refused(address, port), f"{address}:{port} still answers")
            self.assertFalse(os.path.exists(info["ca_file"]), "the sandbox's state is removed")

    def test_busy_forced_address_is_an_error(self):
        # even when the holder allows address reuse: two UDP sockets with SO_REUSEADDR could share it
        blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            blocker.bind(("127.53.0.2", 53))
            started = time.monotonic()
            try:
                process, _, log = start("--dns-address", "127.53.0.2")
            except RuntimeError as failure:
                self.assertIn("cannot listen for DNS on 127.53.0.2", str(failure))
            else:
                stop(process, log)
                self.fail("the world started on an address another DNS server holds")
            self.assertLess(time.monotonic() - started, 10)
        finally:
            blocker.close()


def may_listen_on_port_53():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((f"127.53.{random.randint(1, 254)}.{random.randint(1, 254)}", 53))
        except PermissionError:
            return False
        except OSError:
            pass  # in use: that is the world's problem, it picks another
    return True


if __name__ == "__main__":
    if not may_listen_on_port_53():
        print("skipped: listening on ports 53, 80 and 443 needs root or CAP_NET_BIND_SERVICE", file=sys.stderr)
        sys.exit(EXIT_NO_PRIVILEGE)
    unittest.main()
