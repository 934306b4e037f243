#!/usr/bin/env python3
"""Write a binary PGM (P5) as a PNG of another kind, for wpay-scanqr's PNG
reader to be tried on every layout the format has:

  png_variant.py KIND IN.pgm OUT.png

KIND is one of
  grey8       colour type 0, 8 bits
  grey16      colour type 0, 16 bits
  grey1       colour type 0, 1 bit (threshold at 128)
  rgb8        colour type 2, the grey in red, green and blue
  rgb16       colour type 2, 16 bits
  palette     colour type 3, 8 bits, a 256-entry grey palette
  trns        colour type 3, light pixels a palette entry that tRNS makes
              fully transparent (and black): only compositing on white
              shows the code
  greyalpha   colour type 4: light pixels black and fully transparent
  rgba        colour type 6: the same
  rgba16      colour type 6, 16 bits: the same
  interlaced  colour type 2, Adam7
  split       rgb8 with its pixels in IDAT chunks of 100 bytes
and, to be refused as damaged, every chunk's CRC right:
  badfilter   rgb8 with a row of filter type 7
  noplte      palette without its PLTE
  short       rgb8 with its compressed pixels cut before the last row
  unended     rgb8 whose zlib stream lacks its end (and its checksum)
Every row is written with a different filter (none, sub, up, average,
Paeth in turn), so the reader's unfiltering is tried too."""
import struct
import sys
import zlib


def read_pgm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5", "want a binary PGM"
    w, h = int(fields[1]), int(fields[2])
    pos += 1
    return w, h, [list(data[pos + y * w:pos + (y + 1) * w]) for y in range(h)]


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filtered(rows, bpp):
    """Each row (bytes) with filter type y % 5 applied."""
    out, prev = b"", bytes(len(rows[0]) if rows else 0)
    for y, row in enumerate(rows):
        t = y % 5
        line = bytearray()
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][t]
            line.append((x - pred) & 0xFF)
        out += bytes([t]) + bytes(line)
        prev = row
    return out


def pack_bits(values, depth):
    out, acc, n = bytearray(), 0, 0
    for v in values:
        acc = (acc << depth) | v
        n += depth
        if n == 8:
            out.append(acc)
            acc, n = 0, 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def main():
    kind, src, dst = sys.argv[1:4]
    w, h, grey = read_pgm(src)
    extra = b""
    interlace = 0
    if kind == "grey8":
        ctype, depth, px = 0, 8, lambda g: [g]
    elif kind == "grey16":
        ctype, depth, px = 0, 16, lambda g: [g, g]
    elif kind == "grey1":
        ctype, depth, px = 0, 1, lambda g: [1 if g >= 128 else 0]
    elif kind in ("rgb8", "interlaced", "split", "badfilter", "short", "unended"):
        ctype, depth, px = 2, 8, lambda g: [g, g, g]
        interlace = 1 if kind == "interlaced" else 0
    elif kind == "rgb16":
        ctype, depth, px = 2, 16, lambda g: [g, g, g, g, g, g]
    elif kind in ("palette", "noplte"):
        ctype, depth, px = 3, 8, lambda g: [g]
        if kind == "palette":
            extra = chunk(b"PLTE", bytes(v for g in range(256) for v in (g, g, g)))
    elif kind == "trns":
        # Entry 0 black and opaque, entry 1 black and transparent.
        ctype, depth, px = 3, 8, lambda g: [1 if g >= 128 else 0]
        extra = chunk(b"PLTE", bytes([0, 0, 0, 0, 0, 0])) + chunk(b"tRNS", bytes([255, 0]))
    elif kind == "greyalpha":
        ctype, depth, px = 4, 8, lambda g: [0, 255 - g]
    elif kind == "rgba":
        ctype, depth, px = 6, 8, lambda g: [0, 0, 0, 255 - g]
    elif kind == "rgba16":
        ctype, depth, px = 6, 16, lambda g: [0, 0, 0, 0, 0, 0, 255 - g, 255 - g]
    else:
        sys.exit("png_variant.py: unknown kind " + kind)
    bpp = max(1, len(px(0)) if depth != 1 else 1)

    def encode(rows_grey):
        rows = []
        for row in rows_grey:
            values = [v for g in row for v in px(g)]
            rows.append(pack_bits(values, 1) if depth == 1 else bytes(values))
        return filtered(rows, bpp) if rows and rows[0] else b""

    if interlace:
        # Adam7: seven passes over sub-images, each filtered on its own.
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b""
        for x0, y0, dx, dy in passes:
            sub = [[grey[y][x] for x in range(x0, w, dx)] for y in range(y0, h, dy)]
            if sub and sub[0]:
                raw += encode(sub)
    else:
        raw = encode(grey)
    if kind == "badfilter":
        stride = len(raw) // h
        raw = raw[:stride * 3] + b"\x07" + raw[stride * 3 + 1:]
    data = zlib.compress(raw, 9)
    if kind == "short":
        d = zlib.compressobj(9)
        data = d.compress(raw[:len(raw) - len(raw) // h - 5]) + d.flush(zlib.Z_SYNC_FLUSH)
    elif kind == "unended":
        d = zlib.compressobj(9)
        data = d.compress(raw) + d.flush(zlib.Z_SYNC_FLUSH)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    pieces = [data[i:i + 100] for i in range(0, len(data), 100)] if kind == "split" else [data]
    idat = b"".join(chunk(b"IDAT", p) for p in pieces)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + idat + chunk(b"IEND", b"")
    open(dst, "wb").write(png)


main()
