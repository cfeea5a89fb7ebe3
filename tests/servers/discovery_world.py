#!/usr/bin/python3
"""A small Internet on loopback for settings discovery (issue #15): DNS, autoconfig over HTTPS
and HTTP, an ISPDB mirror, and the sandbox SMTP servers the discovered settings lead to.

  /usr/bin/python3 tests/servers/discovery_world.py [--exit-on-stdin-eof] [--dns-address A] ...

Needs root (or CAP_NET_BIND_SERVICE): a DNS client such as Qt's QDnsLookup only asks port 53,
and autoconfig URLs have no port, so the servers listen on the usual ports, each on an address of
its own picked at random in 127.0.0.0/8 (all of it is loopback on Linux; --dns-address,
--web-address and --http-address force them). Without the privilege it exits with status 77.

  dns   127.53.X.Y port 53, UDP and TCP: authoritative for the zones below (dnslib). Names outside
        .test are REFUSED; an unknown name under .test is NXDOMAIN, an existing name (or empty
        non-terminal) without the asked type is NOERROR with no answer; both carry the zone's SOA.
  web   127.43.X.Y port 443, HTTPS (certificate from the sandbox's CA): the documents below, chosen
        by Host header; 404 for everything else. Port 80 is closed there.
        Control requests, to https://WEB-ADDRESS/ itself (Host: the address, not a name):
        GET /control/log       JSON list of the requests to web and http, oldest first:
                               {"scheme", "host", "path", "query", "method", "status"}
        GET /control/dns-log   JSON list of the DNS questions: {"name", "type", "protocol"}
        POST /control/reset-log  empties both (the /control requests are never logged)
  http  127.80.X.Y port 80, plain HTTP only (port 443 is closed there): plainhttp.test's document.
  smtp  127.0.0.1, the sandbox (sandbox.py, user demo:demo): its "tls" (implicit TLS, like 465)
        and "starttls" (like 587) ports; its certificate also names every SMTP host below.

The world (TLS, STARTTLS: the sandbox's ports; -> smtp: an A record for 127.0.0.1, -> web: for
the web address, and so on). Autoconfig documents are Thunderbird's clientConfig v1.1, with an
IMAP incomingServer before the outgoingServer entries.

  domain           what it has                                         discovery should find
  ---------------  --------------------------------------------------  --------------------------
  own.test         autoconfig.own.test -> web:                          smtp.own.test TLS, from the
                     https://autoconfig.own.test/mail/config-v1.1.xml    domain's own autoconfig
                     outgoing: smtp.own.test TLS SSL, then
                     smtp.own.test STARTTLS STARTTLS (%EMAILADDRESS%)
                   smtp.own.test -> smtp
  wellknown.test   wellknown.test -> web:                               mail.wellknown.test
                     https://wellknown.test/.well-known/autoconfig/      STARTTLS
                     mail/config-v1.1.xml: mail.wellknown.test STARTTLS
                   mail.wellknown.test -> smtp
  srv.test         _submissions._tcp SRV 0 1 TLS mail.srv.test.        mail.srv.test TLS (RFC 8314
                   _submission._tcp  SRV 10 1 STARTTLS mail.srv.test.    before RFC 6186)
                   mail.srv.test -> smtp; no autoconfig name (NXDOMAIN)
  hosted.test      MX 10 mx1.mailhost.test. and nothing else            smtp.mailhost.test TLS, from
  mailhost.test    ISPDB https://ispdb.test/v1.1/mailhost.test:          the ISPDB by the MX's
                     smtp.mailhost.test TLS SSL, authentication OAuth2   domain; OAuth or password
                     and password-cleartext, an <oAuth2> block
                   smtp.mailhost.test, mx1.mailhost.test -> smtp
  empty.test       SOA and NS only: no autoconfig, SRV, MX, smtp./mail.  nothing (and what was tried)
  plainhttp.test   autoconfig.plainhttp.test -> http (port 80 only):     smtp.plainhttp.test
                     http://autoconfig.plainhttp.test/mail/               STARTTLS, only once the
                     config-v1.1.xml: smtp.plainhttp.test STARTTLS        person accepts plain HTTP
                   smtp.plainhttp.test -> smtp
  notoffered.test  _submissions._tcp SRV 0 0 0 . (not offered)           mail.notoffered.test
                   _submission._tcp  SRV 0 0 STARTTLS                     STARTTLS
                     mail.notoffered.test.; mail.notoffered.test -> smtp
  spoof.test       _submissions._tcp SRV 0 0 TLS smtp.elsewhere.test.    smtp.elsewhere.test TLS,
                   smtp.elsewhere.test -> smtp (certificate valid)       with a warning: another
                                                                         domain, from plain DNS
  sandbox.test     autoconfig.sandbox.test -> web: smtp.sandbox.test    smtp.sandbox.test; the
                     STARTTLS STARTTLS, then TLS SSL (%EMAILLOCALPART%,  demo logs in as demo
                     so demo@sandbox.test logs in as demo)
                   _submissions._tcp SRV 0 1 TLS smtp.sandbox.test.
                   _submission._tcp  SRV 10 1 STARTTLS smtp.sandbox.test.
                   smtp.sandbox.test -> smtp
  ispdb.test       ispdb.test -> web (the ISPDB mirror, --ispdb https://ispdb.test/v1.1/)
  test             ns.test -> dns (the NS of every zone)

When everything listens it prints one JSON line:
  {"dns": ADDR, "web": ADDR, "http": ADDR, "ispdb": "https://ispdb.test/v1.1/", "ca_file": PATH,
   "smtp": {"host": "127.0.0.1", "tls": P, "starttls": P}, "maildir": PATH, "domains": {DOMAIN: KIND},
   "sandbox": {the sandbox's own JSON line}}
--sandbox-arg passes options to that sandbox (scripts/demo uses the world's sandbox as its own).
then serves until SIGTERM/SIGINT (or, with --exit-on-stdin-eof, until its standard input closes).
A client reaches the names through --dns-server DNS and, for connections, --resolve HOST:PORT:ADDR
(the system resolver knows nothing of .test), trusting ca_file.
"""
import argparse
import errno
import http.server
import json
import os
import random
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from xml.sax.saxutils import escape

from dnslib import QTYPE, RCODE, RR
from dnslib.server import DNSLogger, DNSServer, UDPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sandbox import make_certificates  # noqa: E402

SMTP_ADDRESS = "127.0.0.1"  # the sandbox's
TTL = 60
ISPDB = "https://ispdb.test/v1.1/"
EXIT_NO_PRIVILEGE = 77  # ctest's SKIP_RETURN_CODE for the self-test

# Every zone this server is authoritative for: each has an SOA and NS ns.test.
ZONES = ["test", "own.test", "wellknown.test", "srv.test", "hosted.test", "mailhost.test", "empty.test",
         "plainhttp.test", "notoffered.test", "spoof.test", "elsewhere.test", "sandbox.test", "ispdb.test"]

# Address records: which server answers at each name. The certificates are made from this table too
# (the sandbox's names every "smtp" host, the web server's every "web" host).
ADDRESSES = [
    ("ns.test", "dns"),
    ("ispdb.test", "web"),
    ("autoconfig.own.test", "web"),
    ("smtp.own.test", "smtp"),
    ("wellknown.test", "web"),
    ("mail.wellknown.test", "smtp"),
    ("mail.srv.test", "smtp"),
    ("mx1.mailhost.test", "smtp"),
    ("smtp.mailhost.test", "smtp"),
    ("autoconfig.plainhttp.test", "http"),
    ("smtp.plainhttp.test", "smtp"),
    ("mail.notoffered.test", "smtp"),
    ("smtp.elsewhere.test", "smtp"),
    ("autoconfig.sandbox.test", "web"),
    ("smtp.sandbox.test", "smtp"),
]

# The other records, in zone-file syntax; {tls} and {starttls} are the sandbox's ports.
# RFC 2782 (and RFC 6186 §3): a target of "." means the service is decidedly not offered there.
RECORDS = """
_submissions._tcp.srv.test.         SRV  0 1 {tls}      mail.srv.test.
_submission._tcp.srv.test.          SRV  10 1 {starttls} mail.srv.test.
hosted.test.                        MX   10 mx1.mailhost.test.
_submissions._tcp.notoffered.test.  SRV  0 0 0 .
_submission._tcp.notoffered.test.   SRV  0 0 {starttls} mail.notoffered.test.
_submissions._tcp.spoof.test.       SRV  0 0 {tls}      smtp.elsewhere.test.
_submissions._tcp.sandbox.test.     SRV  0 1 {tls}      smtp.sandbox.test.
_submission._tcp.sandbox.test.      SRV  10 1 {starttls} smtp.sandbox.test.
"""

# Outgoing servers of the documents: (host, port name, socketType, username, [authentication]).
PASSWORD = ["password-cleartext"]
AUTOCONFIG = "/mail/config-v1.1.xml"
WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"
DOCUMENTS = [  # (scheme, host, path, provider domain, display name, outgoing servers, extra XML)
    ("https", "autoconfig.own.test", AUTOCONFIG, "own.test", "Own Test Mail",
     [("smtp.own.test", "tls", "SSL", "%EMAILADDRESS%", PASSWORD),
      ("smtp.own.test", "starttls", "STARTTLS", "%EMAILADDRESS%", PASSWORD)], ""),
    ("https", "wellknown.test", WELL_KNOWN, "wellknown.test", "Well-known Test Mail",
     [("mail.wellknown.test", "starttls", "STARTTLS", "%EMAILADDRESS%", PASSWORD)], ""),
    ("https", "ispdb.test", "/v1.1/mailhost.test", "mailhost.test", "Mailhost (hosted mail)",
     [("smtp.mailhost.test", "tls", "SSL", "%EMAILADDRESS%", ["OAuth2", "password-cleartext"])],
     # as the real ISPDB's entries for OAuth providers have it; login.mailhost.test does not exist
     "  <oAuth2>\n"
     "    <issuer>login.mailhost.test</issuer>\n"
     "    <scope>https://mail.mailhost.test/smtp</scope>\n"
     "    <authURL>https://login.mailhost.test/oauth2/authorize</authURL>\n"
     "    <tokenURL>https://login.mailhost.test/oauth2/token</tokenURL>\n"
     "  </oAuth2>\n"),
    ("http", "autoconfig.plainhttp.test", AUTOCONFIG, "plainhttp.test", "Plain HTTP Test Mail",
     [("smtp.plainhttp.test", "starttls", "STARTTLS", "%EMAILADDRESS%", PASSWORD)], ""),
    ("https", "autoconfig.sandbox.test", AUTOCONFIG, "sandbox.test", "SMTPc sandbox",
     [("smtp.sandbox.test", "starttls", "STARTTLS", "%EMAILLOCALPART%", PASSWORD),
      ("smtp.sandbox.test", "tls", "SSL", "%EMAILLOCALPART%", PASSWORD)], ""),
]

# What each test domain is an example of (the JSON line's "domains").
DOMAINS = {
    "own.test": "autoconfig",
    "wellknown.test": "well-known",
    "srv.test": "srv",
    "hosted.test": "mx-ispdb",
    "empty.test": "nothing",
    "plainhttp.test": "autoconfig-plain-http",
    "notoffered.test": "srv-not-offered",
    "spoof.test": "srv-other-domain",
    "sandbox.test": "demo",
}


def log(message):
    print(f"discovery_world: {message}", file=sys.stderr, flush=True)


def client_config(domain, display_name, outgoing, ports, extra):
    """A Thunderbird clientConfig v1.1 document (an IMAP server first: parsers must skip it)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<clientConfig version="1.1">',
             f'  <emailProvider id="{escape(domain)}">',
             f"    <domain>{escape(domain)}</domain>",
             f"    <displayName>{escape(display_name)}</displayName>",
             f"    <displayShortName>{escape(domain.split('.')[0])}</displayShortName>",
             '    <incomingServer type="imap">',
             f"      <hostname>imap.{escape(domain)}</hostname>",
             "      <port>993</port>",
             "      <socketType>SSL</socketType>",
             "      <username>%EMAILADDRESS%</username>",
             "      <authentication>password-cleartext</authentication>",
             "    </incomingServer>"]
    for host, port, socket_type, username, authentications in outgoing:
        lines += ['    <outgoingServer type="smtp">',
                  f"      <hostname>{escape(host)}</hostname>",
                  f"      <port>{ports[port]}</port>",
                  f"      <socketType>{socket_type}</socketType>",
                  f"      <username>{username}</username>"]
        lines += [f"      <authentication>{a}</authentication>" for a in authentications]
        lines += ["    </outgoingServer>"]
    lines += ["  </emailProvider>", extra.rstrip("\n"), "</clientConfig>", ""]
    return "\n".join(line for line in lines if line).encode() + b"\n"


class Zones:
    """dnslib resolver: authoritative answers from the tables above (RFC 1034 §4.3.2, simplified:
    one server for every zone, so no referrals; RFC 2308: negative answers carry the SOA)."""

    def __init__(self):
        self.records = {}  # lower-case name with the final dot -> [RR]
        self.log = []
        self.lock = threading.Lock()

    def load(self, addresses, ports):
        """The records, once every server's address and port is known (the servers bind first)."""
        for zone in ZONES:
            self._add(RR.fromZone(f"{zone}. SOA ns.test. hostmaster.{zone}. 1 3600 600 86400 {TTL}\n"
                                  f"{zone}. NS ns.test.", ttl=TTL))
        for name, server in ADDRESSES:
            self._add(RR.fromZone(f"{name}. A {addresses[server]}", ttl=TTL))
        self._add(RR.fromZone(RECORDS.format(**ports), ttl=TTL))

    def _add(self, rrs):
        for rr in rrs:
            self.records.setdefault(str(rr.rname).lower(), []).append(rr)

    def _soa(self, name):
        """The SOA of the zone that holds name (the longest zone name that ends it)."""
        labels = name.rstrip(".").split(".")
        for i in range(len(labels)):
            apex = ".".join(labels[i:]) + "."
            for rr in self.records.get(apex, []):
                if rr.rtype == QTYPE.SOA:
                    return rr
        return None

    def resolve(self, request, handler):
        reply = self._answer(request, handler)
        log(f"dns {handler.protocol} {request.q.qname if request.questions else '(no question)'} "
            f"{QTYPE.get(request.q.qtype) if request.questions else ''}: {RCODE.get(reply.header.rcode)}, "
            f"{len(reply.rr)} answer(s)")
        return reply

    def _answer(self, request, handler):
        reply = request.reply(ra=0, aa=1)
        if not request.questions:
            reply.header.rcode = RCODE.FORMERR
            return reply
        question = request.q
        name = str(question.qname).lower()
        with self.lock:
            self.log.append({"name": name, "type": QTYPE.get(question.qtype), "protocol": handler.protocol})
        if name != "test." and not name.endswith(".test."):
            reply.header.aa = 0
            reply.header.rcode = RCODE.REFUSED
            return reply
        if name in self.records:
            answers = [rr for rr in self.records[name] if question.qtype in (rr.rtype, QTYPE.ANY)]
            for rr in answers:
                reply.add_answer(rr)
            for rr in answers:  # the targets' addresses, as a real server would add them
                target = rr.rdata.target if rr.rtype == QTYPE.SRV else rr.rdata.label if rr.rtype == QTYPE.MX else None
                for glue in self.records.get(str(target).lower(), []) if target else []:
                    if glue.rtype == QTYPE.A:
                        reply.add_ar(glue)
            if not answers:
                reply.add_auth(self._soa(name))
        elif any(other.endswith("." + name) for other in self.records):
            reply.add_auth(self._soa(name))  # an empty non-terminal such as _tcp.srv.test: no data
        else:
            reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(self._soa(name))
        return reply


class WebServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tls = None  # set once the certificate is made: the socket is bound first, to know its address

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # not HTTPServer's: its getfqdn() asks DNS
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        request.settimeout(Handler.timeout)
        if not self.tls:
            return super().finish_request(request, client_address)
        # the handshake happens here, in the connection's own thread: a silent client blocks no one
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log(f"TLS handshake with {client_address[0]}:{client_address[1]} failed: {e}")
            return
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            connection.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SMTPc-discovery-world"
    timeout = 10

    def log_message(self, format, *args):
        log(f"{self.server.scheme} {self.address_string()} {format % args}")

    def _respond(self, status, body, content_type="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _control(self, url):
        world = self.server.world
        if self.server.scheme != "https":
            return False
        if self.command == "GET" and url.path == "/control/log":
            with world.lock:
                body = json.dumps(world.requests)
        elif self.command == "GET" and url.path == "/control/dns-log":
            with world.zones.lock:
                body = json.dumps(world.zones.log)
        elif self.command == "POST" and url.path == "/control/reset-log":
            with world.lock:
                world.requests.clear()
            with world.zones.lock:
                world.zones.log.clear()
            body = "[]"
        else:
            return False
        self._respond(200, body.encode() + b"\n", "application/json")
        return True

    def _serve(self):
        url = urllib.parse.urlsplit(self.path)
        host = self.headers.get("Host", "").lower()
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host  # drop a port
        # the test's own requests name the address; a client under test, a name (and is logged)
        if host == self.server.server_address[0] and self._control(url):
            return
        document = self.server.world.documents.get((self.server.scheme, host, url.path))
        status = 200 if document is not None and self.command in ("GET", "HEAD") else 404
        with self.server.world.lock:
            self.server.world.requests.append({"scheme": self.server.scheme, "host": host, "path": url.path,
                                               "query": url.query, "method": self.command, "status": status})
        if status == 200:
            self._respond(200, document, "text/xml; charset=utf-8")
        else:
            self._respond(404, b"not found\n")

    def do_GET(self):
        self._serve()

    def do_HEAD(self):
        self._serve()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 65536))
        self._serve()


class World:
    def __init__(self, documents, zones):
        self.documents = documents
        self.zones = zones
        self.requests = []
        self.lock = threading.Lock()


def random_address(second_octet):
    return f"127.{second_octet}.{random.randint(1, 254)}.{random.randint(1, 254)}"


def bind_somewhere(what, second_octet, forced, bind):
    """bind(address) at the forced address, or at random ones until one is free."""
    for attempt in range(1 if forced else 40):
        address = forced or random_address(second_octet)
        try:
            return address, bind(address)
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM):
                log(f"cannot listen for {what} on {address}: {e}: ports below 1024 need root, "
                    "CAP_NET_BIND_SERVICE or sysctl net.ipv4.ip_unprivileged_port_start")
                sys.exit(EXIT_NO_PRIVILEGE)
            if forced or attempt == 39:
                raise SystemExit(f"discovery_world: cannot listen for {what} on {address}: {e}")


class ExclusiveUDPServer(UDPServer):
    def server_bind(self):
        self.allow_reuse_address = False  # with SO_REUSEADDR, two UDP sockets may share address and port
        super().server_bind()


def bind_dns(address, resolver):
    logger = DNSLogger(log="-request,-reply,-truncated,+error", prefix=False,
                       logf=lambda line: log(f"dns {line}"))
    udp = DNSServer(resolver, address=address, port=53, logger=logger, server=ExclusiveUDPServer)
    try:
        tcp = DNSServer(resolver, address=address, port=53, tcp=True, logger=logger)
    except OSError:
        udp.server.server_close()
        raise
    return [udp, tcp]


def bind_web(address, port, scheme, world):
    server = WebServer((address, port), Handler)
    server.scheme = scheme
    server.world = world
    if scheme == "http":  # the plain-HTTP-only host: nothing may answer on 443 there
        with socket.socket() as probe:
            if probe.connect_ex((address, 443)) == 0:
                server.server_close()
                raise OSError(errno.EADDRINUSE, f"something listens on {address}:443")
    return server


def start_sandbox(names, extra_arguments=()):
    process = subprocess.Popen([sys.executable, os.path.join(HERE, "sandbox.py"), "--exit-on-stdin-eof",
                                "--names", ",".join(names)] + list(extra_arguments),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        raise SystemExit("discovery_world: the sandbox did not start (its error is above)")
    return process, json.loads(line)


def stop_sandbox(process):
    process.stdin.close()  # its --exit-on-stdin-eof
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dns-address", help="the DNS server's address (default: a free 127.53.X.Y)")
    parser.add_argument("--web-address", help="the HTTPS server's address (default: a free 127.43.X.Y)")
    parser.add_argument("--http-address", help="the plain HTTP server's address (default: a free 127.80.X.Y)")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when standard input closes (tests: the server dies with its test)")
    parser.add_argument("--sandbox-arg", action="append", default=[], metavar="ARG",
                        help="pass ARG to the sandbox (repeatable; scripts/demo: --oauth, --maildir DIR)")
    options = parser.parse_args()

    zones = Zones()
    world = World({}, zones)
    dns_address, dns_servers = bind_somewhere("DNS", 53, options.dns_address,
                                              lambda address: bind_dns(address, zones))
    servers = [server.server for server in dns_servers]  # socketserver instances, all of them
    running = []
    try:
        web_address, web = bind_somewhere("HTTPS", 43, options.web_address,
                                          lambda address: bind_web(address, 443, "https", world))
        servers.append(web)
        http_address, plain = bind_somewhere("HTTP", 80, options.http_address,
                                             lambda address: bind_web(address, 80, "http", world))
        servers.append(plain)
        addresses = {"dns": dns_address, "web": web_address, "http": http_address, "smtp": SMTP_ADDRESS}
        state = tempfile.mkdtemp(prefix="smtpc-discovery-")
        sandbox = None
        try:
            sandbox, smtp = start_sandbox([name for name, server in ADDRESSES if server == "smtp"],
                                          options.sandbox_arg)
            ports = {"tls": smtp["tls"], "starttls": smtp["starttls"]}
            certs = make_certificates(state, "valid", (smtp["ca_file"], smtp["ca_key"]),
                                      extra_names=[name for name, server in ADDRESSES if server == "web"]
                                      + [web_address])
            web.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            web.tls.load_cert_chain(certs["server.pem"], certs["server.key"])
            zones.load(addresses, ports)
            world.documents = {(scheme, host, path): client_config(domain, name, outgoing, ports, extra)
                               for scheme, host, path, domain, name, outgoing, extra in DOCUMENTS}
            for server in servers:
                threading.Thread(target=server.serve_forever, daemon=True).start()
                running.append(server)

            # ready only once a SIGTERM would be handled: a test may stop the world at once
            stop = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            print(json.dumps({"dns": dns_address, "web": web_address, "http": http_address, "ispdb": ISPDB,
                              "ca_file": smtp["ca_file"],
                              "smtp": {"host": smtp["host"], "tls": smtp["tls"], "starttls": smtp["starttls"]},
                              "maildir": smtp["maildir"], "domains": DOMAINS,
                              "sandbox": smtp}), flush=True)
            if options.exit_on_stdin_eof:
                def watch():
                    while os.read(sys.stdin.fileno(), 4096):  # not sys.stdin.buffer: its lock aborts the exit
                        pass
                    stop.set()
                threading.Thread(target=watch, daemon=True).start()
            while not stop.wait(0.5):
                pass
        finally:
            if sandbox:
                stop_sandbox(sandbox)
            shutil.rmtree(state, ignore_errors=True)
    finally:
        for server in servers:
            if server in running:  # shutdown() waits for a serve_forever() that never began
                server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
