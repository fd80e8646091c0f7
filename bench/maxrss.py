#!/usr/bin/env python3
"""maxrss.py OUTFILE CMD [ARGS...]

Runs CMD (stdin/stdout/stderr inherited) and writes one line to OUTFILE:

    MAXRSS_KIB WALL_S ANON_PEAK_KIB FILE_PEAK_KIB

MAXRSS_KIB is getrusage(RUSAGE_CHILDREN).ru_maxrss, the kernel's peak resident set
(what GNU time's %M reports). It counts file-backed pages too, e.g. mmap'ed segment
files that are resident in the page cache. ANON_PEAK and FILE_PEAK are the peaks of
RssAnon and RssFile from /proc/PID/status, sampled every 5 ms (a breakdown, may miss
short spikes). Exits with CMD's status.
"""
import os
import re
import resource
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd)
    anon = filep = 0
    pat = re.compile(r"^(RssAnon|RssFile):\s+(\d+)", re.M)
    path = "/proc/%d/status" % p.pid
    while p.poll() is None:
        try:
            with open(path) as f:
                s = f.read()
        except OSError:
            break
        for k, v in pat.findall(s):
            v = int(v)
            if k == "RssAnon":
                anon = max(anon, v)
            else:
                filep = max(filep, v)
        time.sleep(0.005)
    rc = p.wait()
    wall = time.monotonic() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(out, "w") as f:
        f.write("%d %.3f %d %d\n" % (peak, wall, anon, filep))
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
