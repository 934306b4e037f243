#!/usr/bin/env python3
"""Checks tests/vectors/schemes.jsonl against lib/schemes.tsv, on its own (no wpay binary).

It validates the table (9 non-empty columns, known levels and checks, unique rule ids), parses
every vector's payload as EMV (lengths in characters), checks its CRC, and evaluates the table
with a small reference reading of the rules (the same semantics lib/schemes.c implements, as
the table's header comment states), then compares with each vector's "expect". It also checks
coverage: every must rule has an invalid vector that fails it, every should rule a vector that
warns, every scheme with must rules has
three valid vectors (or is listed in SHORT with the reason).

  tests/vectors/check.py [--table lib/schemes.tsv] [--vectors tests/vectors/schemes.jsonl]
                         [--scanqr path/to/wpay-scanqr]

With --scanqr, each payload is also read by wpay-scanqr --payload and its emv.valid compared with
expect.emv_valid (and scheme.valid with expect.scheme_valid once scanqr reports a "scheme" object).
Exit status 0 when everything holds, 1 otherwise; each problem is one line on stderr.
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

LEVELS = {"detect", "must", "should"}
DETECT_CHECKS = {"gui", "gui-prefix", "gui-contains", "present"}
VALUE_CHECKS = {"present", "absent", "equals", "maxlen", "minlen", "length", "digits", "alnum",
                "ans", "prefix", "contains", "decimals"}
NUMERIC_ARG = {"maxlen", "minlen", "length", "decimals"}
NO_ARG = {"present", "absent", "digits", "alnum", "ans"}
# Schemes with fewer than three published valid payloads found (say why; the report repeats it).
SHORT = {
    "UPI": "one cited EMV (BharatQR) payload with a UPI template found in public test suites",
    "DuitNow": "two payloads published in PayNet's specification (Examples 1 and 2); no cited test suite",
}

PATH_RE = re.compile(r"^(@|\d\d)(\.\d\d)?$")


def fail(problems, msg):
    problems.append(msg)


def crc16(text):
    """CRC-16/CCITT-FALSE over the UTF-8 bytes, as EMV QRCPS 4.7.3 specifies."""
    crc = 0xFFFF
    for b in text.encode("utf-8"):
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return "%04X" % crc


def parse_tlv(s):
    """List of (id, value) or None when s is not a TLV sequence (lengths in characters)."""
    out, i = [], 0
    while i < len(s):
        if i + 4 > len(s) or not s[i:i + 4].isdigit():
            return None
        n = int(s[i + 2:i + 4])
        v = s[i + 4:i + 4 + n]
        if len(v) != n:
            return None
        out.append((s[i:i + 2], v))
        i += 4 + n
    return out


def is_template(tid):
    n = int(tid)
    return 26 <= n <= 51 or n in (62, 64) or 80 <= n <= 99


def parse_payload(s):
    """{id: value} top level and {id: {sub: value}} for templates, first occurrence wins."""
    top = parse_tlv(s)
    if top is None:
        return None
    objs, subs, order = {}, {}, []
    for tid, v in top:
        if tid in objs:
            continue
        objs[tid] = v
        order.append(tid)
        if is_template(tid):
            sub = parse_tlv(v)
            if sub is not None:
                subs[tid] = {}
                for sid, sv in sub:
                    subs[tid].setdefault(sid, sv)
    return {"objs": objs, "subs": subs, "order": order}


def id_set(spec):
    """'26-51' | '29|30' | '51' -> ordered list of ids."""
    ids = []
    for part in spec.split("|"):
        if "-" in part:
            a, b = part.split("-")
            ids += ["%02d" % n for n in range(int(a), int(b) + 1)]
        else:
            ids.append(part)
    return ids


def load_table(path, problems):
    rows = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            where = "%s:%d" % (os.path.relpath(path, ROOT), n)
            if len(cols) != 9 or any(not c.strip() for c in cols):
                fail(problems, "%s: 9 non-empty tab-separated columns, found %d" % (where, len(cols)))
                continue
            scheme, rule, level, when, check, obj, arg, says, source = cols
            if rule in seen:
                fail(problems, "%s: rule id %s twice" % (where, rule))
            seen.add(rule)
            if level not in LEVELS:
                fail(problems, "%s: level %r" % (where, level))
            if level == "detect":
                if check not in DETECT_CHECKS:
                    fail(problems, "%s: detect check %r" % (where, check))
                if check.startswith("gui") and not re.match(r"^\d\d(-\d\d)?(\|\d\d(-\d\d)?)*$", obj):
                    fail(problems, "%s: gui object %r is not ids or ranges" % (where, obj))
                if when != "-":
                    fail(problems, "%s: a detect row has no condition" % where)
            else:
                if check not in VALUE_CHECKS:
                    fail(problems, "%s: check %r" % (where, check))
                paths = obj.split("|")
                if len(paths) > 1 and check != "present":
                    fail(problems, "%s: 'A|B' objects only with present" % where)
                for p in paths:
                    if not PATH_RE.match(p):
                        fail(problems, "%s: object path %r" % (where, p))
                if check in NUMERIC_ARG and not arg.isdigit():
                    fail(problems, "%s: %s takes a number, not %r" % (where, check, arg))
                if check in NO_ARG and arg != "-":
                    fail(problems, "%s: %s takes no argument" % (where, check))
                if when != "-":
                    m = re.match(r"^(!?)([@\d.]+)(=(.+))?$", when)
                    if not m or not PATH_RE.match(m.group(2)) or (m.group(1) and m.group(3)):
                        fail(problems, "%s: condition %r" % (where, when))
            if "\t" in says or len(says) > 160:
                fail(problems, "%s: says is one short line" % where)
            rows.append(dict(scheme=scheme, rule=rule, level=level, when=when, check=check, obj=obj,
                             arg=arg, says=says, source=source, line=n))
    return rows


def lookup(p, path, at):
    """Value at a path ('58', '62.05', '@', '@.01') or None; '@' resolves to template id at."""
    head, _, sub = path.partition(".")
    if head == "@":
        if at is None:
            return None
        head = at
    if not sub:
        return p["objs"].get(head)
    return p["subs"].get(head, {}).get(sub)


def holds(p, cond, at):
    if cond == "-":
        return True
    if cond.startswith("!"):
        return lookup(p, cond[1:], at) is None
    path, eq, values = cond.partition("=")
    v = lookup(p, path, at)
    if not eq:
        return v is not None
    return v is not None and v in values.split("|")


def value_ok(check, v, arg):
    """A value check on a present object."""
    if check == "equals":
        return v in arg.split("|")
    if check == "maxlen":
        return len(v) <= int(arg)
    if check == "minlen":
        return len(v) >= int(arg)
    if check == "length":
        return len(v) == int(arg)
    if check == "digits":
        return v != "" and all("0" <= c <= "9" for c in v)
    if check == "alnum":
        return v != "" and all(c.isascii() and c.isalnum() for c in v)
    if check == "ans":
        return all(" " <= c <= "~" for c in v)
    if check == "prefix":
        return any(v.startswith(x) for x in arg.split("|"))
    if check == "contains":
        return arg in v
    if check == "decimals":
        if "." not in v:
            return True
        return int(arg) > 0 and len(v.split(".", 1)[1]) <= int(arg)
    raise ValueError(check)


def detect(p, rows):
    """{scheme: template id where its GUI was found, or the present object, or None}."""
    found = {}
    for r in rows:
        if r["level"] != "detect":
            continue
        if r["check"] == "present":
            for oid in r["obj"].split("|"):
                if oid in p["objs"]:
                    found.setdefault(r["scheme"], oid)
                    break
            continue
        ids = set(id_set(r["obj"]))
        for tid in p["order"]:  # payload order: the first template that matches
            gui = p["subs"].get(tid, {}).get("00")
            if tid not in ids or gui is None:
                continue
            g, a = gui.upper(), r["arg"].upper()
            if (r["check"] == "gui" and g == a) or (r["check"] == "gui-prefix" and g.startswith(a)) or \
                    (r["check"] == "gui-contains" and a in g):
                # the earliest template wins across a scheme's detect rows
                prev = found.get(r["scheme"])
                if prev is None or (prev in p["order"] and p["order"].index(tid) < p["order"].index(prev)):
                    found[r["scheme"]] = tid
                break
    return found


def evaluate(p, rows):
    """(recognised schemes, failing must ids, failing should ids)."""
    found = detect(p, rows)
    musts, shoulds = [], []
    for r in rows:
        if r["level"] == "detect" or r["scheme"] not in found:
            continue
        at = found[r["scheme"]]
        if not holds(p, r["when"], at):
            continue
        paths = r["obj"].split("|")
        if r["check"] == "present":
            ok = any(lookup(p, x, at) is not None for x in paths)
        elif r["check"] == "absent":
            ok = lookup(p, paths[0], at) is None
        else:
            v = lookup(p, paths[0], at)
            ok = v is None or value_ok(r["check"], v, r["arg"])
        if not ok:
            (musts if r["level"] == "must" else shoulds).append(r["rule"])
    return sorted(found), sorted(musts), sorted(shoulds)


def scan(binary, payloads):
    """emv.valid and scheme.valid (if reported) per payload, from wpay-scanqr --payload."""
    text = "".join(x + "\n" for x in payloads)
    out = subprocess.run([binary, "--payload"], input=text.encode("utf-8"), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=False).stdout.decode("utf-8")
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    return recs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default=os.path.join(ROOT, "lib", "schemes.tsv"))
    ap.add_argument("--vectors", default=os.path.join(HERE, "schemes.jsonl"))
    ap.add_argument("--scanqr")
    args = ap.parse_args()
    problems = []
    rows = load_table(args.table, problems)
    by_id = {r["rule"]: r for r in rows}
    schemes_with_musts = {r["scheme"] for r in rows if r["level"] == "must"}
    vectors = []
    with open(args.vectors, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            where = "%s:%d" % (os.path.relpath(args.vectors, ROOT), n)
            try:
                v = json.loads(line)
            except ValueError as e:
                fail(problems, "%s: not JSON: %s" % (where, e))
                continue
            for k, t in (("scheme", str), ("payload", str), ("expect", dict), ("source", str)):
                if not isinstance(v.get(k), t):
                    fail(problems, "%s: %s missing or not a %s" % (where, k, t.__name__))
            if not isinstance(v.get("source_line"), int) or isinstance(v.get("source_line"), bool):
                fail(problems, "%s: source_line is a line number" % where)
            e = v.get("expect", {})
            if not isinstance(e.get("emv_valid"), bool) or not isinstance(e.get("scheme_valid"), bool) or \
                    not isinstance(e.get("rules"), list):
                fail(problems, "%s: expect has emv_valid, scheme_valid (booleans) and rules (a list)" % where)
                continue
            for rid in e["rules"] + e.get("warnings", []):
                if rid not in by_id:
                    fail(problems, "%s: rule %s is not in %s" % (where, rid, os.path.basename(args.table)))
            for rid in e["rules"]:
                if rid in by_id and by_id[rid]["level"] != "must":
                    fail(problems, "%s: %s in rules is not a must rule" % (where, rid))
            for rid in e.get("warnings", []):
                if rid in by_id and by_id[rid]["level"] != "should":
                    fail(problems, "%s: %s in warnings is not a should rule" % (where, rid))
            if e["scheme_valid"] != (not e["rules"]):
                fail(problems, "%s: scheme_valid is true exactly when rules is empty" % where)
            s = v["payload"]
            if v.get("crc_ok", True):
                if len(s) < 8 or s[-8:-4] != "6304" or crc16(s[:-4]) != s[-4:].upper():
                    fail(problems, "%s: CRC: payload ends %r, computed %s" % (where, s[-8:], crc16(s[:-4])))
            p = parse_payload(s)
            if p is None:
                fail(problems, "%s: payload is not EMV TLV" % where)
                continue
            found, musts, shoulds = evaluate(p, rows)
            if v["scheme"] not in found:
                fail(problems, "%s: not recognised as %s (recognised: %s)" % (where, v["scheme"], found))
            if musts != sorted(e["rules"]):
                fail(problems, "%s: rules %s expected, the table gives %s" % (where, sorted(e["rules"]), musts))
            if "warnings" in e and shoulds != sorted(e["warnings"]):
                fail(problems, "%s: warnings %s expected, the table gives %s" % (where, sorted(e["warnings"]), shoulds))
            vectors.append((where, v))
    # coverage
    for r in rows:
        if r["level"] == "must" and not any(r["rule"] in v["expect"]["rules"] for _, v in vectors):
            fail(problems, "%s: must rule %s has no invalid vector" % (os.path.basename(args.table), r["rule"]))
    for r in rows:
        if r["level"] == "should" and not any(r["rule"] in v["expect"].get("warnings", []) for _, v in vectors):
            fail(problems, "%s: should rule %s has no vector that warns" % (os.path.basename(args.table), r["rule"]))
    for scheme in sorted(schemes_with_musts):
        valid = [v for _, v in vectors if v["scheme"] == scheme and v["expect"]["scheme_valid"]
                 and not v["source"].startswith("derived")]
        if len(valid) < 3 and scheme not in SHORT:
            fail(problems, "scheme %s has %d cited valid vectors, not 3" % (scheme, len(valid)))
        if len(valid) < 1:
            fail(problems, "scheme %s has no cited valid vector" % scheme)
    if args.scanqr:
        recs = scan(args.scanqr, [v["payload"] for _, v in vectors])
        if len(recs) != len(vectors):
            fail(problems, "scanqr gave %d records for %d payloads" % (len(recs), len(vectors)))
        for (where, v), rec in zip(vectors, recs):
            emv = rec.get("emv", {})
            if emv.get("valid") != v["expect"]["emv_valid"]:
                fail(problems, "%s: scanqr emv.valid %s, expected %s" % (where, emv.get("valid"),
                                                                       v["expect"]["emv_valid"]))
            sch = rec.get("scheme")
            if isinstance(sch, dict) and "valid" in sch and sch["valid"] != v["expect"]["scheme_valid"]:
                fail(problems, "%s: scanqr scheme.valid %s, expected %s" % (where, sch["valid"],
                                                                          v["expect"]["scheme_valid"]))
    for msg in problems:
        print(msg, file=sys.stderr)
    counts = {}
    for _, v in vectors:
        k = counts.setdefault(v["scheme"], [0, 0, 0])
        k[0 if not v["expect"]["scheme_valid"] else 2 if v["source"].startswith("derived") else 1] += 1
    print("%d rules (%d must, %d should, %d detect), %d vectors: %s" % (
        len(rows), sum(r["level"] == "must" for r in rows), sum(r["level"] == "should" for r in rows),
        sum(r["level"] == "detect" for r in rows), len(vectors),
        ", ".join("%s %d cited valid, %d derived valid, %d invalid" % (s, c[1], c[2], c[0])
                  for s, c in sorted(counts.items()))))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
