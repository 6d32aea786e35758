#!/usr/bin/env python3
"""Writes one random Sunflow 0.07.2 scene (.sc) per seed: objects on a floor under a sun-and-sky,
sometimes a back wall, a point of light and depth of field. Usage: gen_sunflow.py SEED OUT.sc"""
import math, random, sys

seed, out = int(sys.argv[1]), sys.argv[2]
r = random.Random(seed)

def col(lo=0.05, hi=0.9):
    return " ".join(f"{r.uniform(lo, hi):.3f}" for _ in range(3))

lines = []
w = lines.append
aa_max = r.choice([1, 1, 2])
w(f"image {{\n  resolution 512 512\n  aa 0 {aa_max}\n  filter {r.choice(['gaussian', 'mitchell', 'blackman-harris'])}\n}}")
w(f"trace-depths {{\n  diff 1\n  refl {r.randint(2, 4)}\n  refr {r.randint(2, 5)}\n}}")
gi = r.choice(["path", "path", "igi", "ambocc"])
if gi == "path":
    w(f"gi {{\n  type path\n  samples {r.choice([8, 12, 16])}\n}}")
elif gi == "igi":
    w(f"gi {{\n  type igi\n  samples {r.choice([64, 128])}\n  sets 1\n  b 0.00003\n  bias-samples 0\n}}")
else:
    w(f"gi {{\n  type ambocc\n  bright 1 1 1\n  dark 0 0 0\n  samples {r.choice([16, 32])}\n  maxdist {r.uniform(2, 6):.2f}\n}}")

# camera on a circle around the origin, looking at the objects
ang = r.uniform(0, 2 * math.pi)
dist = r.uniform(5, 9)
h = r.uniform(0.8, 4.5)
eye = (dist * math.cos(ang), dist * math.sin(ang), h)
tgt = (r.uniform(-0.5, 0.5), r.uniform(-0.5, 0.5), r.uniform(0.3, 1.2))
fov = r.uniform(30, 55)
if r.random() < 0.3:
    fd = math.dist(eye, tgt)
    w(f"camera {{\n  type thinlens\n  eye {eye[0]:.3f} {eye[1]:.3f} {eye[2]:.3f}\n  target {tgt[0]:.3f} {tgt[1]:.3f} {tgt[2]:.3f}\n  up 0 0 1\n  fov {fov:.1f}\n  aspect 1\n  fdist {fd:.3f}\n  lensr {r.uniform(0.03, 0.15):.3f}\n}}")
else:
    w(f"camera {{\n  type pinhole\n  eye {eye[0]:.3f} {eye[1]:.3f} {eye[2]:.3f}\n  target {tgt[0]:.3f} {tgt[1]:.3f} {tgt[2]:.3f}\n  up 0 0 1\n  fov {fov:.1f}\n  aspect 1\n}}")

sa = r.uniform(0, 2 * math.pi)
se = r.uniform(0.15, 1.2)
w(f"light {{\n  type sunsky\n  up 0 0 1\n  east 0 1 0\n  sundir {math.cos(sa):.3f} {math.sin(sa):.3f} {se:.3f}\n  turbidity {r.uniform(2, 8):.2f}\n  samples {r.choice([8, 16])}\n}}")
if r.random() < 0.35:
    p = (r.uniform(-4, 4), r.uniform(-4, 4), r.uniform(2, 5))
    e = r.uniform(20, 80)
    w(f"light {{\n  type spherical\n  color {{ \"sRGB nonlinear\" {col(0.6, 1.0)} }}\n  radiance {e:.1f}\n  center {p[0]:.2f} {p[1]:.2f} {p[2]:.2f}\n  radius {r.uniform(0.1, 0.4):.2f}\n  samples 8\n}}")

def shader(name):
    k = r.choice(["diffuse", "diffuse", "phong", "shiny", "shiny", "glass", "mirror", "ward"])
    if k == "diffuse":
        w(f"shader {{\n  name {name}\n  type diffuse\n  diff {col()}\n}}")
    elif k == "phong":
        w(f"shader {{\n  name {name}\n  type phong\n  diff {col()}\n  spec {col(0.3, 1)} {r.choice([10, 30, 60, 120])}\n  samples 4\n}}")
    elif k == "shiny":
        w(f"shader {{\n  name {name}\n  type shiny\n  diff {col()}\n  refl {r.uniform(0.1, 0.6):.2f}\n}}")
    elif k == "glass":
        w(f"shader {{\n  name {name}\n  type glass\n  eta {r.uniform(1.3, 1.7):.2f}\n  color {col(0.6, 1.0)}\n}}")
    elif k == "mirror":
        w(f"shader {{\n  name {name}\n  type mirror\n  refl {col(0.5, 0.95)}\n}}")
    else:
        w(f"shader {{\n  name {name}\n  type ward\n  diff {col()}\n  spec {col(0.2, 0.8)}\n  rough {r.uniform(0.03, 0.3):.3f} {r.uniform(0.03, 0.3):.3f}\n  samples 4\n}}")

w(f"shader {{\n  name floor\n  type {r.choice(['diffuse', 'diffuse', 'shiny'])}\n  diff {col(0.1, 0.55)}\n}}")
if "type shiny" in lines[-1]:  # a shiny floor also reflects (same random draws as the renders shipped)
    lines[-1] = lines[-1][:-1] + f"  refl {r.uniform(0.05, 0.3):.2f}\n}}"
w("object {\n  shader floor\n  type plane\n  p 0 0 0\n  n 0 0 1\n}")
if r.random() < 0.4:
    wa = ang + math.pi + r.uniform(-0.4, 0.4)
    d = r.uniform(3, 6)
    w(f"shader {{\n  name wall\n  type diffuse\n  diff {col(0.15, 0.6)}\n}}")
    w(f"object {{\n  shader wall\n  type plane\n  p {d * math.cos(wa):.2f} {d * math.sin(wa):.2f} 0\n  n {-math.cos(wa):.3f} {-math.sin(wa):.3f} 0\n}}")

placed = []
for i in range(r.randint(3, 8)):
    for _ in range(30):
        x, y = r.uniform(-2.8, 2.8), r.uniform(-2.8, 2.8)
        s = r.uniform(0.35, 1.0)
        if all(math.dist((x, y), (px, py)) > s + ps for px, py, ps in placed):
            break
    placed.append((x, y, s))
    name = f"s{i}"
    shader(name)
    kind = r.choice(["sphere", "sphere", "teapot", "torus", "cylinder", "gumbo", "sphereflake"])
    rz = r.uniform(0, 360)
    if kind == "sphere":
        w(f"object {{\n  shader {name}\n  type sphere\n  c {x:.3f} {y:.3f} {s:.3f}\n  r {s:.3f}\n}}")
    elif kind == "teapot":
        w(f"object {{\n  shader {name}\n  transform {{ scaleu {s * 0.012:.4f} rotatez {rz:.1f} translate {x:.3f} {y:.3f} 0 }}\n  type teapot\n  name o{i}\n  subdivs 12\n  smooth true\n}}")
    elif kind == "gumbo":
        w(f"object {{\n  shader {name}\n  transform {{ scaleu {s * 0.011:.4f} rotatez {rz:.1f} translate {x:.3f} {y:.3f} 0 }}\n  type gumbo\n  name o{i}\n  subdivs 6\n  smooth true\n}}")
    elif kind == "torus":
        t = r.uniform(0.2, 0.4)
        tilt = r.choice([0, 0, 90])
        z = s * t if tilt == 0 else s
        w(f"object {{\n  shader {name}\n  transform {{ scaleu {s:.3f} rotatex {tilt} rotatez {rz:.1f} translate {x:.3f} {y:.3f} {z:.3f} }}\n  type torus\n  name o{i}\n  r {t:.3f} 1.0\n}}")
    elif kind == "cylinder":
        hh = r.uniform(0.3, 1.2)
        w(f"object {{\n  shader {name}\n  transform {{ scale {s * 0.6:.3f} {s * 0.6:.3f} {hh:.3f} translate {x:.3f} {y:.3f} {hh:.3f} }}\n  type cylinder\n  name o{i}\n}}")
    else:
        w(f"object {{\n  shader {name}\n  transform {{ scaleu {s * 0.5:.3f} translate {x:.3f} {y:.3f} {s * 0.5:.3f} }}\n  type sphereflake\n  name o{i}\n  level {r.choice([2, 3])}\n}}")

text = "\n".join(lines) + "\n"
# instant GI needs a light that emits photons (the sun and sky does not): path tracing instead
if "type igi" in text and "type spherical" not in text:
    i = text.index("gi {")
    text = text[:i] + "gi {\n  type path\n  samples 16\n}" + text[text.index("}", i) + 1:]
open(out, "w").write(text)
