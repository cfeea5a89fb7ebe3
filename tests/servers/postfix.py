#!/usr/bin/python3
"""A private Postfix instance on a free loopback port, for SMTPc's tests (run as root).

It never touches the system's Postfix: its own config, queue and log folders in a temporary
folder, `inet_interfaces = loopback-only`, no chroot. Mail for the domain keep.test is kept as
files (through a pipe transport, so the bytes can be compared); everything else is discarded
(for load tests). Prints one JSON line: {"host", "port", "maildir", "log"}; stops the instance on
SIGTERM/SIGINT or, with --exit-on-stdin-eof, when its standard input closes.
"""
import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
keep      unix  - n n - - pipe flags= user=nobody argv=/usr/bin/tee {maildir}/${{queue_id}}.eml
"""

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {config}
queue_directory = {state}/queue
data_directory = {state}/data
maillog_file = {state}/log/maillog
maillog_file_prefixes = {state}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = postfix.smtpc.test
mydomain = smtpc.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
relay_domains =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = check_recipient_access texthash:{config}/recipients, permit_mynetworks, reject
default_transport = discard:
transport_maps = texthash:{config}/transport
message_size_limit = {size_limit}
smtputf8_enable = yes
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_tls_security_level = none
biff = no
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-limit", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("postfix.py: a private Postfix instance needs root")

    state = tempfile.mkdtemp(prefix="smtpc-postfix-")
    config = os.path.join(state, "config")
    maildir = os.path.join(state, "mail")
    for folder in (config, maildir, os.path.join(state, "log"), os.path.join(state, "data"), os.path.join(state, "queue")):
        os.makedirs(folder)
    nobody = pwd.getpwnam("nobody")
    os.chown(maildir, nobody.pw_uid, nobody.pw_gid)
    os.chmod(state, 0o755)
    postfix_user = pwd.getpwnam("postfix")
    os.chown(os.path.join(state, "data"), postfix_user.pw_uid, postfix_user.pw_gid)

    port = free_port()
    with open(os.path.join(config, "main.cf"), "w") as f:
        f.write(MAIN_CF.format(config=config, state=state, size_limit=options.size_limit))
    with open(os.path.join(config, "master.cf"), "w") as f:
        f.write(MASTER_CF.format(port=port, maildir=maildir))
    with open(os.path.join(config, "transport"), "w") as f:
        f.write("keep.test keep:\n")
    with open(os.path.join(config, "recipients"), "w") as f:
        f.write("reject@keep.test REJECT 5.1.1 no such user\n")

    def postfix(*args):
        return subprocess.run(["postfix", "-c", config, *args], capture_output=True, text=True)

    result = postfix("set-permissions")
    if result.returncode != 0:
        sys.exit("postfix set-permissions failed: " + result.stderr)
    result = postfix("start")
    if result.returncode != 0:
        sys.exit("postfix start failed: " + result.stderr + open(os.path.join(state, "log", "maillog")).read()
                 if os.path.exists(os.path.join(state, "log", "maillog")) else result.stderr)
    for _ in range(100):  # wait until smtpd answers
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    break
        except OSError:
            time.sleep(0.1)
    print(json.dumps({"host": "127.0.0.1", "port": port, "maildir": maildir,
                      "log": os.path.join(state, "log", "maillog")}), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if options.exit_on_stdin_eof:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            stop.set()
        threading.Thread(target=watch, daemon=True).start()
    stop.wait()
    postfix("stop")
    time.sleep(0.5)
    shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
