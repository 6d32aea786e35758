#!/usr/bin/env python3
"""Photographs of the independent set: photographs shipped in Debian bookworm packages that cgbench
did not use. Same processing as cgbench: EXIF orientation, RGB 8-bit, short side > 1024 -> 768
(Lanczos), saved as PNG. Usage: build_photos.py EXTRACTED_DEBS_DIR OUT_DIR (writes one folder per
package, OUT/<package>/photo_NNN.png, and appends rows to OUT/SOURCES.csv)."""
import csv, os, sys
from PIL import Image, ImageOps

x, out = sys.argv[1], sys.argv[2]
L = f"{x}/lxqt-themes/usr/share/lxqt/wallpapers/"
S = f"{x}/scribus-template/usr/share/scribus/templates/"
K = f"{x}/python3-skimage/usr/lib/python3/dist-packages/skimage/data/"
SK = f"{x}/python3-sklearn/usr/lib/python3/dist-packages/sklearn/datasets/images/"
# (package, path, licence, evidence)
items = [("debian:lxqt-themes", L + n, "LGPL-2.1+ (package default, /usr/share/doc/lxqt-themes/copyright)", e) for n, e in [
    ("beam.png", "EXIF"), ("flowers.png", "EXIF"), ("fog.jpg", "EXIF"), ("after-the-rain.jpg", "EXIF"),
    ("Valendas.png", "EXIF"), ("appleflower.png", "EXIF"), ("drop.png", "EXIF"),
    ("this-is-not-windows.jpg", "EXIF"), ("butterfly.png", "EXIF"),
    ("Butterfly-Kenneth-Wimer.jpg", "VISUAL"), ("cloud.png", "VISUAL")]]
items += [("debian:scribus-template", S + n, "GPL (package default, /usr/share/doc/scribus-template/copyright)", e) for n, e in [
    ("cal2/moon.jpg", "VISUAL"), ("menu2/pizza.jpg", "VISUAL"), ("br2/moon.jpg", "VISUAL"),
    ("br2/brightness.jpg", "VISUAL"), ("br2/halfmoon.jpg", "VISUAL"), ("br2/sunset.jpg", "EXIF"),
    ("br2/nature.jpg", "VISUAL")]]
items += [("debian:python3-skimage", K + n, "per image in skimage/data/README.txt (public domain, CC0 or CC-BY); package BSD-3-Clause", "VISUAL")
          for n in ["coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png"]]
items += [("debian:python3-sklearn", SK + n, "CC-BY 2.0 (Flickr, per sklearn/datasets/images/README.txt)", "VISUAL")
          for n in ["china.jpg", "flower.jpg"]]
face = f"{x}/python3-scipy/usr/lib/python3/dist-packages/scipy/misc/face.dat"

rows = []
def save(im, src, path, lic, ev, k):
    ex = im.getexif()
    cam = " ".join(str(ex.get(t, "")).strip() for t in (271, 272)).strip()
    ow, oh = im.size
    im = ImageOps.exif_transpose(im).convert("RGB")
    if min(im.size) > 1024:
        s = 768 / min(im.size)
        im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    folder = src.split(":", 1)[1]  # one top-level folder per package: a source for the controls
    os.makedirs(f"{out}/{folder}", exist_ok=True)
    name = f"{folder}/photo_{k:03d}.png"
    im.save(f"{out}/{name}", compress_level=9)
    rel = path.split(x + "/", 1)[-1].split("/", 1)[-1] if path.startswith(x) else path
    rows.append([name, 0, src, "/" + rel.lstrip("/"), lic, cam, ev, ow, oh, im.width, im.height])

for k, (src, path, lic, ev) in enumerate(items):
    save(Image.open(path), src, path, lic, ev, k)
if os.path.exists(face):
    import bz2, numpy as np
    raw = bz2.decompress(open(face, "rb").read())
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(768, 1024, 3)
    save(Image.fromarray(arr), "debian:python3-scipy", "/usr/lib/python3/dist-packages/scipy/misc/face.dat", "BSD-3-Clause (scipy.misc.face)", "VISUAL", len(items))
with open(f"{out}/SOURCES.csv", "a", newline="") as fh:
    csv.writer(fh).writerows(rows)
print(len(rows), "photos")
