#!/usr/bin/env python3
"""Deterministic data generator for the pipeproc benchmarks.

    gen.py small N        N JSON lines of exactly 100 bytes (incl. the newline)
    gen.py big N          N JSON lines of exactly 4096 bytes (incl. the newline)
    gen.py tiny N         N lines {"i":K}, K = 0..N-1
    gen.py resp KEY       stdin JSON lines -> RESP "XADD KEY * b <line>" commands

Every line is {"i":K,"user":"...","event":"...","pad":"..."} and is valid JSON.
The output depends only on the arguments (fixed seed), so runs are comparable.
"""
import random
import sys

USERS = 5000
EVENTS = [b"login", b"logout", b"view", b"click", b"purchase", b"search",
          b"add_to_cart", b"remove_from_cart", b"error", b"signup"]
ALPHABET = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def pad_source(rng, size):
    # one pseudo-random block; pads are slices of it at varying offsets, so
    # lines differ without paying for a random call per byte
    return bytes(rng.choice(ALPHABET) for _ in range(size))


def records(n, line_len, seed):
    rng = random.Random(seed)
    src = pad_source(rng, 1 << 16)
    srclen = len(src)
    out = sys.stdout.buffer
    buf = []
    for i in range(n):
        head = b'{"i":%d,"user":"user%05d","event":"%s","pad":"' % (
            i, rng.randrange(USERS), EVENTS[rng.randrange(len(EVENTS))])
        need = line_len - len(head) - 3  # closing '"}' and '\n'
        if need < 0:
            raise SystemExit("line length too small")
        off = rng.randrange(srclen)
        pad = src[off:off + need]
        while len(pad) < need:
            pad += src[:need - len(pad)]
        buf.append(head + pad + b'"}\n')
        if len(buf) >= 4096:
            out.write(b"".join(buf))
            buf.clear()
    out.write(b"".join(buf))


def tiny(n):
    out = sys.stdout.buffer
    step = 100000
    for start in range(0, n, step):
        out.write(b"".join(b'{"i":%d}\n' % i for i in range(start, min(n, start + step))))


def resp(key):
    key = key.encode()
    prefix = b"*5\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$1\r\n*\r\n$1\r\nb\r\n" % (len(key), key)
    out = sys.stdout.buffer
    buf = []
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\r\n")
        if not line:
            continue
        buf.append(b"%s$%d\r\n%s\r\n" % (prefix, len(line), line))
        if len(buf) >= 4096:
            out.write(b"".join(buf))
            buf.clear()
    out.write(b"".join(buf))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    mode, arg = argv[1], argv[2]
    if mode == "small":
        records(int(arg), 100, 1)
    elif mode == "big":
        records(int(arg), 4096, 2)
    elif mode == "tiny":
        tiny(int(arg))
    elif mode == "resp":
        resp(arg)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
