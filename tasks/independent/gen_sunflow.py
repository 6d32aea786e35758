#!/usr/bin/env python3
"""Writes one random Sunflow 0.07.2 scene (.sc) per seed: objects on a floor under a sun-and-sky,
sometimes a back wall, a spherical light and depth of field. The same seed always gives the
same file. Usage: gen_sunflow.py SEED OUT.sc"""
import math, random, sys
from functools import partial

from _scene import col as scene_col, place

seed, out = int(sys.argv[1]), sys.argv[2]
r = random.Random(seed)

col = partial(scene_col, r)  # col(lo, hi): a random RGB colour

lines = []
w = lines.append


def block(kind, *fields):
    """One Sunflow block: `kind {`, a field per line, `}`."""
    w(kind + " {\n" + "".join(f"  {f}\n" for f in fields) + "}")


aa_max = r.choice([1, 1, 2])
block("image", "resolution 512 512", f"aa 0 {aa_max}",
      f"filter {r.choice(['gaussian', 'mitchell', 'blackman-harris'])}")
block("trace-depths", "diff 1", f"refl {r.randint(2, 4)}", f"refr {r.randint(2, 5)}")
gi = r.choice(["path", "path", "igi", "ambocc"])
if gi == "path":
    block("gi", "type path", f"samples {r.choice([8, 12, 16])}")
elif gi == "igi":
    block("gi", "type igi", f"samples {r.choice([64, 128])}", "sets 1", "b 0.00003", "bias-samples 0")
else:
    block("gi", "type ambocc", "bright 1 1 1", "dark 0 0 0", f"samples {r.choice([16, 32])}",
          f"maxdist {r.uniform(2, 6):.2f}")

# camera on a circle around the origin, looking at the objects; depth of field in 30 %
ang = r.uniform(0, 2 * math.pi)
dist = r.uniform(5, 9)
h = r.uniform(0.8, 4.5)
eye = (dist * math.cos(ang), dist * math.sin(ang), h)
tgt = (r.uniform(-0.5, 0.5), r.uniform(-0.5, 0.5), r.uniform(0.3, 1.2))
fov = r.uniform(30, 55)
view = [f"eye {eye[0]:.3f} {eye[1]:.3f} {eye[2]:.3f}", f"target {tgt[0]:.3f} {tgt[1]:.3f} {tgt[2]:.3f}",
        "up 0 0 1", f"fov {fov:.1f}", "aspect 1"]
if r.random() < 0.3:
    block("camera", "type thinlens", *view, f"fdist {math.dist(eye, tgt):.3f}",
          f"lensr {r.uniform(0.03, 0.15):.3f}")
else:
    block("camera", "type pinhole", *view)

sa = r.uniform(0, 2 * math.pi)
se = r.uniform(0.15, 1.2)
block("light", "type sunsky", "up 0 0 1", "east 0 1 0", f"sundir {math.cos(sa):.3f} {math.sin(sa):.3f} {se:.3f}",
      f"turbidity {r.uniform(2, 8):.2f}", f"samples {r.choice([8, 16])}")
if r.random() < 0.35:
    p = (r.uniform(-4, 4), r.uniform(-4, 4), r.uniform(2, 5))
    e = r.uniform(20, 80)
    block("light", "type spherical", f'color {{ "sRGB nonlinear" {col(0.6, 1.0)} }}', f"radiance {e:.1f}",
          f"center {p[0]:.2f} {p[1]:.2f} {p[2]:.2f}", f"radius {r.uniform(0.1, 0.4):.2f}", "samples 8")


def shader(name):
    k = r.choice(["diffuse", "diffuse", "phong", "shiny", "shiny", "glass", "mirror", "ward"])
    fields = {
        "diffuse": lambda: [f"diff {col()}"],
        "phong": lambda: [f"diff {col()}", f"spec {col(0.3, 1)} {r.choice([10, 30, 60, 120])}", "samples 4"],
        "shiny": lambda: [f"diff {col()}", f"refl {r.uniform(0.1, 0.6):.2f}"],
        "glass": lambda: [f"eta {r.uniform(1.3, 1.7):.2f}", f"color {col(0.6, 1.0)}"],
        "mirror": lambda: [f"refl {col(0.5, 0.95)}"],
        "ward": lambda: [f"diff {col()}", f"spec {col(0.2, 0.8)}",
                         f"rough {r.uniform(0.03, 0.3):.3f} {r.uniform(0.03, 0.3):.3f}", "samples 4"],
    }[k]()
    block("shader", f"name {name}", f"type {k}", *fields)


floor = r.choice(["diffuse", "diffuse", "shiny"])
floor_diff = col(0.1, 0.55)
# a shiny floor also reflects
block("shader", "name floor", f"type {floor}", f"diff {floor_diff}",
      *([f"refl {r.uniform(0.05, 0.3):.2f}"] if floor == "shiny" else []))
block("object", "shader floor", "type plane", "p 0 0 0", "n 0 0 1")
if r.random() < 0.4:
    wa = ang + math.pi + r.uniform(-0.4, 0.4)
    d = r.uniform(3, 6)
    block("shader", "name wall", "type diffuse", f"diff {col(0.15, 0.6)}")
    block("object", "shader wall", "type plane", f"p {d * math.cos(wa):.2f} {d * math.sin(wa):.2f} 0",
          f"n {-math.cos(wa):.3f} {-math.sin(wa):.3f} 0")

placed = []
for i in range(r.randint(3, 8)):
    x, y, s = place(r, placed)
    name = f"s{i}"
    shader(name)
    kind = r.choice(["sphere", "sphere", "teapot", "torus", "cylinder", "gumbo", "sphereflake"])
    rz = r.uniform(0, 360)
    if kind == "sphere":
        block("object", f"shader {name}", "type sphere", f"c {x:.3f} {y:.3f} {s:.3f}", f"r {s:.3f}")
        continue
    if kind in ("teapot", "gumbo"):
        scale = s * (0.012 if kind == "teapot" else 0.011)
        move = f"scaleu {scale:.4f} rotatez {rz:.1f} translate {x:.3f} {y:.3f} 0"
        extra = [f"subdivs {12 if kind == 'teapot' else 6}", "smooth true"]
    elif kind == "torus":
        t = r.uniform(0.2, 0.4)
        tilt = r.choice([0, 0, 90])
        z = s * t if tilt == 0 else s
        move = f"scaleu {s:.3f} rotatex {tilt} rotatez {rz:.1f} translate {x:.3f} {y:.3f} {z:.3f}"
        extra = [f"r {t:.3f} 1.0"]
    elif kind == "cylinder":
        hh = r.uniform(0.3, 1.2)
        move = f"scale {s * 0.6:.3f} {s * 0.6:.3f} {hh:.3f} translate {x:.3f} {y:.3f} {hh:.3f}"
        extra = []
    else:
        move = f"scaleu {s * 0.5:.3f} translate {x:.3f} {y:.3f} {s * 0.5:.3f}"
        extra = [f"level {r.choice([2, 3])}"]
    block("object", f"shader {name}", f"transform {{ {move} }}", f"type {kind}", f"name o{i}", *extra)

text = "\n".join(lines) + "\n"
# instant GI needs a light that emits photons (the sun and sky does not): path tracing instead
if "type igi" in text and "type spherical" not in text:
    i = text.index("gi {")
    text = text[:i] + "gi {\n  type path\n  samples 16\n}" + text[text.index("}", i) + 1:]
open(out, "w").write(text)
