#!/usr/bin/python3
"""deploy/smtpc-proxy.service, checked for real:
  1. `systemd-analyze verify` on a copy whose ExecStart names the built smtpc-proxy (verify wants
     the program to exist) must say nothing at all: an unknown or misspelt directive is only a
     warning there ("Unknown key ... ignoring", exit status 0), so any output fails the test;
  2. the same on a copy with a directive systemd does not know must say so (the check can fail);
  3. `systemd-analyze security --offline` must rate the unit's exposure at most MAX (0-10 scale);
  4. the built smtpc-proxy must start with the unit's own ExecStart options (ports moved to free
     ones, --web to a scratch page) and stop cleanly on SIGTERM, as systemd stops it.

    tests/deploy/check_unit.py --proxy build/native/proxy/smtpc-proxy [--max-exposure 1.5]"""
import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, "deploy", "smtpc-proxy.service")
INSTALLED = "/usr/bin/smtpc-proxy"


def check(condition, what):
    if not condition:
        print("FAIL: " + what, flush=True)
        sys.exit(1)


def verify(path):
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True, text=True)
    return run.returncode, (run.stdout + run.stderr).strip()


def exec_start(text):
    """The ExecStart= command line, its continuation lines joined, as arguments."""
    joined = re.sub(r"\\\n", " ", text)
    lines = [line for line in joined.splitlines() if line.startswith("ExecStart=")]
    check(len(lines) == 1, f"one ExecStart= line, found {len(lines)}")
    return shlex.split(lines[0][len("ExecStart="):])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proxy", required=True)
    parser.add_argument("--max-exposure", type=float, default=1.5)
    args = parser.parse_args()
    proxy = os.path.abspath(args.proxy)
    check(shutil.which("systemd-analyze"), "systemd-analyze is missing (Debian systemd)")
    with open(UNIT) as f:
        unit = f.read()
    check(unit.count(f"ExecStart={INSTALLED} ") == 1, f"ExecStart starts with {INSTALLED}")

    scratch = tempfile.mkdtemp(prefix="smtpc-unit-")
    try:
        copy = os.path.join(scratch, "smtpc-proxy.service")  # verify judges a unit by its file name
        with open(copy, "w") as f:
            f.write(unit.replace(f"ExecStart={INSTALLED} ", f"ExecStart={proxy} "))
        code, said = verify(copy)
        check(code == 0 and not said, f"systemd-analyze verify: exit {code}, said:\n{said}")
        print("systemd-analyze verify: clean")

        broken = os.path.join(scratch, "broken", "smtpc-proxy.service")
        os.mkdir(os.path.dirname(broken))
        with open(broken, "w") as f:
            f.write(unit.replace(f"ExecStart={INSTALLED} ", f"ExecStart={proxy} ")
                    .replace("NoNewPrivileges=yes", "NoNewPrivileges=yes\nProtectEverything=yes"))
        code, said = verify(broken)
        check("Unknown key" in said and "ProtectEverything" in said, f"an unknown directive is reported: {said!r}")
        print("systemd-analyze verify: a unit with an unknown directive is reported")

        threshold = int(round(args.max_exposure * 10))  # --threshold counts tenths
        security = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                                   f"--threshold={threshold}", copy], capture_output=True, text=True)
        level = re.search(r"Overall exposure level for \S+: (\S+ \S+)", security.stdout)
        check(level, "systemd-analyze security rated the unit:\n" + security.stdout + security.stderr)
        print(f"systemd-analyze security --offline: exposure {level.group(1)}")
        check(security.returncode == 0, f"exposure {level.group(1)} is above {args.max_exposure}:\n" +
              "\n".join(line for line in security.stdout.splitlines() if line.startswith("✗")))

        # The unit's options, as the built relay reads them.
        argv = exec_start(unit)
        web = os.path.join(scratch, "web")
        os.mkdir(web)
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>smtpc</title>\n")
        moved = {"--listen": "127.0.0.1:0", "--metrics": "127.0.0.1:0", "--web": web}
        for i, a in enumerate(argv[:-1]):
            if a in moved:
                argv[i + 1] = moved.pop(a)
        check(not moved, f"the unit's ExecStart has {sorted(moved)}")
        relay = subprocess.Popen([proxy] + argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        said = [relay.stdout.readline() for _ in range(3)]  # listening on, page at, metrics on
        metrics = re.search(r"^metrics on (\S+)$", "".join(said), re.M)
        health = ""
        for _ in range(100):  # the health check answers once the relay runs (its SIGTERM handler is in place)
            try:
                health = urllib.request.urlopen(f"http://{metrics.group(1)}/healthz", timeout=2).read().decode()
                break
            except (OSError, AttributeError):
                time.sleep(0.1)
        relay.send_signal(signal.SIGTERM)
        try:
            code = relay.wait(20)
        except subprocess.TimeoutExpired:
            relay.kill()
            code = "none (killed after 20 s)"
        check(said[0].startswith("listening on ") and health.startswith("ok"),
              f"smtpc-proxy with the unit's options: {said!r}, /healthz {health!r}, {relay.stderr.read()}")
        check(code == 0, f"SIGTERM ends the relay with exit status 0, not {code}")
        print("smtpc-proxy starts with the unit's ExecStart options and stops on SIGTERM")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
