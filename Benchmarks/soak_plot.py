"""The soak's plot (Benchmarks/soak.py): RSS and latency against time as a PNG, drawn pixel by
pixel (lines, ticks, a 3×5 font) and written with zlib and struct, so nothing needs installing."""
import struct
import zlib

FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111", "A": "010101111101101", "B": "110101110101110",
    "C": "011100100100011", "D": "110101101101110", "E": "111100110100111", "F": "111100110100100",
    "G": "011100101101011", "H": "101101111101101", "I": "111010010010111", "J": "001001001101010",
    "K": "101101110101101", "L": "100100100100111", "M": "101111111101101", "N": "110101101101101",
    "O": "010101101101010", "P": "110101110100100", "Q": "010101101110011", "R": "110101110101101",
    "S": "011100010001110", "T": "111010010010010", "U": "101101101101111", "V": "101101101101010",
    "W": "101101111111101", "X": "101101010101101", "Y": "101101010010010", "Z": "111001010100111",
    ".": "000000000000010", "-": "000000111000000", ":": "000010000010000", "/": "001001010100100",
    "%": "101001010100101", "(": "010100100100010", ")": "010001001001010", " ": "0" * 15,
    "=": "000111000111000", ",": "000000000010100", "×": "000101010101000",
}


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def dot(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def line(self, x0, y0, x1, y1, c, width=1, dash=0):
        x0, y0, x1, y1 = int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err, n = dx + dy, 0
        while True:
            if not dash or (n // dash) % 2 == 0:
                for ox in range(width):
                    for oy in range(width):
                        self.dot(x0 + ox - width // 2, y0 + oy - width // 2, c)
            n += 1
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x, y, s, c=(0, 0, 0), scale=2, right=False):
        s = s.upper()
        if right:
            x -= len(s) * 4 * scale
        for ch in s:
            g = FONT.get(ch, FONT[" "])
            for i, bit in enumerate(g):
                if bit == "1":
                    for ox in range(scale):
                        for oy in range(scale):
                            self.dot(x + (i % 3) * scale + ox, y + (i // 3) * scale + oy, c)
            x += 4 * scale

    def png(self):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3]) for y in range(self.h))

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def nice_step(span, ticks=5):
    raw = span / ticks if span > 0 else 1
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 10 ** -len(str(int(1 / raw)))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


COLORS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]


def plot(path, title, samples, servers, warmup_s, rest, growth):
    """Two panels against minutes: RSS (MiB) per server, with its limit (`growth` × RSS at rest
    after warm-up) dashed; p99 (and p50, lighter) latency (ms)."""
    limits = [None if not rest or rest["servers"][n].get("gone") else growth * rest["servers"][n]["rss_mib"]
              for n in servers]
    W, H, L, R = 900, 560, 80, 20
    c = Canvas(W, H)
    c.text(L, 10, title, scale=2)
    xs = [s["t"] / 60 for s in samples]
    xmax = max(xs + [0.1])
    xstep = nice_step(xmax)
    panels = [("RSS MIB", 40, 250, [[s["servers"][n]["rss_mib"] for s in samples] for n in servers], servers),
              ("LATENCY MS: P99 (P50 LIGHT)", 300, 510,
               [[s["p99_ms"] for s in samples], [s["p50_ms"] for s in samples]], ["p99", "p50"])]
    for label, top, bottom, series, names in panels:
        values = [v for line in series for v in line if v is not None]
        if label.startswith("RSS"):
            values += [v for v in limits if v is not None]
        lo, hi = (min(values), max(values)) if values else (0, 1)
        lo = 0 if label.startswith("LAT") else lo * 0.9
        hi = hi * 1.1 if hi > lo else lo + 1
        ystep = nice_step(hi - lo)
        lo = ystep * int(lo / ystep)
        X = lambda m: L + (W - L - R) * m / xmax        # noqa: E731
        Y = lambda v: bottom - (bottom - top) * (v - lo) / (hi - lo)  # noqa: E731
        v = lo
        while v <= hi + 1e-9:
            c.line(L, Y(v), W - R, Y(v), (225, 225, 225))
            c.line(L - 5, Y(v), L, Y(v), (0, 0, 0))
            c.text(L - 8, int(Y(v)) - 5, f"{v:g}", right=True)
            v += ystep
        m = 0.0
        while m <= xmax + 1e-9:
            c.line(X(m), bottom, X(m), bottom + 5, (0, 0, 0))
            c.text(int(X(m)) - 6, bottom + 9, f"{m:g}")
            m += xstep
        c.line(L, top, L, bottom, (0, 0, 0))
        c.line(L, bottom, W - R, bottom, (0, 0, 0))
        if warmup_s:
            c.line(X(warmup_s / 60), top, X(warmup_s / 60), bottom, (120, 120, 120), dash=4)
        c.text(L + 8, top - 2, label + (" (DASHED: LIMIT)" if label.startswith("RSS") else ""), scale=2)
        for i, line in enumerate(series):
            color = COLORS[i % len(COLORS)] if label.startswith("RSS") else ((200, 60, 40) if i == 0 else (240, 170, 150))
            pts = [(X(x), Y(y)) for x, y in zip(xs, line) if y is not None]
            for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
                c.line(x0, y0, x1, y1, color, width=2)
            for x, y in pts:
                c.line(x - 2, y, x + 2, y, color, width=2)
            if label.startswith("RSS"):
                c.text(W - R - 160, top + 6 + 14 * i, names[i], color)
                if limits[i] is not None:
                    c.line(L, Y(limits[i]), W - R, Y(limits[i]), color, dash=6)
    c.text(W // 2 - 40, 540, "MINUTES", scale=2)
    with open(path, "wb") as f:
        f.write(c.png())
