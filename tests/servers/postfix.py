#!/usr/bin/python3
"""A private Postfix instance on a free loopback port, for SMTPc's tests (run as root).

It never touches the system's Postfix: its own config, queue and log folders in a temporary
folder, `inet_interfaces = loopback-only`, no chroot. Mail for the domain keep.test is kept as
files (through a pipe transport, so the bytes can be compared); everything else is discarded
(for load tests). Prints one JSON line: {"host", "port", "maildir", "log"}; stops the instance on
SIGTERM/SIGINT or, with --exit-on-stdin-eof, when its standard input closes.

With --sasl, Postfix also logs users in as a real submission server does: STARTTLS with a throwaway
certificate (its file is "ca_file" in the JSON line, for "postfix.smtpc.test" and 127.0.0.1), AUTH
only inside TLS, checked by a private Dovecot (its own base_dir and state in the temporary folder,
no listener but the auth socket) offering PLAIN, LOGIN, SCRAM-SHA-1 and SCRAM-SHA-256. Its
passwd-file holds SCRAM credentials made by `doveadm pw`: "scram256" (SCRAM-SHA-256) and
"scram1" (SCRAM-SHA-1), both with --sasl-password ("sasl_users" in the JSON line). Without
--sasl nothing changes: no TLS, no AUTH.
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


DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = smtpc-test-{port}
protocols = none
listen = 127.0.0.1
log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login scram-sha-1 scram-sha-256
auth_verbose = yes
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

SASL_MAIN_CF = """\
smtpd_tls_security_level = may
smtpd_tls_cert_file = {config}/cert.pem
smtpd_tls_key_file = {config}/key.pem
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {dovecot}/run/auth-postfix
smtpd_sasl_security_options = noanonymous
"""


def start_dovecot(state, port, password):
    """The private Dovecot: returns (its folder, the users and their schemes)."""
    folder = os.path.join(state, "dovecot")
    os.makedirs(os.path.join(folder, "run"))
    os.makedirs(os.path.join(folder, "state"))
    users = {"scram256": "SCRAM-SHA-256", "scram1": "SCRAM-SHA-1"}
    lines = []
    for user, scheme in users.items():
        made = subprocess.run(["doveadm", "pw", "-s", scheme, "-p", password], capture_output=True, text=True)
        if made.returncode != 0:
            sys.exit("doveadm pw failed: " + made.stderr)
        lines.append(user + ":" + made.stdout.strip() + "\n")
    with open(os.path.join(folder, "passwd"), "w") as f:
        f.writelines(lines)
    os.chmod(os.path.join(folder, "passwd"), 0o644)
    conf = os.path.join(folder, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(DOVECOT_CONF.format(dir=folder, port=port))
    # Dovecot's master goes to the background and keeps what it inherited open: a file, not a pipe.
    with open(os.path.join(folder, "start.log"), "w+") as output:
        started = subprocess.run(["dovecot", "-c", conf], stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        output.seek(0)
        if started.returncode != 0:
            sys.exit("dovecot failed to start: " + output.read())
    socket_path = os.path.join(folder, "run", "auth-postfix")
    for _ in range(100):
        if os.path.exists(socket_path):
            break
        time.sleep(0.1)
    else:
        sys.exit("dovecot's auth socket did not appear: " + open(os.path.join(folder, "dovecot.log")).read())
    return folder, conf, users


def make_certificate(config):
    """A throwaway self-signed certificate for postfix.smtpc.test and 127.0.0.1."""
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                           "-nodes", "-days", "2", "-subj", "/CN=postfix.smtpc.test",
                           "-addext", "subjectAltName=DNS:postfix.smtpc.test,DNS:localhost,IP:127.0.0.1",
                           "-keyout", os.path.join(config, "key.pem"), "-out", os.path.join(config, "cert.pem")],
                          capture_output=True, text=True)
    if made.returncode != 0:
        sys.exit("openssl req failed: " + made.stderr)
    os.chmod(os.path.join(config, "key.pem"), 0o600)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-limit", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    parser.add_argument("--sasl", action="store_true", help="STARTTLS and AUTH through a private Dovecot")
    parser.add_argument("--sasl-password", default="pencil", help="the password of --sasl's users")
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
    dovecot = None
    extra = {}
    main_cf = MAIN_CF.format(config=config, state=state, size_limit=options.size_limit)
    if options.sasl:
        make_certificate(config)
        dovecot_dir, dovecot, users = start_dovecot(state, port, options.sasl_password)
        main_cf = main_cf.replace("smtpd_tls_security_level = none\n", "")
        main_cf += SASL_MAIN_CF.format(config=config, dovecot=dovecot_dir)
        extra = {"ca_file": os.path.join(config, "cert.pem"), "tls_name": "postfix.smtpc.test",
                 "sasl_users": users, "sasl_password": options.sasl_password,
                 "dovecot_log": os.path.join(dovecot_dir, "dovecot.log")}

    def stop_dovecot():
        if dovecot:
            subprocess.run(["dovecot", "-c", dovecot, "stop"], capture_output=True)

    with open(os.path.join(config, "main.cf"), "w") as f:
        f.write(main_cf)
    with open(os.path.join(config, "master.cf"), "w") as f:
        f.write(MASTER_CF.format(port=port, maildir=maildir))
        if options.sasl:  # smtpd's TLS needs the TLS manager (entropy, session cache)
            f.write("tlsmgr    unix  - - n 1000? 1 tlsmgr\n")
    with open(os.path.join(config, "transport"), "w") as f:
        f.write("keep.test keep:\n")
    with open(os.path.join(config, "recipients"), "w") as f:
        f.write("reject@keep.test REJECT 5.1.1 no such user\n")

    def postfix(*args):
        return subprocess.run(["postfix", "-c", config, *args], capture_output=True, text=True)

    result = postfix("set-permissions")
    if result.returncode != 0:
        stop_dovecot()
        sys.exit("postfix set-permissions failed: " + result.stderr)
    result = postfix("start")
    if result.returncode != 0:
        stop_dovecot()
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
                      "log": os.path.join(state, "log", "maillog"), **extra}), flush=True)

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
    stop_dovecot()
    time.sleep(0.5)
    shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
