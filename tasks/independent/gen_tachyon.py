#!/usr/bin/env python3
"""Writes one random Tachyon scene (.dat) per seed: spheres, boxes, cylinders and rings with plastic,
metal, glass or procedurally textured (marble, wood, checker, grit) surfaces on a textured floor,
lit by one to three lights, sometimes with a back wall, fog or ambient-occlusion sky light. The same
seed always gives the same file. Usage: gen_tachyon.py SEED OUT.dat (the sky-light flag, if any, is
written on the first line as a comment: build.sh passes it to tachyon)."""
import math, random, sys
from functools import partial

from _scene import col as scene_col, place

seed, out = int(sys.argv[1]), sys.argv[2]
r = random.Random(10_000 + seed)  # another stream than gen_sunflow.py's for the same seed
col = partial(scene_col, r)  # col(lo, hi): a random RGB colour

lines = []
w = lines.append
skylight = r.random() < 0.5
w(f"# skylight {'0.7' if skylight else 'off'}")
w("BEGIN_SCENE")
w("  RESOLUTION 512 512")
ang, dist, h = r.uniform(0, 2 * math.pi), r.uniform(6, 10), r.uniform(1.0, 4.5)
eye = (dist * math.cos(ang), dist * math.sin(ang), h)
tgt = (r.uniform(-0.5, 0.5), r.uniform(-0.5, 0.5), r.uniform(0.3, 1.0))
d = [t - e for t, e in zip(tgt, eye)]
n = math.sqrt(sum(v * v for v in d))
d = [v / n for v in d]
right = [d[1], -d[0], 0.0]
rn = math.sqrt(sum(v * v for v in right))
right = [v / rn for v in right]
up = [right[1] * d[2] - right[2] * d[1], right[2] * d[0] - right[0] * d[2], right[0] * d[1] - right[1] * d[0]]
if up[2] < 0:
    up = [-v for v in up]
w("  CAMERA")
w(f"    ZOOM {r.uniform(0.9, 1.6):.2f} ASPECTRATIO 1.0 ANTIALIASING {r.choice([1, 2, 4])} RAYDEPTH 8")
w(f"    CENTER {eye[0]:.3f} {eye[1]:.3f} {eye[2]:.3f}")
w(f"    VIEWDIR {d[0]:.4f} {d[1]:.4f} {d[2]:.4f}")
w(f"    UPDIR {up[0]:.4f} {up[1]:.4f} {up[2]:.4f}")
w("  END_CAMERA")
w(f"  BACKGROUND {col(0.3, 0.9)}")
if r.random() < 0.2:
    w(f"  FOG EXP2 START 0.0 END {r.uniform(25, 60):.1f} DENSITY {r.uniform(0.02, 0.06):.3f} COLOR {col(0.5, 0.9)}")
for _ in range(r.randint(1, 3)):
    p = (r.uniform(-8, 8), r.uniform(-8, 8), r.uniform(4, 10))
    w(f"  LIGHT CENTER {p[0]:.2f} {p[1]:.2f} {p[2]:.2f} RAD {r.uniform(0.05, 0.5):.2f} COLOR {col(0.5, 1.0)}")


def texture():
    kind = r.choice(["plastic", "plastic", "metal", "glass", "marble", "wood", "checker", "grit"])
    amb, dif = r.uniform(0.05, 0.2), r.uniform(0.5, 0.9)
    spec = {"metal": r.uniform(0.4, 0.8), "glass": 0.3}.get(kind, r.uniform(0.0, 0.3))
    opac = r.uniform(0.2, 0.5) if kind == "glass" else 1.0
    func = {"checker": 1, "grit": 2, "marble": 3, "wood": 4}.get(kind, 0)  # Tachyon TEXFUNC numbers
    t = [f"    TEXTURE AMBIENT {amb:.3f} DIFFUSE {dif:.3f} SPECULAR {spec:.3f} OPACITY {opac:.3f}"]
    if kind in ("plastic", "metal", "glass"):
        t.append(f"      PHONG {'METAL' if kind == 'metal' else 'PLASTIC'} {r.uniform(0.3, 0.9):.2f} PHONG_SIZE {r.choice([10, 30, 60, 120])}")
    t.append(f"      COLOR {col()}")
    t.append(f"      TEXFUNC {func}")
    if func:
        s = r.uniform(0.2, 1.5)
        t.append(f"        CENTER 0 0 0 ROTATE 0 0 {r.uniform(0, 3.14):.2f} SCALE {s:.2f} {s:.2f} {s:.2f}")
    return t


w("  PLANE CENTER 0 0 0 NORMAL 0 0 1")
lines.extend(texture())
if r.random() < 0.4:
    wa = ang + math.pi + r.uniform(-0.4, 0.4)
    dd = r.uniform(4, 7)
    w(f"  PLANE CENTER {dd * math.cos(wa):.2f} {dd * math.sin(wa):.2f} 0 NORMAL {-math.cos(wa):.3f} {-math.sin(wa):.3f} 0")
    lines.extend(texture())

placed = []
for i in range(r.randint(3, 8)):
    x, y, s = place(r, placed)
    kind = r.choice(["sphere", "sphere", "box", "cylinder", "ring"])
    if kind == "sphere":
        w(f"  SPHERE CENTER {x:.3f} {y:.3f} {s:.3f} RAD {s:.3f}")
    elif kind == "box":
        hh = r.uniform(0.3, 1.5) * s
        w(f"  BOX MIN {x - s * 0.7:.3f} {y - s * 0.7:.3f} 0 MAX {x + s * 0.7:.3f} {y + s * 0.7:.3f} {hh:.3f}")
    elif kind == "cylinder":
        hh = r.uniform(0.5, 2.0) * s
        w(f"  FCYLINDER BASE {x:.3f} {y:.3f} 0 APEX {x:.3f} {y:.3f} {hh:.3f} RAD {s * 0.5:.3f}")
    else:
        w(f"  RING CENTER {x:.3f} {y:.3f} {r.uniform(0.01, 0.6):.3f} NORMAL {r.uniform(-0.5, 0.5):.2f} {r.uniform(-0.5, 0.5):.2f} 1 INNER {s * 0.4:.3f} OUTER {s:.3f}")
    lines.extend(texture())

w("END_SCENE")
open(out, "w").write("\n".join(lines) + "\n")
