#!/usr/bin/python3
"""Python's smtplib doing what bench_core measures, on the same inputs: reply parsing
(SMTP.getreply over a file of replies) and DATA dot-stuffing (smtplib.quotedata). Prints JSON."""
import base64
import io
import json
import smtplib
import time


def best_rate(fn, amount, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return amount / best


def replies_per_second(unit, count):
    wire = unit * count

    def run():
        client = smtplib.SMTP()
        client.file = io.BytesIO(wire)
        for _ in range(count):
            client.getreply()

    return best_rate(run, count)


ehlo = (b"250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
        b"250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
        b"250-DSN\r\n250 SMTPUTF8\r\n")
text = "The quick brown fox jumps over the lazy dog; MIME lines are at most 76 chars.\r\n" * 52000
lf_text = "The quick brown fox jumps over the lazy dog; this text has Unix line ends.\n" * 52000
binary = bytes((i * 2654435761 >> 13) & 0xFF for i in range(1 << 20))

print(json.dumps({
    "reply_single_line_per_s": replies_per_second(b"250 2.1.5 Ok\r\n", 100000),
    "reply_ehlo_per_s": replies_per_second(ehlo, 20000),
    "dot_stuff_crlf_bytes_per_s": best_rate(lambda: smtplib.quotedata(text), len(text)),
    "dot_stuff_lf_bytes_per_s": best_rate(lambda: smtplib.quotedata(lf_text), len(lf_text)),
    "base64_bytes_per_s": best_rate(lambda: base64.b64encode(binary), len(binary)),
}))
