#!/usr/bin/python3
"""Reads the delivery report (RFC 3464) that a message with NOTIFY=SUCCESS brought back, with Python's
own `email` package, and prints what the test compares as one JSON object.

Usage: check_dsn.py FILE   (a message kept by the private Postfix, as its pipe transport wrote it)

Prints {"is_report", "content_type", "report_type", "envelope_id", "recipients": [{"original_recipient",
"final_recipient", "action", "status"}], "returned", "subject"}; "is_report" is false for any other
message (the test looks for the report among the kept files).
"""
import email
import email.policy
import json
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    out = {"is_report": message.get_content_type() == "multipart/report",
           "content_type": message.get_content_type(),
           "report_type": message.get_param("report-type"),
           "subject": str(message.get("Subject", ""))}
    if not out["is_report"]:
        print(json.dumps(out))
        return
    parts = list(message.iter_parts())
    status = next(p for p in parts if p.get_content_type() == "message/delivery-status")
    # message/delivery-status: the per-message block, then one block per recipient (RFC 3464 §2.1),
    # each parsed by `email` as a header block of its own.
    blocks = status.get_payload()
    per_message = blocks[0]
    out["envelope_id"] = per_message.get("Original-Envelope-Id")
    out["recipients"] = [{"original_recipient": b.get("Original-Recipient"), "final_recipient": b.get("Final-Recipient"),
                          "action": b.get("Action"), "status": b.get("Status")} for b in blocks[1:]]
    returned = [p.get_content_type() for p in parts[2:]]
    out["returned"] = returned[0] if returned else None
    print(json.dumps(out))


if __name__ == "__main__":
    main()
