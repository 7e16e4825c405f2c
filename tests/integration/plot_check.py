#!/usr/bin/env python3
"""Checks of twampy's SVG pictures for plot.sh and plot_browser.sh.

  plot_check.py svg FILE.svg POLYLINES LOST   well-formed XML, self-contained,
                                              POLYLINES series, LOST lost marks
                                              (a number, or a range "1-5")
  plot_check.py crafted FILE.csv SPEC.json     a --csv file of a crafted run with
                                              lost packets, and its SPEC
  plot_check.py png FILE.png HEADER SPEC.json  what a browser rendered: the
                                              series colours where the data puts
                                              them, red marks at the lost packets

HEADER is include/twampy/plot_svg.h (the layout constants); SPEC says where
the crafted run's lost packets are (fractions of the time axis), where none
is, and the order of the series from top to bottom.
"""
import json
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check_svg(path, polylines, lost):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        fail(f"{path}: not well-formed XML: {e}")
    if root.tag != SVG + "svg":
        fail(f"{path}: the root is {root.tag}, not svg")
    for el in root.iter():
        tag = el.tag.replace(SVG, "")
        if not el.tag.startswith(SVG):
            fail(f"{path}: an element outside the SVG namespace: {el.tag}")
        if tag in ("script", "style", "image", "foreignObject", "a", "use", "iframe"):
            fail(f"{path}: a <{tag}> element: the picture must be self-contained")
        for k, v in el.attrib.items():
            if "href" in k or k.startswith("on") or "url(" in v:
                fail(f"{path}: <{tag} {k}=...>: an external reference or a script")
    n = sum(1 for _ in root.iter(SVG + "polyline"))
    if n != polylines:
        fail(f"{path}: {n} polylines, expected {polylines}")
    marks = sum(1 for el in root.iter(SVG + "line") if el.get("stroke-opacity") == "0.3")
    lo, _, hi = lost.partition("-")
    if not int(lo) <= marks <= int(hi or lo):
        fail(f"{path}: {marks} lost-packet marks, expected {lost}")
    for el in root.iter(SVG + "polyline"):
        for pt in el.get("points").split():
            x, y = (float(c) for c in pt.split(","))
            if not (0 <= x <= 1200 and 0 <= y <= 900):
                fail(f"{path}: a point outside the picture: {pt}")
    print(f"# {path}: well-formed, self-contained, {n} series, {marks} lost marks")


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        (ln,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + ln]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + ln
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail(f"{path}: PNG colour type {ctype} depth {depth} interlace {interlace} not handled")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def rgb(hexstr):
    return tuple(int(hexstr[i : i + 2], 16) for i in (1, 3, 5))


def check_png(path, header, specfile):
    consts = {}
    for m in re.finditer(r"#define (TW_PLOT_\w+) (.+?)\s*(?:/\*.*)?$", open(header).read(), re.M):
        consts[m.group(1)] = m.group(2).strip()
    num = lambda k: int(eval(re.sub(r"TW_PLOT_\w+", lambda m: consts[m.group(0)], consts[k])))
    col = lambda k: rgb(consts[k].strip('"'))
    spec = json.load(open(specfile))
    w, h, bpp, rows = read_png(path)
    if (w, h) != (num("TW_PLOT_WIDTH"), num("TW_PLOT_HEIGHT")):
        fail(f"{path}: {w}x{h}, not the picture's size")

    def px(x, y):
        r = rows[y]
        return r[x * bpp], r[x * bpp + 1], r[x * bpp + 2]

    def near(c, want, tol=40):
        return all(abs(a - b) <= tol for a, b in zip(c, want))

    def find(colour, x0, x1, y0, y1, tol=40):
        return [(x, y) for y in range(y0, y1) for x in range(x0, x1) if near(px(x, y), colour, tol)]

    # Not blank: most of the page is the white background, and not all of it.
    white = sum(1 for y in range(0, h, 4) for x in range(0, w, 4) if px(x, y) == (255, 255, 255))
    total = (h // 4) * (w // 4)
    if not 0.5 < white / total < 0.99:
        fail(f"{path}: {white}/{total} sampled pixels white: not the picture")
    X0, X1, Y0, Y1 = (num(k) for k in ("TW_PLOT_TS_X0", "TW_PLOT_TS_X1", "TW_PLOT_TS_Y0", "TW_PLOT_TS_Y1"))
    # Each series inside the time panel, in the expected order from the top.
    mean_y = {}
    for name in spec["order"]:
        pts = find(col(name), X0 + 2, X1 - 1, Y0 + 1, Y1 - 1)
        if len(pts) < 200:
            fail(f"{path}: only {len(pts)} pixels of {name} ({consts[name]}) in the time panel")
        xs = [p[0] for p in pts]
        if max(xs) - min(xs) < (X1 - X0) * 0.8:
            fail(f"{path}: {name} spans x {min(xs)}..{max(xs)} only, not the whole time axis")
        mean_y[name] = sum(p[1] for p in pts) / len(pts)
        print(f"# {name}: {len(pts)} pixels in the time panel, mean y {mean_y[name]:.0f}")
    ys = [mean_y[n] for n in spec["order"]]
    if ys != sorted(ys):
        fail(f"{path}: series not in the order {spec['order']} from the top: {ys}")
    # Lost packets: a red mark above the panel at each one's send time, none elsewhere.
    LY0, LY1 = num("TW_PLOT_LOST_Y0"), num("TW_PLOT_LOST_Y1")
    red = col("TW_PLOT_LOST_RGB")
    for frac in spec["lost"]:
        x = round(X0 + frac * (X1 - X0))
        if not find(red, x - 3, x + 4, LY0, LY1 + 1):
            fail(f"{path}: no red lost-packet mark at x {x} (time fraction {frac})")
    for frac in spec["not_lost"]:
        x = round(X0 + frac * (X1 - X0))
        if find(red, x - 3, x + 4, LY0, LY1 + 1):
            fail(f"{path}: a red mark at x {x} (time fraction {frac}), where no packet was lost")
    print(f"# red marks at the {len(spec['lost'])} lost packets, none at {len(spec['not_lost'])} others")
    # The histogram's bars (round-trip blue) in their panel, the summary's text.
    HX0, HX1, HY0, HY1 = (num(k) for k in ("TW_PLOT_HIST_X0", "TW_PLOT_HIST_X1", "TW_PLOT_HIST_Y0", "TW_PLOT_HIST_Y1"))
    bars = find(col("TW_PLOT_RTT_RGB"), HX0 + 1, HX1 - 1, HY0 + 1, HY1 - 1)
    if len(bars) < 2000:
        fail(f"{path}: only {len(bars)} histogram bar pixels")
    SX0, SY0 = num("TW_PLOT_SUM_X0"), num("TW_PLOT_SUM_Y0")
    ink = find((0, 0, 0), SX0 + 5, X1 - 5, SY0 + 5, HY1, tol=90)
    if len(ink) < 1000:
        fail(f"{path}: only {len(ink)} dark pixels in the summary box: no text")
    print(f"# histogram: {len(bars)} bar pixels; summary: {len(ink)} text pixels")


def write_crafted(csvpath, specpath):
    """100 packets 100 ms apart; 40..44 and 80 lost; outbound 2 ms +- 0.5 ms
    (a sine), inbound 3 ms, so from the top: round trip, inbound, outbound."""
    import datetime
    import math

    def iso(ns):
        s, f = divmod(ns, 10**9)
        t = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % f

    rows = ["session,seq,status,t1,t2,t3,t4,t1_ntp,t2_ntp,t3_ntp,t4_ntp,rtt_ns,outbound_ns,"
            "inbound_ns,ttl_out,ttl_in,dscp_in,size"]
    lost = [40, 41, 42, 43, 44, 80]
    for i in range(100):
        t1 = 1700000000 * 10**9 + i * 100_000_000
        if i in lost:
            rows.append(f"1,{i},lost,{iso(t1)},,,,,,,,,,,,,,41")
            continue
        out, inb = 2_000_000 + int(500_000 * math.sin(i / 8)), 3_000_000
        t2 = t1 + out
        t3 = t2 + 10_000
        t4 = t3 + inb
        rows.append(f"1,{i},ok,{iso(t1)},{iso(t2)},{iso(t3)},{iso(t4)},,,,,{out + inb},{out},{inb},64,64,0,41")
    open(csvpath, "w").write("\n".join(rows) + "\n")
    spec = {"lost": [i / 99 for i in lost], "not_lost": [i / 99 for i in (10, 20, 60, 90)],
            "order": ["TW_PLOT_RTT_RGB", "TW_PLOT_IN_RGB", "TW_PLOT_OUT_RGB"]}
    json.dump(spec, open(specpath, "w"))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "crafted":
        write_crafted(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "svg":
        check_svg(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "png":
        check_png(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
