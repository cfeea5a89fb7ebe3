#!/usr/bin/python3
"""Python smtplib sending COUNT copies of a message file over one connection (no TLS).
usage: peer_smtplib_send.py HOST PORT COUNT MESSAGE_FILE"""
import smtplib
import sys
import time

host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
start = time.perf_counter()
client = smtplib.SMTP(host, port)
client.ehlo()
for _ in range(count):
    client.sendmail("load@example.org", ["sink@example.net"], data)
client.quit()
print(f"{time.perf_counter() - start:.3f}")
