#!/usr/bin/python3
"""A hostile or odd SMTP server for tests: answers from a script, records every byte it receives.

  scripted.py --script JSON [--exit-on-stdin-eof]

JSON: {"greeting": ["220-...", "220 ..."], "ehlo": ["250-...", "250 ..."],
       "replies": {"AUTH": ["334 PDEyMzQ+"], "QUIT": ["221 bye"]}, "default": ["250 ok"]}
Lines are sent as given (Python strings, so "\\u001b" is ESC) with CRLF after each. A command's
reply is looked up by its first word (upper case); EHLO and HELO use "ehlo". QUIT closes after
its reply. Listens on a free loopback port and prints one JSON line:
  {"plain": PORT, "received": FILE}
where FILE collects, in order, every byte any client sent (for "never sent in clear" checks).
"""
import argparse
import json
import os
import socket
import sys
import tempfile
import threading


def serve(connection, script, record, lock):
    def send(lines):
        connection.sendall("".join(line + "\r\n" for line in lines).encode("utf-8", "surrogateescape"))

    with connection:
        send(script.get("greeting", ["220 scripted.example ESMTP"]))
        buffer = b""
        while True:
            data = connection.recv(65536)
            if not data:
                return
            with lock:
                record.write(data)
                record.flush()
            buffer += data
            while b"\r\n" in buffer:
                line, buffer = buffer.split(b"\r\n", 1)
                word = line.split(b" ", 1)[0].decode("ascii", "replace").upper()
                if word in ("EHLO", "HELO"):
                    send(script.get("ehlo", ["250 scripted.example"]))
                else:
                    send(script.get("replies", {}).get(word, script.get("default", ["250 ok"])))
                if word == "QUIT":
                    return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--script", required=True)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    options = parser.parse_args()
    script = json.loads(options.script)

    folder = tempfile.mkdtemp(prefix="smtpc-scripted-")
    path = os.path.join(folder, "received")
    record = open(path, "wb")
    lock = threading.Lock()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(json.dumps({"plain": listener.getsockname()[1], "received": path}), flush=True)

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection, script, record, lock), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    if options.exit_on_stdin_eof:
        while sys.stdin.buffer.read(4096):
            pass
    else:
        threading.Event().wait()
    listener.close()
    record.close()
    os.remove(path)
    os.rmdir(folder)


if __name__ == "__main__":
    main()
