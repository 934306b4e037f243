#!/usr/bin/env python3
"""The man pages as a reader sees them, for tests/90-docs.bats and
tests/91-examples.bats.

Usage:
  manpage.py run PAGE        run PAGE's EXAMPLES in the current directory and
                             compare what each command prints with the page
  manpage.py print PAGE      run them and print what each command printed
  manpage.py damage PAGE...  render each page and report signs of damage

The convention (every page's EXAMPLES follow it; the comment at the top of
each EXAMPLES section says so too):

  - Examples are shell sessions in literal displays (.Bd -literal). A line
    that starts with "$ " is a command as typed; a command whose line ends
    in "\\" or "|" goes on over the next, indented, lines.
  - The lines after a command, up to the next "$ " line or the end of the
    display, are what the command prints on standard output, exactly. A
    command that prints nothing is followed straight by the next one.
  - A record (a line starting with "{") may be folded to fit the page: each
    following line that starts with a space continues it, and is joined to
    it without that one space. Folds fall between JSON tokens.
  - "..." in a line stands for text left out (any characters, none
    included); a line that is only "..." stands for any number of lines.
  - What changes from run to run is masked on both sides before they are
    compared: the random ids (wal_, card_, tr_, ord_, pay_, ref_, stl_,
    evt_, msg_, wtr_, wd_), mktemp(1) directories, freshly made signing key ids, hex dumps of
    fresh keys, and 64-digit hex digests (HMACs over such ids). Times are
    not masked: the tests fix the clock (WPAY_NOW), so they are compared.
    The test's HOME is shown as /home/lu and its TMPDIR as /tmp.
  - Every command must exit 0; one that is meant to fail says so itself
    (`... || echo "they differ: $?"`).
  - The records in a page's OUTPUT section are samples of what its examples
    print: each must match, the same way, a line some example prints.

The commands of one page run in order in one bash process (so `export` and
variables carry over), with standard input from /dev/null, in the directory
and environment the test prepared.
"""
import json
import os
import re
import subprocess
import sys

ENV = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")


def strip_overstrike(text):
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return re.sub(r".\x08", "", text)


def render(page, how):
    """The page as text: mandoc -Tascii, mandoc -Tutf8 or groff (as man(1) on Debian)."""
    if how == "ascii":
        cmd = ["mandoc", "-Tascii", page]
    elif how == "utf8":
        cmd = ["mandoc", "-Tutf8", page]
    else:
        cmd = ["groff", "-mandoc", "-Tutf8", "-P-cbou", "-rLL=78n", page]
    out = subprocess.run(cmd, check=True, capture_output=True, env=ENV).stdout.decode("utf-8")
    return strip_overstrike(out)


def sections(text):
    """{section name: [lines]} of a rendered page."""
    out, name = {}, None
    for line in text.split("\n"):
        if re.match(r"^[A-Z][A-Z ]*[A-Z]$", line):
            name = line
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def indent(line):
    return len(line) - len(line.lstrip(" "))


def sessions(lines):
    """[(command, [sample lines])] of the "$ " sessions in rendered lines."""
    out, i, n = [], 0, len(lines)
    while i < n:
        m = re.match(r"^( +)\$ (.*)$", lines[i])
        if not m:
            i += 1
            continue
        ind, cmd = len(m.group(1)), m.group(2)
        i += 1
        while re.search(r"(\\|\|)\s*$", cmd) and i < n and indent(lines[i]) > ind and lines[i].strip():
            cmd += "\n" + lines[i][ind:]
            i += 1
        sample = []
        while i < n and lines[i].strip() and indent(lines[i]) >= ind and not re.match(r"^ {%d}\$ " % ind, lines[i]):
            sample.append(lines[i][ind:].rstrip())
            i += 1
        out.append((cmd, sample))
    return out


def commands(text):
    """Every "$ " command of a rendered page, whatever its section."""
    return [cmd for lines in sections(text).values() for cmd, _ in sessions(lines)]


def unfold(lines):
    out = []
    for line in lines:
        if line.startswith(" ") and out and out[-1].startswith("{"):
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
MASKS = [
    (re.compile(r"\b((?:wal|card|tr|ord|pay|ref|stl|evt|msg|wtr|wd)_(?:[a-z]+_)?)" + ULID + r"\b"), r"\1<id>"),
    (re.compile(r"/tmp/tmp\.[A-Za-z0-9]{10}"), "/tmp/tmp.<dir>"),
    (re.compile(r'("signing_key_id":")[0-9a-f]{8}"'), r'\1<kid>"'),
    (re.compile(r"\bsigning-[0-9a-f]{8}\."), "signing-<kid>."),
    (re.compile(r"^(\s*)(?:[0-9a-f]{2}:)+[0-9a-f]{2}:?$"), r"\1<hex>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hex64>"),
]


def mask(line):
    for pattern, repl in MASKS:
        line = pattern.sub(repl, line)
    return line


def line_pattern(line):
    return re.compile(".*".join(re.escape(part) for part in line.split("...")), re.S)


def matches(sample, actual):
    """Whether the masked sample lines match the masked actual lines."""
    memo = {}

    def go(i, j):
        if (i, j) in memo:
            return memo[i, j]
        if i == len(sample):
            r = j == len(actual)
        elif sample[i] == "...":
            r = go(i + 1, j) or (j < len(actual) and go(i, j + 1))
        else:
            r = j < len(actual) and bool(line_pattern(sample[i]).fullmatch(actual[j])) and go(i + 1, j + 1)
        memo[i, j] = r
        return r

    return go(0, 0)


def page_examples(page):
    secs = sections(render(page, "ascii"))
    samples, base = [], None
    for line in secs.get("OUTPUT", []) + [""]:
        if line.strip() and indent(line) >= 8:
            base = indent(line) if base is None else base
            samples.append(line[base:].rstrip())
        else:
            base = None
    return sessions(secs.get("EXAMPLES", [])), unfold(samples)


def run_sessions(sess):
    """Run the commands in one bash; [(status, stdout lines)] and stderr."""
    script = ["set -o pipefail"]
    for k, (cmd, _) in enumerate(sess):
        script += ["printf '\\n\\036%d\\n' %d" % (k, k), "{ " + cmd + "\n}", "printf '\\n\\036status %d\\n' $?"]
    p = subprocess.run(["bash", "-c", "\n".join(script)], stdin=subprocess.DEVNULL, capture_output=True)
    out = p.stdout.decode("utf-8", "replace")
    home, tmp = os.environ.get("HOME"), os.environ.get("TMPDIR")
    if tmp:
        out = out.replace(tmp, "/tmp")
    if home:
        out = out.replace(home, "/home/lu")
    results = []
    for k in range(len(sess)):
        m = re.search(r"\n\x1e%d\n(.*?)\n\x1estatus (\d+)\n" % k, out, re.S)
        if not m:
            results.append((None, []))
            continue
        body = m.group(1)
        if body.endswith("\n"):
            body = body[:-1]
        results.append((int(m.group(2)), body.split("\n") if body else []))
    return results, p.stderr.decode("utf-8", "replace")


def main_run(page, show):
    sess, output_samples = page_examples(page)
    if not sess:
        print("%s: no examples (no \"$ \" lines in EXAMPLES)" % page)
        return 1
    results, stderr = run_sessions(sess)
    bad = 0
    printed = []
    for (cmd, sample), (status, actual) in zip(sess, results):
        printed += [mask(l) for l in actual]
        if show:
            print("$ " + cmd)
            print("\n".join(actual))
            continue
        want = [mask(l) for l in unfold(sample)]
        got = [mask(l) for l in actual]
        problem = None
        if status is None:
            problem = "did not finish"
        elif status != 0:
            problem = "exit status %d" % status
        elif not matches(want, got):
            problem = "printed something else than the page says"
        if problem:
            bad += 1
            print("%s: example %s: %s" % (page, cmd.replace("\n", " "), problem))
            print("--- the page says (masked, unfolded):")
            print("\n".join(want) or "(nothing)")
            print("+++ it printed (masked):")
            print("\n".join(got) or "(nothing)")
            print("+++ it printed:")
            print("\n".join(actual) or "(nothing)")
    if show:
        return 0
    for record in output_samples:
        if not record.startswith("{"):
            continue
        if not any(matches([mask(record)], [line]) for line in printed):
            bad += 1
            print("%s: the OUTPUT sample %s is not what any example prints" % (page, record))
    if bad:
        print("--- standard error of the examples:")
        print(stderr)
    return 1 if bad else 0


# Characters a UTF-8 rendering may hold besides ASCII: typographic quotes,
# dashes, hyphens and bullets that mandoc and groff make of prose.
ALLOWED = set("\u2018\u2019\u201c\u201d\u2010\u2013\u2014\u2212\u2022\u00d7")
ESCAPE = re.compile(r"\\(f[A-Z1-4(\[]|\(|\[|\*|&|s[-+0-9]|e)")
JQ = re.compile(r"""\bjq((?:\s+-[A-Za-z]+)*)\s+('([^']*)'|"((?:[^"\\]|\\.)*)"|([^\s|;)]+))""")


# A display line that starts with one of these is a command.
COMMAND = re.compile(r"^(wpay|wpay-[a-z]+|jq|echo|printf|cat|cut|openssl|export|sqlite3)( |$)")


def source_problems(page, name):
    """Commands shown without their "$ ", or in a .Dl, which folds a long line."""
    problems, literal = [], False
    for n, line in enumerate(open(page, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.startswith(".Bd") and "-literal" in line:
            literal = True
        elif line.startswith(".Ed"):
            literal = False
        elif line.startswith(".Dl "):
            text = line[4:]
            if text.startswith("$ ") or COMMAND.match(text):
                problems.append("%s:%d: a command in .Dl, which folds a long line and eats quotes: "
                                "put it in a .Bd -literal display, after \"$ \"" % (name, n))
        elif literal and COMMAND.match(line):
            problems.append("%s:%d: a command without its \"$ \" prompt: %r" % (name, n, line))
    return problems


def main_damage(pages):
    problems = []
    for page in pages:
        name = os.path.basename(page)
        problems += source_problems(page, name)
        texts = {how: render(page, how) for how in ("ascii", "utf8", "groff")}
        for how, text in texts.items():
            for n, line in enumerate(text.split("\n"), 1):
                where = "%s (%s) line %d" % (name, how, n)
                odd = [c for c in line if ord(c) > 126 or (ord(c) < 32 and c != "\t")]
                if how == "ascii" and odd:
                    problems.append("%s: not ASCII: %r" % (where, line))
                elif [c for c in odd if c not in ALLOWED]:
                    problems.append("%s: odd glyph %s: %r" % (where, " ".join("U+%04X" % ord(c) for c in odd if c not in ALLOWED), line))
                if ESCAPE.search(line):
                    problems.append("%s: a roff escape shown as text: %r" % (where, line))
                if len(line) > 80:
                    problems.append("%s: %d columns, wider than a terminal: %r" % (where, len(line), line))
        # The sessions must read the same in every rendering, in ASCII only.
        shown = {how: [s for lines in sections(t).values() for s in sessions(lines)] for how, t in texts.items()}
        for how in ("utf8", "groff"):
            if shown[how] != shown["ascii"]:
                problems.append("%s: its examples render differently with %s than with mandoc -Tascii:\n  %s\n  %s"
                                % (name, how, shown["ascii"], shown[how]))
        for how, sess in shown.items():
            for cmd, sample in sess:
                for line in [cmd] + sample:
                    if any(ord(c) > 126 for c in line):
                        problems.append("%s (%s): an example that is not ASCII: %r" % (name, how, line))
        # A record shown whole (no "...") must be JSON.
        records = [r for _, sample in shown["ascii"] for r in unfold(sample)]
        records += [l.strip() for l in texts["ascii"].split("\n") if indent(l) >= 8]
        for record in sorted(set(records)):
            if record.startswith("{") and "..." not in record and record.endswith("}"):
                try:
                    json.loads(record)
                except ValueError as e:
                    problems.append("%s: a record that is not JSON (%s): %r" % (name, e, record))
        for cmd in commands(texts["ascii"]):
            p = subprocess.run(["bash", "-n", "-c", cmd], capture_output=True)
            if p.returncode != 0:
                problems.append("%s: the example does not parse as shell: %r: %s"
                                % (name, cmd, p.stderr.decode().strip()))
            for m in JQ.finditer(cmd):
                filt = m.group(3) if m.group(3) is not None else m.group(4) if m.group(4) is not None else m.group(5)
                p = subprocess.run(["jq", "-n", "empty | (%s)" % filt], capture_output=True)
                if p.returncode != 0:
                    problems.append("%s: the jq filter does not compile: %r: %s"
                                    % (name, filt, p.stderr.decode().strip()))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what == "run":
        sys.exit(main_run(args[0], False))
    if what == "print":
        sys.exit(main_run(args[0], True))
    if what == "damage":
        sys.exit(main_damage(args))
    sys.exit("usage: manpage.py run|print PAGE | damage PAGE...")
