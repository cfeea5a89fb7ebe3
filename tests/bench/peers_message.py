#!/usr/bin/python3
"""Python's email package composing the same message as mime_stream (the file attached, then
serialised with as_bytes, as smtplib.send_message does). Prints JSON like mime_stream."""
import json
import resource
import sys
import time
from email.message import EmailMessage

start = time.perf_counter()
data = open(sys.argv[1], "rb").read()
msg = EmailMessage()
msg["From"] = "Sender <a@example.org>"
msg["To"] = "b@example.net"
msg["Subject"] = "A large attachment"
msg.set_content("See attached.")
msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=sys.argv[1].rsplit("/", 1)[-1])
wire = msg.as_bytes()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": round(seconds, 3), "input_mb_per_s": round(len(data) / seconds / 1e6, 1),
                  "wire_bytes": len(wire),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
