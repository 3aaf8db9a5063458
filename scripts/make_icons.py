"""Draw the app icons (a white door on the brand blue) as PNG files, with nothing but the standard library.

Run once after changing the design: python scripts/make_icons.py
"""
import struct
import zlib
from pathlib import Path

BRAND, WHITE, KNOB = (11, 61, 92), (255, 255, 255), (255, 191, 71)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def pixel(x: float, y: float, maskable: bool) -> tuple[int, int, int, int]:
    """Colour at (x, y) in a unit square; maskable icons keep the door inside the 80% safe zone."""
    scale = 0.62 if maskable else 0.8
    u, v = (x - 0.5) / scale + 0.5, (y - 0.5) / scale + 0.5
    if not maskable:
        # A rounded square; outside it is transparent.
        r, dx, dy = 0.18, max(0.0, abs(x - 0.5) - 0.32), max(0.0, abs(y - 0.5) - 0.32)
        if dx * dx + dy * dy > r * r:
            return (0, 0, 0, 0)
    if 0.3 <= u <= 0.7 and 0.18 <= v <= 0.86:
        if (u - 0.62) ** 2 + (v - 0.55) ** 2 < 0.0012:
            return (*KNOB, 255)
        if 0.35 <= u <= 0.65 and 0.23 <= v <= 0.5 and not (0.485 <= u <= 0.515):
            return (*BRAND, 255)  # the door's two panels
        return (*WHITE, 255)
    return (*BRAND, 255)


def png(size: int, maskable: bool) -> bytes:
    rows = b"".join(b"\0" + bytes(c for x in range(size) for c in pixel((x + .5) / size, (y + .5) / size, maskable))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(png(size, False))
        (OUT / f"icon-{size}-maskable.png").write_bytes(png(size, True))
    print("icons written to", OUT)
