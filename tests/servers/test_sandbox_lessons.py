#!/usr/bin/python3
"""Self-test of the sandbox's lessons (sandbox.py --lessons, sandbox_lessons.py): one sandbox, every
lesson keyed by its address, driven with smtplib; and that an ordinary address meets none of them.

  /usr/bin/python3 tests/servers/test_sandbox_lessons.py [-v] [TestClass.test_name]
"""
import os
import smtplib
import ssl
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sandbox_lessons as lessons  # noqa: E402
from test_oauth_server import start, stop  # noqa: E402

LEARNER = "learner@lesson.test"
FRIEND = "friend@lesson.test"


class LessonsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.process, cls.info, cls.log = start("sandbox.py", "--lessons")
        cls.tls = ssl.create_default_context(cafile=cls.info["ca_file"])

    @classmethod
    def tearDownClass(cls):
        stop(cls.process, cls.log)

    def connect(self, login=True):
        """A session on the starttls port, inside TLS, logged in as demo unless told not to."""
        smtp = smtplib.SMTP(self.info["host"], self.info["starttls"], timeout=20)
        self.addCleanup(smtp.close)
        smtp.starttls(context=self.tls)
        smtp.ehlo()
        if login:
            smtp.login("demo", "demo")
        return smtp

    def stored(self):
        return sorted(f for f in os.listdir(self.info["maildir"]) if f.endswith(".eml"))

    def test_json_line_says_lessons(self):
        self.assertTrue(self.info.get("lessons"))

    def test_starttls_before_auth(self):
        smtp = smtplib.SMTP(self.info["host"], self.info["starttls"], timeout=20)
        self.addCleanup(smtp.close)
        smtp.ehlo()
        # Listed before TLS, so that a client skipping STARTTLS tries it, and refused until TLS.
        self.assertTrue(smtp.has_extn("starttls"))
        self.assertIn("LOGIN", smtp.esmtp_features.get("auth", ""))
        self.assertEqual(smtp.docmd("AUTH", "LOGIN"), (530, b"5.7.0 Must issue a STARTTLS command first"))
        self.assertEqual(smtp.docmd("MAIL", "FROM:<%s>" % LEARNER)[0], 530)
        smtp.starttls(context=self.tls)
        smtp.ehlo()
        self.assertEqual(smtp.login("demo", "demo")[0], 235)

    def test_wrong_password(self):
        smtp = self.connect(login=False)
        with self.assertRaises(smtplib.SMTPAuthenticationError) as refused:
            smtp.login("demo", "not-the-password")
        self.assertEqual(refused.exception.smtp_code, 535)
        self.assertTrue(refused.exception.smtp_error.startswith(b"5.7.8"))

    def test_greylisting(self):
        smtp = self.connect()
        answers = []
        for _ in range(3):  # first seen, the retry, then the next run of the lesson
            smtp.mail(LEARNER)
            answers.append(smtp.rcpt(lessons.GREYLIST_RCPT)[0])
            smtp.rset()
        self.assertEqual(answers, [451, 250, 451])
        smtp.mail(LEARNER)
        code, text = smtp.rcpt(lessons.GREYLIST_RCPT)
        self.assertEqual((code, text[:5]), (250, b"2.1.5"))  # the pair's retry, as above
        smtp.rset()
        # Keyed by the pair: another sender is greylisted on its own; other recipients never are.
        smtp.mail("other@lesson.test")
        code, text = smtp.rcpt(lessons.GREYLIST_RCPT)
        self.assertEqual((code, text[:5]), (451, b"4.7.1"))
        self.assertEqual(smtp.rcpt(FRIEND)[0], 250)

    def test_too_large(self):
        smtp = self.connect()
        big = lessons.SENDER_SIZE_LIMIT + 1
        code, text = smtp.mail(lessons.BIG_SENDER, ["SIZE=%d" % big])
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        self.assertEqual(smtp.mail(LEARNER, ["SIZE=%d" % big])[0], 250)  # only that sender's limit
        smtp.rset()
        # Without SIZE= the content itself is measured, after the final dot.
        smtp.mail(lessons.BIG_SENDER)
        smtp.rcpt(FRIEND)
        code, text = smtp.data(b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * (big // 72 + 1))
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        self.assertEqual(smtp.sendmail(lessons.BIG_SENDER, [FRIEND], b"Subject: small\r\n\r\nfits\r\n"), {})

    def test_relay_denied(self):
        outsider = "relay@" + lessons.RELAY_DENIED_DOMAIN
        smtp = self.connect(login=False)
        smtp.mail(LEARNER)
        code, text = smtp.rcpt(outsider)
        self.assertEqual((code, text[:5]), (554, b"5.7.1"))
        self.assertEqual(smtp.rcpt(FRIEND)[0], 250)  # the sandbox's own domain: no relaying
        smtp.rset()
        smtp.login("demo", "demo")  # a logged-in user may relay
        smtp.mail(LEARNER)
        self.assertEqual(smtp.rcpt(outsider)[0], 250)

    def test_too_many_recipients(self):
        smtp = self.connect()
        recipients = ["r%d@lesson.test" % i for i in range(lessons.CROWD_LIMIT + 2)]
        smtp.mail(lessons.CROWD_SENDER)
        answers = [smtp.rcpt(r) for r in recipients]
        self.assertEqual([a[0] for a in answers], [250] * lessons.CROWD_LIMIT + [452, 452])
        self.assertTrue(answers[-1][1].startswith(b"4.5.3"))
        smtp.rset()
        smtp.mail(LEARNER)  # another sender: no limit
        self.assertEqual([smtp.rcpt(r)[0] for r in recipients], [250] * len(recipients))

    def test_dropped_after_data(self):
        before = self.stored()
        smtp = self.connect()
        smtp.mail(LEARNER)
        self.assertEqual(smtp.rcpt(lessons.DROP_RCPT)[0], 250)
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            smtp.data(b"Subject: lost\r\n\r\nwhere did it go?\r\n")
        self.assertEqual(self.stored(), before)
        # Another recipient's message is stored as usual.
        self.assertEqual(self.connect().sendmail(LEARNER, [FRIEND], b"Subject: kept\r\n\r\nhere\r\n"), {})
        self.assertEqual(len(self.stored()), len(before) + 1)


class WithoutLessonsTest(unittest.TestCase):
    """A sandbox without --lessons: the lesson addresses are ordinary ones, AUTH waits for TLS."""

    def test_nothing_happens(self):
        process, info, log = start("sandbox.py")
        self.addCleanup(stop, process, log)
        self.assertNotIn("lessons", info)
        smtp = smtplib.SMTP(info["host"], info["starttls"], timeout=20)
        self.addCleanup(smtp.close)
        smtp.ehlo()
        self.assertNotIn("auth", smtp.esmtp_features)
        smtp.starttls(context=ssl.create_default_context(cafile=info["ca_file"]))
        smtp.ehlo()
        smtp.login("demo", "demo")
        smtp.mail(lessons.CROWD_SENDER)
        for rcpt in [lessons.GREYLIST_RCPT, "relay@" + lessons.RELAY_DENIED_DOMAIN] + \
                ["r%d@lesson.test" % i for i in range(lessons.CROWD_LIMIT + 1)]:
            self.assertEqual(smtp.rcpt(rcpt)[0], 250, rcpt)
        smtp.rset()
        big = (b"x" * 70 + b"\r\n") * (lessons.SENDER_SIZE_LIMIT // 36)
        self.assertEqual(smtp.sendmail(lessons.BIG_SENDER, [lessons.DROP_RCPT], big), {})


if __name__ == "__main__":
    unittest.main()
