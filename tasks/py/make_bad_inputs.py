"""Writes the bad-input corpus used by the reliability tests (tests/fixtures/bad/).

usage: python3 make_bad_inputs.py OUT_DIR SOURCE_PNG
SOURCE_PNG: a real 256x256 photograph (the shipped dataset's Photos/photo_00001.png), so the
decodable variants carry real image content. Needs Debian's python3-pil. Every file is
described in expected.json: what a good reader must do with it (decode, or refuse with a
reason). Deterministic: the same inputs give the same bytes."""
import io
import json
import os
import struct
import sys
import zlib

from PIL import Image

out, src = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
base = Image.open(src).convert("RGB")
w, h = base.size
expected = {}


def save(name, data, expect):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    expected[name] = expect


def png(img, **kw):
    b = io.BytesIO()
    img.save(b, "PNG", **kw)
    return b.getvalue()


def jpeg(img, **kw):
    b = io.BytesIO()
    img.save(b, "JPEG", quality=90, **kw)
    return b.getvalue()


ok = lambda w_, h_: {"ok": True, "width": w_, "height": h_}
err = lambda pattern: {"ok": False, "error": pattern}
# decodes, but is smaller than any crop the toolkit uses (77 px at least): refused by the stages
small = lambda w_, h_, pattern: {"ok": False, "error": pattern, "decodes": True, "width": w_, "height": h_}

good_png = png(base)
good_jpg = jpeg(base)
# --- unusable: each must be refused with a one-line reason naming the file
save("zero-byte.png", b"", err("empty file"))
save("truncated.png", good_png[: len(good_png) // 2], err("cannot decode PNG"))
save("truncated-header.png", good_png[:20], err("truncated PNG"))
# cut after two thirds of its scan: libjpeg decodes what is there, with a warning (grey below)
save("truncated.jpg", good_jpg[: len(good_jpg) // 3], ok(w, h))
# cut inside the headers: nothing to decode
sos = good_jpg.index(b"\xff\xda")
save("truncated-header.jpg", good_jpg[:100], err("truncated JPEG"))
save("no-scan.jpg", good_jpg[:sos] + b"\xff\xd9", err("cannot decode JPEG"))
save("not-an-image.png", b"This is a text file pretending to be a PNG.\n" * 20, err("not an image"))
save("html.jpg", b"<!DOCTYPE html><html><body>404</body></html>", err("not an image"))
save("one-pixel.png", png(base.resize((1, 1))), small(1, 1, "1x1 is smaller than"))
save("small-64.png", png(base.resize((64, 64))), small(64, 64, "64x64 is smaller than"))
# decompression bomb: a valid PNG header claiming 100000 x 100000 pixels, a few bytes of data
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
save("bomb-100000x100000.png", bomb, err("over the \\d+-pixel limit"))
# an animated GIF named .png: its first frame is read
gif = io.BytesIO()
base.save(gif, "GIF", save_all=True, append_images=[base.rotate(90)], duration=100, loop=0)
save("animation.gif.png", gif.getvalue(), ok(w, h))
bmp = io.BytesIO()
base.save(bmp, "BMP")
save("bitmap.png", bmp.getvalue(), ok(w, h))
# a BMP header claiming RLE8 compression: refused (RLE is not read)
rle = bytearray(bmp.getvalue())
rle[30:34] = struct.pack("<I", 1)
save("rle.bmp", bytes(rle), err("unsupported BMP compression"))
tif_be = io.BytesIO()
base.save(tif_be, "TIFF")
be = tif_be.getvalue()
# a little-endian file whose header claims big-endian: every offset points nowhere
save("big-endian.tif", b"MM\x00*" + be[4:], err("truncated TIFF|cannot decode TIFF"))
save("truncated.tif", be[: len(be) // 2], err("cannot decode TIFF"))
save("corrupt.webp", b"RIFF\x40\x00\x00\x00WEBPVP8 " + bytes(range(56)), err("cannot decode WEBP"))
# --- decodable: each must be read as 8-bit RGB of the right size
save("wrong-extension.jpg", good_png, ok(w, h))
save("png-as.txt.png", good_png, ok(w, h))
save("grayscale.png", png(base.convert("L")), ok(w, h))
save("gray-alpha.png", png(base.convert("LA")), ok(w, h))
save("palette.png", png(base.convert("P", palette=Image.ADAPTIVE, colors=64)), ok(w, h))
save("alpha.png", png(base.convert("RGBA")), ok(w, h))
gray = base.convert("L").tobytes()
deep = Image.frombytes("I;16", (w, h), b"".join(struct.pack("<H", v * 257) for v in gray))
save("16-bit-grayscale.png", png(deep), ok(w, h))
save("baseline.jpg", good_jpg, ok(w, h))
save("progressive.jpg", jpeg(base, progressive=True), ok(w, h))
save("grayscale.jpg", jpeg(base.convert("L")), ok(w, h))
save("cmyk.jpg", jpeg(base.convert("CMYK")), ok(w, h))
exif = base.getexif()
exif[0x0112] = 6  # orientation: rotate 90 CW to display (square, so the size stays)
save("exif-rotated.jpg", jpeg(base, exif=exif), ok(w, h))
tif = io.BytesIO()
base.save(tif, "TIFF")
save("little-endian.tif", tif.getvalue(), ok(w, h))
save("name with spaces ünïcödé.png", good_png, ok(w, h))
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, ensure_ascii=False, sort_keys=True)
print(f"{len(expected)} files in {out}")
