#!/usr/bin/env python3
"""Helpers of the reliability harness: parse store files (docs/format.md), flip bits, and
the checks that are easier to state in Python than in shell (crash verification, the
truncation sweep, the soak verdict). Runs the real pp-* tools found on PATH.

Every check prints a line starting with FAIL: on failure and the command exits 1."""

import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time

HEADER = 32
REC_HDR = 32
IDX_ENTRY = 32

failures = []


def fail(msg, *details):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)
    for d in details:
        for line in str(d).splitlines()[:20]:
            print("    " + line, file=sys.stderr)


def run(args, env=None, stdin=None, timeout=60):
    """Run a tool; returns (rc, stdout, stderr) as str. A timeout is rc 124 (like timeout(1))."""
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        p = subprocess.run(args, input=stdin, capture_output=True, env=e, timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        return 124, (ex.stdout or b"").decode("utf-8", "replace"), "timed out after %ss" % timeout
    rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return rc, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------- files (docs/format.md)

def seg_records(path, limit=None):
    """Records of a segment: list of (offset, total_length, seq, ts). Stops at the end of
    the file, at `limit` bytes, or at the first header that cannot be a record."""
    with open(path, "rb") as f:
        b = f.read()
    if limit is not None:
        b = b[:limit]
    out = []
    off = HEADER
    while off + REC_HDR <= len(b):
        blen, kind, seq, ts = struct.unpack_from("<IIQQ", b, off + 8)
        if kind != 1 or off + REC_HDR + blen > len(b):
            break
        out.append((off, REC_HDR + blen, seq, ts))
        off += REC_HDR + blen
    return out


def journal_records(path):
    """Records of the journal: list of (offset, total_length, flags). The file may run on
    in zeros after the last record (space its writers reserved)."""
    with open(path, "rb") as f:
        b = f.read()
    out = []
    off = HEADER
    while off + 16 <= len(b):
        csum, plen, flags = struct.unpack_from("<QII", b, off)
        if off + 16 + plen > len(b) or (csum == 0 and plen == 0):
            break
        out.append((off, 16 + plen, flags))
        off += 16 + plen
    return out


def carried_ranges(store, topic, seg_base):
    """Byte ranges [start, end) of a topic's segment that the journal carries (topic_data
    ops, docs/format.md): recovery after a reboot writes them back if they are lost."""
    path = os.path.join(store, "journal")
    with open(path, "rb") as f:
        b = f.read()
    ids, out = {}, []
    for off, length, _flags in journal_records(path):
        p, end = off + 16, off + length
        while p < end:
            tag = b[p]
            p += 1
            if tag == 1:  # topic_create: u32 id, u8 name length, name
                tid, n = struct.unpack_from("<IB", b, p)
                ids[b[p + 5:p + 5 + n].decode()] = tid
                p += 5 + n
            elif tag == 2:  # topic_head
                p += 4 + 32
            elif tag == 3:  # topic_start
                p += 12
            elif tag == 4:  # clock
                p += 8
            elif tag == 5:  # blob_put
                (klen,) = struct.unpack_from("<H", b, p + 1)
                (vlen,) = struct.unpack_from("<I", b, p + 3 + klen)
                p += 3 + klen + 4 + vlen
            elif tag == 6:  # blob_del
                (klen,) = struct.unpack_from("<H", b, p + 1)
                p += 3 + klen
            elif tag == 7:  # topic_data: u32 id, u64 seg_base, u64 offset, u32 length, bytes
                tid, base, at, n = struct.unpack_from("<IQQI", b, p)
                if ids.get(topic) == tid and base == seg_base:
                    out.append((at, at + n))
                p += 24 + n
            else:
                raise SystemExit("%s: unknown journal op %d at byte %d" % (path, tag, p - 1))
    return out


def flip_bit(path, offset, bit):
    with open(path, "r+b") as f:
        f.seek(offset)
        c = f.read(1)
        f.seek(offset)
        f.write(bytes([c[0] ^ (1 << bit)]))


def seq_of(log_id):
    return int(log_id.rsplit("-", 1)[1])


def parse_logs(text, what):
    """pp-range's default output -> list of (id, body text)."""
    logs = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            o = json.loads(line)
            prefix = '{"id":"%s","body":' % o["id"]
            if not line.startswith(prefix) or not line.endswith("}"):
                raise ValueError("not in the form {\"id\":..,\"body\":..}")
            logs.append((o["id"], line[len(prefix):-1]))
        except Exception as ex:  # noqa: BLE001 - any parse problem is a failure
            fail("%s: line %d is not a log (%s): %r" % (what, n, ex, line[:200]))
            break
    return logs


def check_dense(logs, what):
    """Sequences consecutive, timestamps never decreasing; returns (start, end) or None."""
    if not logs:
        return None
    prev_ts = -1
    start = seq_of(logs[0][0])
    for i, (lid, _) in enumerate(logs):
        ts, seq = (int(x) for x in lid.rsplit("-", 1))
        if seq != start + i:
            fail("%s: sequence %d at position %d, expected %d" % (what, seq, i, start + i))
            return None
        if ts < prev_ts:
            fail("%s: timestamp of %s goes back (previous %d)" % (what, lid, prev_ts))
            return None
        prev_ts = ts
    return start, start + len(logs)


def read_topic(topic, allow_missing=True):
    """(logs, rc) of a whole topic; also compares pp-length. None if the topic is absent."""
    rc, out, err = run(["pp-range", topic])
    if rc == 1 and "invalid_topic" in err and allow_missing:
        return None
    if rc != 0:
        fail("pp-range %s exited %d" % (topic, rc), err)
        return None
    logs = parse_logs(out, "pp-range " + topic)
    rc, out, err = run(["pp-length", topic])
    if rc != 0:
        fail("pp-length %s exited %d" % (topic, rc), err)
    elif int(out.strip()) != len(logs):
        fail("pp-length %s says %s, pp-range printed %d logs" % (topic, out.strip(), len(logs)))
    return logs


def complete_lines(path):
    """Newline-terminated lines of a file (a process killed while printing leaves a partial one)."""
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    lines = data.split("\n")
    return lines[:-1]


# ---------------------------------------------------------------- crash verification

def cmd_crash_verify(a):
    """The invariants after one SIGKILL of the crash workload (see crash.sh)."""
    with open(a.state) as f:
        st = json.load(f)
    d = a.iterdir
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".failed"):
            fail("the workload saw a tool fail: %s: %s" % (fn, open(os.path.join(d, fn)).read().strip()))
    rc, out, err = run(["pp-check"])
    if rc != 0:
        fail("pp-check exited %d after the kill" % rc, out, err)
        return finish_crash(st, a, None)

    topics = {}
    ranges = {}
    for t in ("a", "b", "c", "out"):
        logs = read_topic(t)
        topics[t] = logs or []
        ranges[t] = check_dense(topics[t], "topic " + t)
    if failures:
        return finish_crash(st, a, None)

    # b has a proc that never claims: the GC never collects it, so it shows every batch.
    b = topics["b"]
    if b and seq_of(b[0][0]) != 0:
        fail("topic b (kept whole by proc keep_b) starts at sequence %d" % seq_of(b[0][0]))
    end = len(b)
    if end < st["end"]:
        fail("topic b holds %d logs, %d were there after the last check" % (end, st["end"]))
    bodies_b = {}
    for lid, body in b:
        if body in bodies_b:
            fail("batch body %s stored twice in b (%s and %s)" % (body, bodies_b[body], lid))
            break
        bodies_b[body] = lid
    # No commit partly visible: a and c end where b ends, and hold the same ids (a batch
    # shares one timestamp) and bodies at every sequence they still hold.
    for t in ("a", "c"):
        r = ranges[t]
        if r is None:
            continue
        if r[1] != end:
            fail("topic %s ends at sequence %d, b at %d: a batch is partly visible" % (t, r[1], end))
            continue
        if r[0] < st["start"][t]:
            fail("topic %s starts at %d, it started at %d before: collected logs came back" % (t, r[0], st["start"][t]))
        for (lid, body) in topics[t]:
            s = seq_of(lid)
            if b[s] != (lid, body):
                fail("topic %s holds %s %s at sequence %d, b holds %s %s" % (t, lid, body, s, b[s][0], b[s][1]))
                break
    start = {t: (ranges[t][0] if ranges[t] else None) for t in ("a", "c")}

    # Proc P: acked count == output length; every output names the input at its sequence.
    rc, out, err = run(["pp-procs", "inspect", "P"])
    acked = None
    if rc != 0:
        fail("pp-procs inspect P exited %d" % rc, err)
    else:
        p = json.loads(out)
        r = p["lastAckedRange"]
        acked = seq_of(r.split("..")[-1]) + 1 if r else 0
        outs = topics["out"]
        if outs and seq_of(outs[0][0]) != 0:
            fail("topic out (kept whole by proc keep_out) starts at %d" % seq_of(outs[0][0]))
        if len(outs) != acked:
            fail("proc P acked %d logs (lastAckedRange %s) but out holds %d" % (acked, r, len(outs)))
        if acked < st["acked"]:
            fail("proc P acked %d logs, %d before the kill: an ack was lost" % (acked, st["acked"]))
        if p["status"] != "active":
            fail("proc P is %s" % p["status"])
        if p["lag"] != end - acked:
            fail("proc P lag %s, expected %d (end %d, acked %d)" % (p["lag"], end - acked, end, acked))
        if start["a"] is not None and start["a"] > acked:
            fail("GC collected a up to %d, but P acked only %d: unacked logs collected" % (start["a"], acked))
        for j, (lid, body) in enumerate(outs):
            src = json.loads(body).get("src", "")
            if seq_of(src) != j:
                fail("out log %s names input %s, expected sequence %d" % (lid, src, j))
                break
            if j < end and b[j][0] != src:
                fail("out log %s names %s, but a/b sequence %d is %s" % (lid, src, j, b[j][0]))
                break

    # Every id printed before the kill is readable, unless the GC collected it.
    holds = {t: {seq_of(lid): (lid, body) for lid, body in topics[t]} for t in topics}
    printed = st.setdefault("printed", {})
    new_printed = 0

    def note(t, lid, body=None):
        nonlocal new_printed
        new_printed += 1
        old = printed.setdefault(t, {}).get(str(seq_of(lid)))
        if old and old[0] != lid:
            fail("two different ids printed for sequence %d of %s: %s and %s" % (seq_of(lid), t, old[0], lid))
        if old and body is None:
            body = old[1]  # a claim of a log a writer printed: keep the body to check
        printed[t][str(seq_of(lid))] = [lid, body]

    for w in range(a.writers):
        lines = complete_lines(os.path.join(d, "w%d.ids" % w))
        k0 = a.k0 + w * 100000
        for i, lid in enumerate(lines):
            note("abc"[i % 3], lid, '{"batch":%d}' % (k0 + i // 3))
        st["stats"]["batches"] += len(lines) // 3
    n = 0
    while os.path.exists(os.path.join(d, "claim.%d" % n)):
        claim = complete_lines(os.path.join(d, "claim.%d" % n))
        for lid in claim:
            note("a", lid)
        st["stats"]["claims"] += 1 if claim else 0
        ack = complete_lines(os.path.join(d, "ack.%d" % n))
        if ack and claim:
            want = claim[0] if len(claim) == 1 else "%s..%s" % (claim[0], claim[-1])
            if ack[0] != want:
                fail("pp-ack --commit printed acked range %s for the claim %s" % (ack[0], want))
            if acked is not None and seq_of(claim[-1]) >= acked:
                fail("pp-ack printed %s as acked, but P acked only %d logs" % (ack[0], acked))
            for k, oid in enumerate(ack[1:]):
                if k < len(claim):
                    note("out", oid, json.dumps({"src": claim[k]}, separators=(",", ":")))
            st["stats"]["acks"] += 1
        n += 1
    for line in complete_lines(os.path.join(d, "gc.out")):
        try:
            st["stats"]["collected"] += json.loads(line)["collected"]
        except Exception:  # noqa: BLE001
            fail("pp-gc --json printed %r" % line)
    for t in list(printed):
        for sq, (lid, body) in list(printed[t].items()):
            s = int(sq)
            tstart = seq_of(topics[t][0][0]) if topics[t] else None
            if s not in holds[t]:
                if t in ("a", "c") and (tstart is None or s < tstart) and s < end:
                    del printed[t][sq]  # collected by the GC
                    st["stats"]["printed_collected"] += 1
                    continue
                fail("%s (printed for topic %s) is not readable" % (lid, t))
                continue
            if holds[t][s][0] != lid or (body is not None and holds[t][s][1] != body):
                fail("printed %s %s for topic %s, the topic holds %s %s" % (lid, body, t, *holds[t][s]))
    st["stats"]["printed"] += new_printed

    # The next commit gets through at once and continues the sequences.
    probe = "".join('{"topic":"%s","body":{"batch":%d}}\n' % (t, -a.iter) for t in "abc")
    rc, out, err = run(["pp-commit", "--atomic"], stdin=probe.encode(), timeout=20)
    if rc != 0:
        fail("the probe commit after the kill exited %d" % rc, err)
    else:
        ids = out.split()
        if len(ids) != 3 or any(seq_of(x) != end for x in ids) or len(set(ids)) != 1:
            fail("the probe commit printed %s, expected one id at sequence %d three times" % (ids, end))
        else:
            for t in "abc":
                note(t, ids[0], '{"batch":%d}' % -a.iter)
            end += 1
    st["end"] = end
    for t in ("a", "c"):
        if start[t] is not None:
            st["start"][t] = start[t]
    if acked is not None:
        st["acked"] = acked
    return finish_crash(st, a, "kill %d: end %d, a from %s, c from %s, out %d, %d new ids printed"
                        % (a.iter, end, start["a"], start["c"], len(topics["out"]), new_printed))


def finish_crash(st, a, line):
    st["stats"]["kills"] += 1
    with open(a.state + ".tmp", "w") as f:
        json.dump(st, f)
    os.replace(a.state + ".tmp", a.state)
    if line and not failures and a.verbose:
        print(line)
    return 1 if failures else 0


def cmd_crash_stats(a):
    with open(a.state) as f:
        st = json.load(f)
    print(" ".join("%s=%s" % kv for kv in st["stats"].items()))
    return 0


# ---------------------------------------------------------------- truncation sweep

def build_commits(store, layout, sync, seg_bytes):
    """Commits for the truncation sweep. Returns a list of commits, each a list of
    (topic, id, body) in commit order."""
    env = {"PIPEPROC_LOCATION": store}
    if seg_bytes:
        env["PIPEPROC_SEGMENT_BYTES"] = str(seg_bytes)
    flags = [] if sync else ["--no-sync"]
    commits = []
    for n, batch in enumerate(layout):
        envs = [{"topic": t, "body": {"c": n, "k": k, "pad": "p" * ((n * 7 + k * 3) % 5)}}
                for k, t in enumerate(batch)]
        text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in envs)
        rc, out, err = run(["pp-commit", "--atomic"] + flags, env=env, stdin=text.encode())
        if rc != 0:
            raise SystemExit("building the truncation store failed: %s" % err)
        ids = out.split()
        commits.append([(e["topic"], ids[k], json.dumps(e["body"], separators=(",", ":")))
                        for k, e in enumerate(envs)])
    return commits


def cmd_truncate_sweep(a):
    """Cut the last segment of topic x at every byte offset of its last 3 records (on a
    copy of the store, control block deleted) and check what the store shows."""
    rng = random.Random(a.seed)
    work = a.work
    base = os.path.join(work, "base")
    shutil.rmtree(base, ignore_errors=True)
    # x gets most commits; some commits span x and y, one is a batch of 3 logs of x.
    layouts = {
        "singles": [["x"]] * 12 + [["x"], ["x", "y"], ["x"]],
        "batch": [["x"]] * 10 + [["y"], ["x", "x", "x"]],
        "multitopic": [["x"]] * 10 + [["x", "y"], ["y", "x"], ["x", "y", "y"]],
    }
    layout = layouts[a.layout]
    commits = build_commits(base, layout, a.sync, a.seg_bytes)
    xdir = os.path.join(base, "topics", "x")
    segs = sorted(f for f in os.listdir(xdir) if f.endswith(".log"))
    last = segs[-1]
    recs = seg_records(os.path.join(xdir, last))
    size = os.path.getsize(os.path.join(xdir, last))
    # Records of small durable commits travel in the journal too: recovery writes them
    # back, so a cut does not lose them.
    carried_ops = carried_ranges(base, "x", int(last.split(".")[0]))
    carried = {r[2] for r in recs if any(a <= r[0] and r[0] + r[1] <= b for a, b in carried_ops)}
    if a.sync and not a.seg_bytes and not carried:
        raise SystemExit("the durable commits of the sweep were expected to travel in the journal")
    # Every byte offset of the last 3 records; a segment holding fewer is cut from 0 on
    # (its header included).
    first_off = recs[-3][0] if len(recs) >= 3 else 0
    offsets = list(range(first_off, size))
    if a.sample and len(offsets) > a.sample:
        offsets = sorted(rng.sample(offsets, a.sample))
    # The seq of x each record of the last segment holds, to know which commits survive.
    stats = {"offsets": 0, "reopened": 0, "repaired": 0, "cut": 0, "unrecoverable": 0}
    unrecoverable = []
    for off in offsets:
        stats["offsets"] += 1
        st = os.path.join(work, "cut")
        shutil.rmtree(st, ignore_errors=True)
        shutil.copytree(base, st, ignore=shutil.ignore_patterns("control"))
        os.truncate(os.path.join(st, "topics", "x", last), off)
        env = {"PIPEPROC_LOCATION": st}
        if a.seg_bytes:
            env["PIPEPROC_SEGMENT_BYTES"] = str(a.seg_bytes)
        # The surviving records of x: those that end at or before the cut.
        intact_x = set()
        for s in segs[:-1]:
            for r in seg_records(os.path.join(xdir, s)):
                intact_x.add(r[2])
        # Carried records come back when the file reaches their start (no hole before them).
        have = off
        for r in recs:
            if r[0] + r[1] <= have or (r[2] in carried and r[0] <= have):
                intact_x.add(r[2])
                have = max(have, r[0] + r[1])
        # The expected state: the longest prefix of commits whose x records are intact.
        want = {"x": [], "y": []}
        for c in commits:
            if any(t == "x" and seq_of(i) not in intact_x for t, i, _ in c):
                break
            for t, i, body in c:
                want[t].append((i, body))
        label = "%s/%s cut at %d of %d" % (a.layout, "sync" if a.sync else "no-sync", off, size)
        rc, out, err = run(["pp-check"], env=env)
        how = "reopened"
        if rc == 74 and a.sync:
            # Synced, committed bytes are gone: that is corruption, and --repair --cut
            # must bring the store back to the valid prefix.
            if "corrupt_record" not in err and "x" not in out + err:
                fail("%s: pp-check exit 74 without naming the damage" % label, out, err)
            rc2, out2, err2 = run(["pp-check", "--repair"], env=env)
            if rc2 != 0:
                rc2, out2, err2 = run(["pp-check", "--repair", "--cut"], env=env)
                how = "cut"
            else:
                how = "repaired"
            if rc2 != 0:
                stats["unrecoverable"] += 1
                unrecoverable.append((off, (out2 + err2).strip().splitlines()[-1:] or [""]))
                continue
        elif rc == 74:
            rc2, out2, err2 = run(["pp-check", "--repair"], env=env)
            how = "repaired"
            if rc2 != 0:
                fail("%s: pp-check exit 74 and --repair exit %d" % (label, rc2), out, err, out2, err2)
                continue
        elif rc != 0:
            fail("%s: pp-check exited %d" % (label, rc), out, err)
            continue
        rc, out, err = run(["pp-check"], env=env)
        if rc != 0:
            fail("%s: pp-check after %s exited %d" % (label, how, rc), out, err)
            continue
        stats[how] += 1
        got = {}
        for t in ("x", "y"):
            rc, out, err = run(["pp-range", t], env=env)
            if rc == 1 and "invalid_topic" in err:
                got[t] = []
            elif rc != 0:
                fail("%s: pp-range %s exited %d" % (label, t, rc), err)
                got[t] = None
            else:
                got[t] = parse_logs(out, "pp-range " + t)
        if got["x"] is None or got["y"] is None:
            continue
        if how == "cut":
            # --repair --cut keeps x up to the first missing record and every log of y.
            all_x = [(i, body) for c in commits for t, i, body in c if t == "x"]
            first_missing = min(sq for sq in range(len(all_x)) if sq not in intact_x)
            want = {"x": all_x[:first_missing],
                    "y": [(i, body) for c in commits for t, i, body in c if t == "y"]}
        for t in ("x", "y"):
            if got[t] != want[t]:
                fail("%s: after %s topic %s holds %d logs, expected %d"
                     % (label, how, t, len(got[t]), len(want[t])),
                     "got  %s" % [i for i, _ in got[t]][-6:], "want %s" % [i for i, _ in want[t]][-6:])
        # New commits continue the sequence (x, and y with it in one atomic batch).
        nx, ny = len(got["x"]), len(got["y"])
        rc, out, err = run(["pp-commit", "--atomic"], env=env,
                           stdin=b'{"topic":"x","body":"after"}\n{"topic":"y","body":"after"}\n')
        ids = out.split()
        if rc != 0 or len(ids) != 2 or seq_of(ids[0]) != nx or seq_of(ids[1]) != ny:
            fail("%s: the next commit printed %s (exit %d), expected sequences %d and %d"
                 % (label, ids, rc, nx, ny), err)
            continue
        rc, out, err = run(["pp-check"], env=env)
        if rc != 0:
            fail("%s: pp-check after the next commit exited %d" % (label, rc), out, err)
    if unrecoverable:
        fail("%s/%s: %d of %d cuts left a store that neither --repair nor --repair --cut brings back"
             % (a.layout, "sync" if a.sync else "no-sync", len(unrecoverable), stats["offsets"]),
             *["cut at %d: %s" % (o, m[0]) for o, m in unrecoverable[:3]])
    print("TRUNC layout=%s sync=%d %s" % (a.layout, a.sync, " ".join("%s=%d" % kv for kv in stats.items())))
    return 1 if failures else 0


# ---------------------------------------------------------------- corruption: --repair --cut

def cmd_cut_check(a):
    """After pp-check --repair --cut: the topic is a prefix of the pristine logs, and every
    pristine log after it but the damaged ones is in lost+found/TOPIC.SEQ.jsonl."""
    pristine = complete_lines(a.pristine)
    got = complete_lines(a.topic_out)
    damaged = set(a.damaged)
    if got != pristine[:len(got)]:
        fail("after --repair --cut topic %s is not a prefix of its logs" % a.topic)
        return 1
    cut = len(got)
    if cut > min(damaged | {len(pristine)}):
        fail("after --repair --cut topic %s still holds %d logs, the damage is at sequence %d"
             % (a.topic, cut, min(damaged)))
    lost = []
    lf = os.path.join(a.store, "lost+found")
    names = sorted(os.listdir(lf)) if os.path.isdir(lf) else []
    for n in names:
        if n.startswith(a.topic + "."):
            lost += complete_lines(os.path.join(lf, n))
    want_name = "%s.%d.jsonl" % (a.topic, cut)
    after = pristine[cut:]
    valid_after = [l for l in after if seq_of(json.loads(l)["id"]) not in damaged]
    if valid_after and want_name not in names:
        fail("no lost+found/%s (lost+found holds %s)" % (want_name, names))
    missing = [l for l in valid_after if l not in set(lost)]
    wrong = [l for l in lost if l not in set(after)]
    if wrong:
        fail("lost+found holds %d logs that are not pristine logs after the cut" % len(wrong), wrong[0][:200])
    if missing:
        fail("%d valid logs after the cut at %d are neither in topic %s nor in lost+found"
             % (len(missing), cut, a.topic), "first: " + missing[0][:200])
    if lost != [l for l in valid_after if l in set(lost)]:
        fail("lost+found is not in sequence order")
    print("cut at %d: %d logs kept, %d saved to lost+found, %d damaged"
          % (cut, cut, len(lost), len(after) - len(valid_after)))
    return 1 if failures else 0


def cmd_reads_compare(a):
    """Compare two outputs of corruption.sh's reads(): each read ("## CMD" block) gives the
    same output and exit code, or (--allow-corrupt) fails with exit 74 corrupt_record."""
    def blocks(path):
        out, cur = {}, None
        for line in complete_lines(path):
            if line.startswith("## "):
                cur = line[3:]
                out[cur] = []
            elif cur is not None:
                out[cur].append(line)
        return out
    want, got = blocks(a.want), blocks(a.got)
    refused = 0
    for cmd, lines in want.items():
        g = got.get(cmd)
        if g == lines:
            continue
        if a.allow_corrupt and g and g[-1] == "rc=74" and any("corrupt_record" in l for l in g):
            refused += 1
            continue
        fail("%s: output differs" % cmd, "want: %s" % " | ".join(lines)[:300], "got:  %s" % " | ".join(g or [])[:300])
    if refused:
        print("%d reads refused with corrupt_record" % refused)
    return 1 if failures else 0


# ---------------------------------------------------------------- soak verdict

def cmd_soak_verify(a):
    d = a.dir
    for fn in sorted(os.listdir(d)):
        path = os.path.join(d, fn)
        if fn.endswith(".failed") or (fn.endswith(".err") and os.path.getsize(path) > 0):
            fail("%s: %s" % (fn, open(path, errors="replace").read().strip()[:400]))
    # What each writer printed: line i of wW.ids is the log {"w":W,"n":i} of topic t(W%4).
    printed = {x: {} for x in range(4)}
    for w in range(a.writers):
        for i, lid in enumerate(complete_lines(os.path.join(d, "w%d.ids" % w))):
            printed[w % 4][lid] = '{"w":%d,"n":%d}' % (w, i)
    stats = {"logs": 0, "reader_lines": 0}
    ends = {}
    for x in range(4):
        logs = parse_logs("\n".join(complete_lines(os.path.join(d, "r%d.out" % x))), "reader of t%d" % x)
        stats["reader_lines"] += len(logs)
        r = check_dense(logs, "reader of t%d" % x)
        if logs and r and r[0] != 0:
            fail("reader of t%d started at sequence %d, not 0" % (x, r[0]))
        ends[x] = len(logs)
        seen = dict(logs)
        if len(seen) != len(logs):
            fail("reader of t%d printed a log twice" % x)
        missing = [lid for lid in printed[x] if lid not in seen]
        if missing:
            fail("reader of t%d did not print %d logs a writer committed, e.g. %s" % (x, len(missing), missing[0]))
        wrong = [lid for lid, body in printed[x].items() if lid in seen and seen[lid] != body]
        if wrong:
            fail("reader of t%d printed %s with body %s, the writer wrote %s"
                 % (x, wrong[0], seen[wrong[0]], printed[x][wrong[0]]))
        extra = [lid for lid, _ in logs if lid not in printed[x]]
        if extra:
            fail("reader of t%d printed %d logs no writer reported, e.g. %s" % (x, len(extra), extra[0]))
        last_n = {}
        for lid, body in logs:
            o = json.loads(body)
            if o["n"] != last_n.get(o["w"], -1) + 1:
                fail("reader of t%d: writer %d's log %d follows its log %d" % (x, o["w"], o["n"], last_n.get(o["w"], -1)))
                break
            last_n[o["w"]] = o["n"]
        stats["logs"] += len(printed[x])
    # Procs: acked == logs in outJ after its marker; outJ log k names tJ's log k - 1.
    acked_total = 0
    for j in range(a.procs):
        rc, out, err = run(["pp-procs", "inspect", "P%d" % j])
        if rc != 0:
            fail("pp-procs inspect P%d exited %d" % (j, rc), err)
            continue
        p = json.loads(out)
        r = p["lastAckedRange"]
        acked = seq_of(r.split("..")[-1]) + 1 if r else 0
        acked_total += acked
        if p["lag"] != 0 or acked != ends[j]:
            fail("P%d acked %d of the %d logs of t%d (lag %s)" % (j, acked, ends[j], j, p["lag"]))
        outs = read_topic("out%d" % j) or []
        if len(outs) - 1 != acked:
            fail("P%d acked %d logs, out%d holds %d results" % (j, acked, j, len(outs) - 1))
        for k, (lid, body) in enumerate(outs[1:]):
            src = json.loads(body).get("src", "")
            if seq_of(src) != k:
                fail("out%d log %s names %s, expected sequence %d of t%d" % (j, lid, src, k, j))
                break
    stats["acked"] = acked_total
    collected = 0
    for line in complete_lines(os.path.join(d, "gc.out")):
        collected += json.loads(line)["collected"]
    stats["gc_collected"] = collected
    # Memory and open files of the readers: first quarter against last quarter.
    samples = {}
    for line in complete_lines(os.path.join(d, "samples")):
        f = line.split()
        if len(f) == 5:
            samples.setdefault(f[1], []).append(tuple(int(v) for v in (f[0], f[2], f[3], f[4])))
    worst = {"rss_growth_kb": 0, "anon_growth_kb": 0, "fd_growth": 0}
    for pid, ss in samples.items():
        if len(ss) < 8:
            fail("only %d samples of reader %s" % (len(ss), pid))
            continue
        q = len(ss) // 4
        first, last = ss[:q], ss[-q:]

        def mx(rows, k):
            return max(r[k] for r in rows)
        rss0, rss1 = mx(first, 1), mx(last, 1)
        anon0, anon1 = mx(first, 2), mx(last, 2)
        fd0, fd1 = mx(first, 3), mx(last, 3)
        worst["rss_growth_kb"] = max(worst["rss_growth_kb"], rss1 - rss0)
        worst["anon_growth_kb"] = max(worst["anon_growth_kb"], anon1 - anon0)
        worst["fd_growth"] = max(worst["fd_growth"], fd1 - fd0)
        print("reader %s: VmRSS %d -> %d KiB, RssAnon %d -> %d KiB, fds %d -> %d (max of the first and last quarter, %d samples)"
              % (pid, rss0, rss1, anon0, anon1, fd0, fd1, len(ss)))
        if rss1 > rss0 * 1.25 + 2048:
            fail("reader %s: VmRSS grew from %d to %d KiB" % (pid, rss0, rss1))
        if anon1 > anon0 * 1.25 + 1024:
            fail("reader %s: RssAnon grew from %d to %d KiB" % (pid, anon0, anon1))
        if fd1 > fd0 + 2:
            fail("reader %s: open files grew from %d to %d" % (pid, fd0, fd1))
    stats.update(worst)
    print("STATS " + " ".join("%s=%s" % kv for kv in stats.items()))
    return 1 if failures else 0


# ---------------------------------------------------------------- small commands

def cmd_segrecords(a):
    for r in seg_records(a.file):
        print(*r)
    return 0


def cmd_jrecords(a):
    for r in journal_records(a.file):
        print(*r)
    return 0


def cmd_fsize(a):
    """Run a command with RLIMIT_FSIZE = LIMIT bytes (what `ulimit -f` sets in KiB), SIGXFSZ
    ignored (the write fails with EFBIG) or, with --xfsz-default, at its default action.
    Its stdout and stderr go through pipes (a file would be limited too) to --out/--err;
    exits with the command's exit code (128+N for a signal)."""
    import resource

    def limit():
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (a.limit, hard))
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL if a.xfsz_default else signal.SIG_IGN)

    p = subprocess.run(a.cmd, stdin=sys.stdin, capture_output=True, preexec_fn=limit)
    with open(a.out, "wb") as f:
        f.write(p.stdout)
    with open(a.err, "wb") as f:
        f.write(p.stderr)
    return p.returncode if p.returncode >= 0 else 128 - p.returncode


def cmd_flip(a):
    flip_bit(a.file, a.offset, a.bit)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("crash-verify")
    p.add_argument("--state", required=True)
    p.add_argument("--iterdir", required=True)
    p.add_argument("--iter", type=int, required=True)
    p.add_argument("--k0", type=int, required=True)
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(fn=cmd_crash_verify)
    p = sub.add_parser("crash-stats")
    p.add_argument("--state", required=True)
    p.set_defaults(fn=cmd_crash_stats)
    p = sub.add_parser("truncate-sweep")
    p.add_argument("--work", required=True)
    p.add_argument("--layout", default="singles")
    p.add_argument("--sync", type=int, default=1)
    p.add_argument("--seg-bytes", type=int, default=0)
    p.add_argument("--sample", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(fn=cmd_truncate_sweep)
    p = sub.add_parser("cut-check")
    p.add_argument("--store", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--pristine", required=True)
    p.add_argument("--topic-out", required=True)
    p.add_argument("--damaged", type=int, nargs="*", default=[])
    p.set_defaults(fn=cmd_cut_check)
    p = sub.add_parser("reads-compare")
    p.add_argument("want")
    p.add_argument("got")
    p.add_argument("--allow-corrupt", action="store_true")
    p.set_defaults(fn=cmd_reads_compare)
    p = sub.add_parser("soak-verify")
    p.add_argument("--dir", required=True)
    p.add_argument("--writers", type=int, default=8)
    p.add_argument("--procs", type=int, default=3)
    p.set_defaults(fn=cmd_soak_verify)
    p = sub.add_parser("segrecords")
    p.add_argument("file")
    p.set_defaults(fn=cmd_segrecords)
    p = sub.add_parser("jrecords")
    p.add_argument("file")
    p.set_defaults(fn=cmd_jrecords)
    p = sub.add_parser("fsize")
    p.add_argument("--xfsz-default", action="store_true")
    p.add_argument("--out", default="/dev/null")
    p.add_argument("--err", default="/dev/null")
    p.add_argument("limit", type=int)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_fsize)
    p = sub.add_parser("flip")
    p.add_argument("file")
    p.add_argument("offset", type=int)
    p.add_argument("bit", type=int)
    p.set_defaults(fn=cmd_flip)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    a = ap.parse_args()
    sys.exit(a.fn(a))


if __name__ == "__main__":
    main()
