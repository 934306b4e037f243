#!/usr/bin/env python3
"""Print the SCHEMES section of wpay-scanqr(1) from lib/schemes.tsv, so that
the page documents exactly the table the program reads. tests/31-schemes.bats
checks that the page holds this text; after changing the table, run

    python3 tests/lib/schemes-man.py lib/schemes.tsv --update man/wpay-scanqr.1

Usage: schemes-man.py TABLE [--update PAGE]"""
import sys
from collections import OrderedDict

START = ".\\\" SCHEMES begin: made by tests/lib/schemes-man.py from lib/schemes.tsv\n"
END = ".\\\" SCHEMES end\n"


def escape(s):
    s = s.replace("\\", "\\e")
    return ("\\&" + s) if s[:1] in (".", "'") else s


def section(table):
    schemes = OrderedDict()
    for line in open(table, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        schemes.setdefault(f[0], []).append(f)
    out = [START]
    out.append(".Bl -tag -width Ds\n")
    for name, rules in schemes.items():
        out.append(".It Sy %s\n" % escape(name))
        detect = [r for r in rules if r[2] == "detect"]
        checks = [r for r in rules if r[2] != "detect"]
        how = []
        for r in detect:
            where = r[5]
            if r[4] == "present":
                how.append("object %s present" % where)
            else:
                verb = {"gui": "is", "gui-prefix": "starts with", "gui-contains": "contains"}[r[4]]
                how.append("the GUI (00) of template %s %s %s" % (where, verb, r[6]))
        out.append("Recognised when %s.\n" % escape("; or ".join(how)))
        if checks:
            out.append(".Bl -dash -compact\n")
            for r in checks:
                cond = "" if r[3] == "-" else " (when %s)" % r[3]
                level = "" if r[2] == "must" else " (a warning)"
                out.append(".It\n%s%s%s:\n%s\n" % (escape(r[1]), level, escape(cond), escape(r[7])))
            out.append(".El\n")
        sources = []
        for r in rules:
            if r[8] != "-" and r[8] not in sources:
                sources.append(r[8])
        if sources:
            out.append("Sources:\n%s.\n" % escape("; ".join(sources)))
    out.append(".El\n")
    out.append(END)
    return "".join(out)


def main():
    text = section(sys.argv[1])
    if len(sys.argv) == 4 and sys.argv[2] == "--update":
        page = open(sys.argv[3], encoding="utf-8").read()
        i, j = page.index(START), page.index(END) + len(END)
        open(sys.argv[3], "w", encoding="utf-8").write(page[:i] + text + page[j:])
    else:
        sys.stdout.write(text)


main()
