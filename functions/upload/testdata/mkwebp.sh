#!/bin/sh
# Makes the WebP fixtures the upload tests read. golang.org/x/image can
# decode WebP but not encode it, so they come from libwebp's own tools
# (Debian package webp 1.2.4: apt-get install webp); the source pictures are
# tiny PNGs written by the Python below. Run from this directory.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
def png(name, w, h, px):  # px(x, y) -> (r, g, b, a)
    raw = b''.join(b'\0' + b''.join(bytes(px(x, y)) for x in range(w)) for y in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    open(f'{out}/{name}.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0))
        + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
# Quadrants red, green / blue, white; 32 x 16.
quad = lambda x, y: [(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255), (255, 255, 255, 255)][(x >= 16) + 2 * (y >= 8)]
png('quad', 32, 16, quad)
# The same with its right half transparent.
png('quad-alpha', 32, 16, lambda x, y: quad(x, y)[:3] + ((255,) if x < 16 else (0,)))
# A second frame for the animation: all blue.
png('blue', 32, 16, lambda x, y: (0, 0, 255, 255))
# An EXIF block (TIFF, little-endian) with a GPS IFD: 51° 30' 26.47" N.
ifd0 = struct.pack('<H', 1) + struct.pack('<HHII', 0x8825, 4, 1, 26) + struct.pack('<I', 0)
gps = struct.pack('<H', 2) + struct.pack('<HHI4s', 1, 2, 2, b'N\0\0\0') + struct.pack('<HHII', 2, 5, 3, 26 + 2 + 24 + 4) + struct.pack('<I', 0)
open(f'{out}/exif.bin', 'wb').write(b'II*\0' + struct.pack('<I', 8) + ifd0 + gps + struct.pack('<6I', 51, 1, 30, 1, 2647, 100))
PY
cwebp -quiet -lossless -exact "$tmp/quad-alpha.png" -o lossless.webp
cwebp -quiet -q 90 "$tmp/quad.png" -o lossy.webp
cwebp -quiet -q 90 -exact "$tmp/quad-alpha.png" -o lossy-alpha.webp
webpmux -set exif "$tmp/exif.bin" lossy.webp -o exif.webp
img2webp -lossless "$tmp/quad.png" -d 100 "$tmp/blue.png" -o animated.webp
