#!/usr/bin/python3
"""Distinct colours of a PNG (8-bit RGB or RGBA, non-interlaced: what
chromium's --screenshot writes), decoded with the standard library only,
and how many pixels are clearly blue and clearly red (the report's event
marks and bars, its denied bins). A blank page has one colour and none of
either. Usage: pngcolours.py FILE; prints "COLOURS BLUE RED"."""
import struct
import sys
import zlib


def main():
    data = open(sys.argv[1], "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6) or lace:
        sys.exit("unsupported PNG: depth %d colour type %d" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, colours, off = bytearray(stride), set(), 0
    blue = red = 0
    for _ in range(h):
        f, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        off += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        for i in range(0, stride, bpp):
            r, g, b = line[i:i + 3]
            colours.add((r, g, b))
            blue += b > r + 60 and b > g + 20
            red += r > g + 60 and r > b + 60
        prev = line
    print(len(colours), blue, red)


main()
