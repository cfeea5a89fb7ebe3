#!/usr/bin/python3
"""Runs a command RUNS times as a whole process and prints one JSON line about it:
  {"wall": median seconds, "cpu": median user+system seconds, "rss_mb": largest peak RSS, "failed": N}
The figures come from the kernel's accounting of that process and its children (wait4), so a
program is measured the same way whatever it is written in. Its output is discarded.
  measure.py RUNS COMMAND [ARG...]"""
import json
import os
import statistics
import subprocess
import sys
import time


def main():
    runs, command = int(sys.argv[1]), sys.argv[2:]
    walls, cpus, rss, failed = [], [], 0, 0
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss)  # KiB on Linux
        failed += status != 0
    print(json.dumps({"wall": statistics.median(walls), "cpu": statistics.median(cpus), "rss_mb": rss / 1024,
                      "failed": failed}))


if __name__ == "__main__":
    main()
