#!/usr/bin/env python3
"""Read every photo of the QR corpus with wpay-scanqr, zbarimg and
ZXingReader, one process per image as a script would run them, and print
for each: codes read, wrong texts, and time per image; then the ratios.

Goal (issue 3): at least as many reads as ZXingReader, zero wrong texts,
and no slower per image than zbarimg.

Usage: bench/scan.py [corpus-dir] [wpay-scanqr]"""
import json
import os
import subprocess
import sys
import time

corpus = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/qr-images"
scanqr = sys.argv[2] if len(sys.argv) > 2 else "bin/wpay-scanqr"


passes = {}  # pass -> [images, total ms]


def wpay(path):
    started = time.perf_counter()
    out = subprocess.run([scanqr, path], capture_output=True).stdout.decode("utf-8", "replace")
    ms = (time.perf_counter() - started) * 1000
    recs = [json.loads(line) for line in out.splitlines() if line.strip()]
    found = [r for r in recs if r.get("type") == "scan"]
    p = passes.setdefault(found[0]["pass"] if found else "(none found)", [0, 0.0])
    p[0] += 1
    p[1] += ms
    return [r.get("text", "") for r in found]


def zbarimg(path):
    out = subprocess.run(["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", path], capture_output=True).stdout
    text = out.decode("utf-8", "replace")
    return [text[:-1]] if text else []


def zxing(path):
    out = subprocess.run(["ZXingReader", "-format", "QRCode", path], capture_output=True).stdout.decode("utf-8", "replace")
    texts = []
    start = 0
    while True:
        i = out.find('Text:       "', start)
        if i < 0:
            break
        j = out.find('"\nBytes:', i)
        if j < 0:
            break
        texts.append(out[i + 13:j])
        start = j
    return texts


def main():
    rows = [line.rstrip("\n").split("\t") for line in open(os.path.join(corpus, "MANIFEST.tsv"))][1:]
    tools = [("wpay-scanqr", wpay), ("zbarimg", zbarimg), ("ZXingReader", zxing)]
    results = {}
    for name, fn in tools:
        read = wrong = 0
        started = time.perf_counter()
        for row in rows:
            path = os.path.join(corpus, row[0])
            want = open(os.path.join(corpus, row[1]), "rb").read().decode("utf-8", "replace")
            texts = fn(path)
            if not texts:
                continue
            if want in texts:
                read += 1
            else:
                wrong += 1
        elapsed = time.perf_counter() - started
        results[name] = (read, wrong, elapsed / len(rows) * 1000)
        print(f"{name:12} read {read:3}/{len(rows)}  wrong {wrong:2}  {elapsed / len(rows) * 1000:7.1f} ms/image")
    print("wpay-scanqr by the pass that found the code (what trying harder costs):")
    for name, (n, ms) in sorted(passes.items(), key=lambda kv: -kv[1][0]):
        print(f"  {name:14} {n:3} images  {ms / n:7.1f} ms/image")
    w, z, x = results["wpay-scanqr"], results["zbarimg"], results["ZXingReader"]
    print(f"reads vs ZXingReader: {w[0]}/{x[0]} = {w[0] / max(x[0], 1):.2f}x (goal >= 1.00)")
    print(f"wrong texts: {w[1]} (goal 0)")
    print(f"time per image vs zbarimg: {w[2]:.1f}/{z[2]:.1f} ms = {w[2] / z[2]:.2f}x (goal <= 1.00)")


main()
