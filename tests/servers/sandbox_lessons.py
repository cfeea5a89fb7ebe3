"""What the sandbox (sandbox.py) makes learners meet: the lessons of issue 17.

One sandbox serves every lesson at once (the demo and the page start a single one), so each
behaviour is keyed by an address or by a choice no ordinary run makes, never switched on for the
whole server. --lessons turns all of them on with the addresses below, which core/src/lessons.cpp's
table uses too (tests/qt/tst_lessons.cpp runs each lesson against this server); the separate
switches give one behaviour to any address.

  lesson                 what triggers it                          the server says
  starttls-before-auth   AUTH before STARTTLS on the starttls port  530 5.7.0 Must issue a STARTTLS command first
                         (that port then lists AUTH before TLS too, so that a client skipping
                         STARTTLS tries it; --auth-before-tls)
  wrong-password         a wrong password (always on)              535 5.7.8
  greylisting            RCPT greylist@lesson.test (--greylist)    451 4.7.1 the first time a sender and
                         recipient pair is seen; accepted on the retry, then forgotten, so that
                         the next run of the lesson is greylisted again
  too-large              MAIL FROM big@lesson.test                 552 5.3.4 when SIZE= (or, without SIZE=,
                         (limit SENDER_SIZE_LIMIT octets)          the content after the dot) is larger
  relay-denied           RCPT in elsewhere.example, not logged in  554 5.7.1 Relay access denied
                         (--deny-relay DOMAIN)
  too-many-recipients    MAIL FROM crowd@lesson.test: more than     452 4.5.3 Too many recipients
                         CROWD_LIMIT recipients (--max-recipients N for every sender)
  dropped-after-data     RCPT drop@lesson.test                     no reply: the connection closes after
                                                                   the final dot (nothing is stored)
"""

LESSON_DOMAIN = "lesson.test"
GREYLIST_RCPT = "greylist@lesson.test"
BIG_SENDER = "big@lesson.test"
SENDER_SIZE_LIMIT = 10000
RELAY_DENIED_DOMAIN = "elsewhere.example"
CROWD_SENDER = "crowd@lesson.test"
CROWD_LIMIT = 3
DROP_RCPT = "drop@lesson.test"

STARTTLS_FIRST = "530 5.7.0 Must issue a STARTTLS command first"  # RFC 3207 §4


def add_arguments(parser):
    parser.add_argument("--lessons", action="store_true",
                        help="every lesson at once, keyed by address (see sandbox_lessons.py)")
    parser.add_argument("--auth-before-tls", action="store_true",
                        help="the starttls port lists AUTH before STARTTLS too, and answers it with 530 5.7.0")
    parser.add_argument("--greylist", action="append", default=[], metavar="PREFIX",
                        help="greylist recipients starting with PREFIX: 451 4.7.1 once per sender and recipient")
    parser.add_argument("--deny-relay", action="append", default=[], metavar="DOMAIN",
                        help="refuse recipients in DOMAIN (554 5.7.1) unless the client logged in")
    parser.add_argument("--max-recipients", type=int, metavar="N",
                        help="refuse recipients after the N-th of a message (452 4.5.3)")


def _domain(address):
    return address.rpartition("@")[2].lower()


def _size_parameter(options):
    for option in options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return None


class Rules:
    """The lesson behaviours in force, and the greylist's memory."""

    def __init__(self, options):
        lessons = options.lessons
        self.auth_before_tls = options.auth_before_tls or lessons
        self.greylist = [p.lower() for p in options.greylist + ([GREYLIST_RCPT] if lessons else [])]
        self.deny_relay = {d.lower() for d in options.deny_relay + ([RELAY_DENIED_DOMAIN] if lessons else [])}
        self.max_recipients = options.max_recipients
        self.sender_size = {BIG_SENDER: SENDER_SIZE_LIMIT} if lessons else {}
        self.sender_recipients = {CROWD_SENDER: CROWD_LIMIT} if lessons else {}
        self.drop_rcpt = {DROP_RCPT} if lessons else set()
        self.seen = set()  # (sender, recipient) pairs greylisted once, waiting for their retry

    def ehlo(self, server, responses):
        """Lists AUTH on the starttls port before TLS, where aiosmtpd hides it."""
        if (self.auth_before_tls and server.require_starttls and not server._tls_protocol
                and not any(r[4:].startswith("AUTH") for r in responses)):
            mechanisms = " ".join(sorted(server._auth_methods))
            return responses[:-1] + ["250-AUTH " + mechanisms] + responses[-1:]
        return responses

    def mail(self, address, options):
        """A refusal for this sender, or None."""
        limit = self.sender_size.get(address.lower())
        size = _size_parameter(options)
        if limit is not None and size is not None and size > limit:
            return f"552 5.3.4 Message size exceeds fixed maximum message size for <{address}> ({limit} octets)"
        return None

    def rcpt(self, session, envelope, address):
        """A refusal for this recipient, or None."""
        lower = address.lower()
        limit = self.sender_recipients.get((envelope.mail_from or "").lower(), self.max_recipients)
        if limit is not None and len(envelope.rcpt_tos) >= limit:
            return f"452 4.5.3 Too many recipients (at most {limit} per message)"
        if _domain(lower) in self.deny_relay and not session.authenticated:
            return f"554 5.7.1 <{address}>: Relay access denied"
        if any(lower.startswith(p) for p in self.greylist):
            pair = ((envelope.mail_from or "").lower(), lower)
            if pair in self.seen:
                self.seen.discard(pair)  # forgotten: the lesson's next run is greylisted again
                return None
            self.seen.add(pair)
            return f"451 4.7.1 <{address}>: Recipient address rejected: Greylisted, try again later"
        return None

    def data(self, envelope):
        """"drop" to hang up without a reply, a refusal, or None."""
        if any(r.lower() in self.drop_rcpt for r in envelope.rcpt_tos):
            return "drop"
        limit = self.sender_size.get((envelope.mail_from or "").lower())
        if limit is not None and len(envelope.original_content) > limit:
            return f"552 5.3.4 Message size exceeds fixed maximum message size ({limit} octets)"
        return None
