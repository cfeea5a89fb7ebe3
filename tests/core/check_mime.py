#!/usr/bin/python3
"""Checks a composed message with an independent MIME parser: Python's email package.

usage: check_mime.py MESSAGE.eml EXPECTED.json
The JSON gives what a mail reader must see: decoded headers, address lists, text and HTML
bodies, every attachment (name, type, disposition, Content-ID, SHA-256 of the bytes), the top
content type and headers that must be absent. The wire form is checked too: CRLF line ends only,
no line over 998 octets, header lines within 78 where the test says so.
"""
import email
import email.policy
import hashlib
import json
import sys


def fail(why):
    print("check_mime: " + why, file=sys.stderr)
    sys.exit(1)


raw = open(sys.argv[1], "rb").read()
want = json.load(open(sys.argv[2], encoding="utf-8"))

# --- the wire form
lines = raw.split(b"\r\n")
if lines[-1] != b"":
    fail("the message does not end with CRLF")
for number, line in enumerate(lines[:-1], 1):
    if b"\r" in line or b"\n" in line:
        fail(f"line {number} has a bare CR or LF")
    if len(line) > 998:
        fail(f"line {number} is {len(line)} octets long (RFC 5322 §2.1.1: at most 998)")
header_block = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
limit = want.get("header_line_limit", 78)
for line in header_block:
    if len(line) > limit:
        fail(f"header line over {limit} octets: {line[:100]!r}")
if want.get("ascii_headers", True):
    for line in header_block:
        if any(b > 127 for b in line):
            fail(f"non-ASCII octets in a header: {line[:100]!r}")

msg = email.message_from_bytes(raw, policy=email.policy.default)
if msg.defects:
    fail(f"the parser found defects: {msg.defects}")

for name, value in want.get("headers", {}).items():
    got = msg[name]
    if got is None or str(got) != value:
        fail(f"header {name}: expected {value!r}, got {None if got is None else str(got)!r}")
for name, expected in want.get("addresses", {}).items():
    header = msg[name]
    if header is None:
        fail(f"header {name} is missing")
    got = [[a.display_name, a.addr_spec] for a in header.addresses]
    if got != expected:
        fail(f"{name}: expected {expected}, got {got}")
for name in want.get("absent", []):
    if msg[name] is not None:
        fail(f"header {name} must not be present")
if "content_type" in want and msg.get_content_type() != want["content_type"]:
    fail(f"top content type: expected {want['content_type']}, got {msg.get_content_type()}")
if msg["Message-ID"] is None or msg["Date"] is None or msg["MIME-Version"] != "1.0":
    fail("Message-ID, Date or MIME-Version is missing")
if "date" in want and str(msg["Date"]) != want["date"]:
    fail(f"Date: expected {want['date']!r}, got {str(msg['Date'])!r}")


def normalise(text):
    return text.replace("\r\n", "\n")


for subtype in ("plain", "html"):
    if subtype in want:
        body = msg.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_type() != "text/" + subtype:
            fail(f"no text/{subtype} body found")
        got = normalise(body.get_content())
        expected = normalise(want[subtype])
        if got.rstrip("\n") != expected.rstrip("\n"):
            fail(f"text/{subtype} differs:\nexpected {expected[:300]!r}\ngot      {got[:300]!r}")
        if "encoding" in want and subtype == "plain":
            cte = body["Content-Transfer-Encoding"]
            if str(cte) != want["encoding"]:
                fail(f"text/plain encoding: expected {want['encoding']}, got {cte}")

found, messages = [], []


def collect(part):
    """Leaves with a disposition are attachments; an attached message (message/rfc822, message/global)
    is read as a message, as a mail reader shows it, and not walked into."""
    if part.get_content_type() in ("message/rfc822", "message/global"):
        inner = part.get_payload(0)
        if inner.defects:
            fail(f"the attached message has defects: {inner.defects}")
        body = inner.get_body(preferencelist=("plain",))
        messages.append({
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "encoding": str(part["Content-Transfer-Encoding"]),
            "subject": str(inner["Subject"]),
            "plain": normalise(body.get_content()).rstrip("\n") if body is not None else None,
        })
        return
    if part.is_multipart():
        for child in part.iter_parts():
            collect(child)
        return
    disposition = part.get_content_disposition()
    if disposition is None:
        return
    data = part.get_payload(decode=True)
    cid = part["Content-ID"]
    found.append({
        "filename": part.get_filename(),
        "content_type": part.get_content_type(),
        "disposition": disposition,
        "content_id": str(cid).strip("<>") if cid else None,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    })


collect(msg)
expected = want.get("attachments", [])
if found != expected:
    fail("attachments differ:\nexpected " + json.dumps(expected, ensure_ascii=False) +
         "\ngot      " + json.dumps(found, ensure_ascii=False))
expected = want.get("messages", [])
if messages != expected:
    fail("attached messages differ:\nexpected " + json.dumps(expected, ensure_ascii=False) +
         "\ngot      " + json.dumps(messages, ensure_ascii=False))
print("check_mime: ok")
