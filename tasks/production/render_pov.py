"""The production-like scene of render.py, rendered by POV-Ray 3.7 instead of Blender (issue 27).

A third engine for leave-one-renderer-out: a classical ray tracer with radiosity, image maps
sampled with its own interpolation and no path-tracing noise. One image per call (run.ts
`renderScene` with engine POVRAY; make.ts `--engine POVRAY`):

    python3 tasks/production/render_pov.py '<json>'

The JSON is render.py's (seed, out, width, height, samples, pool, texture, environment; engine
POVRAY; threads). The scene is drawn from the same seeded streams in the same order as render.py's,
so a seed gives the same photographs, layout, sun and camera as in Blender, translated:

- Blender's right-handed z-up coordinates become POV-Ray's left-handed y-up ones
  ((x, y, z) -> (x, z, y)): places stay where they were, and turns about an axis go the other
  way (harmless: every turn is random anyway);
- each material's photograph is projected along the three axes (POV-Ray's `cubic` pattern picks
  the projection by direction from the object's centre), the ground's from above, with a bump
  from the same photograph on the ground; plain colours where `texture` is false;
- the environment photograph is a spherical `sky_sphere` (background, and light through
  radiosity), a gradient sky where `environment` is false;
- Suzanne, which POV-Ray lacks, is a rounded box (`superellipsoid`);
- the sun is a parallel light; no tone mapping (POV-Ray writes sRGB).

`samples` sets the antialiasing depth (+R: 2 under 16 samples, else 3). Beside the image,
`<out>.json` records the arguments and what was drawn, and `<out>.pov` the scene file. POV-Ray's
output is deterministic for a scene file on one thread (+WT1).
"""

import json
import math
import os
import random
import subprocess
import sys

args = json.loads(sys.argv[1])
use_texture = args.get("texture", True)
use_env = args.get("environment", True)
record = {"args": args, "materials": {}, "objects": []}


def stream(aspect):
    """The seeded random stream of one aspect of the scene (as render.py's)."""
    return random.Random(f"{args['seed']}:{aspect}")


def pov(v):
    """A Blender (x, y, z) point as a POV-Ray vector."""
    return f"<{v[0]:.6f}, {v[2]:.6f}, {v[1]:.6f}>"


def kind_of(path):
    """POV-Ray's keyword for an image file's format, from its extension."""
    ext = path.lower().rsplit(".", 1)[-1]
    return {"png": "png", "exr": "exr", "tif": "tiff", "tiff": "tiff"}.get(ext, "jpeg")


def image_map(path, extra=""):
    return f'image_map {{ {kind_of(path)} "{path}" interpolate 2 {extra}}}'


def material(name, scale, ground=False):
    """A texture block: the photograph projected along three axes (the ground: from above), or
    a plain colour. The draws are render.py's, in its order."""
    rng = stream(f"material:{name}")
    roughness, specular = rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.6)
    colour = (rng.uniform(0.05, 0.8), rng.uniform(0.05, 0.8), rng.uniform(0.05, 0.8))
    s, turn = rng.uniform(*scale), rng.uniform(0, math.pi)
    photo, strength = rng.choice(args["pool"]), rng.uniform(0.05, 0.4)
    record["materials"][name] = {"photo": photo if use_texture else None, "scale": s,
                                 "roughness": roughness, "specular": specular}
    finish = (f"finish {{ diffuse 0.8 specular {specular:.4f} "
              f"roughness {0.01 + 0.1 * roughness:.4f} }}")
    if not use_texture:
        return f"texture {{ pigment {{ rgb <{colour[0]:.4f}, {colour[1]:.4f}, {colour[2]:.4f}> }} {finish} }}"
    # one repeat of the photograph spans 1/s units (render.py's mapping scales coordinates by s)
    size = f"scale {1 / s:.6f} rotate y*{math.degrees(turn):.4f}"
    if ground:
        flat = f"rotate x*90 {size}"
        return (f"texture {{ pigment {{ {image_map(photo)} {flat} }} "
                f"normal {{ bump_map {{ {kind_of(photo)} \"{photo}\" interpolate 2 "
                f"bump_size {10 * strength:.4f} }} {flat} }} {finish} }}")
    faces = [f"pigment {{ {image_map(photo)} {rot} {size} }}" for rot in
             ("rotate y*90", "rotate x*90", "", "rotate y*-90", "rotate x*-90", "rotate y*180")]
    return f"texture {{ pigment {{ cubic {' '.join(faces)} }} {finish} }}"


parts = ["#version 3.7;", "global_settings { assumed_gamma 1.0 max_trace_level 6 "
         "radiosity { pretrace_start 0.08 pretrace_end 0.02 count 60 nearest_count 5 "
         "error_bound 1.2 recursion_limit 1 } }"]

# the world: the photograph as a sky sphere (background, and light through radiosity)
rng = stream("world")
strength = rng.uniform(0.6, 1.6)
env_photo, env_turn = rng.choice(args["pool"]), rng.uniform(0, 2 * math.pi)
record["world"] = {"strength": strength, "photo": env_photo if use_env else None, "turn": env_turn}
if use_env:
    parts.append(f"sky_sphere {{ pigment {{ {image_map(env_photo, 'map_type 1 ')} "
                 f"rotate y*{math.degrees(env_turn):.4f} }} emission rgb {strength:.4f} }}")
else:
    parts.append(f"sky_sphere {{ pigment {{ gradient y color_map {{ [0 rgb <0.75, 0.8, 0.9>] "
                 f"[1 rgb <0.25, 0.4, 0.8>] }} }} emission rgb {strength:.4f} }}")

# the ground and the objects
parts.append(f"plane {{ y, 0 {material('ground', (0.03, 0.12), ground=True)} }}")
# the same six shapes in render.py's order, so that one draw picks the same one
makers = [
    ("Cube", "box { <-0.8, -0.8, -0.8>, <0.8, 0.8, 0.8>"),
    ("Sphere", "sphere { 0, 0.9"),
    ("Cylinder", "cylinder { <0, -0.9, 0>, <0, 0.9, 0>, 0.7"),
    ("Cone", "cone { <0, -0.9, 0>, 0.9, <0, 0.9, 0>, 0"),
    ("Torus", "torus { 1, 0.25"),
    ("Suzanne", "superellipsoid { <0.3, 0.3> scale 0.8"),
]
rng = stream("layout")
for i in range(rng.randint(3, 6)):
    r, a = rng.uniform(0, 3.2), rng.uniform(0, 2 * math.pi)
    kind, shape = rng.choice(makers)
    location = (r * math.cos(a), r * math.sin(a), 0.9)
    rotation = (rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(0, math.pi))
    k = rng.uniform(0.6, 1.4)
    record["objects"].append({"kind": kind, "location": list(location),
                              "rotation": list(rotation), "scale": k})
    turn = " ".join(f"rotate {axis}*{math.degrees(v):.4f}"
                    for axis, v in zip(("x", "z", "y"), rotation))
    parts.append(f"{shape} {material(f'object{i}', (0.3, 1.2))} scale {k:.6f} {turn} "
                 f"translate {pov(location)} }}")

# a sun: a parallel light from its direction
rng = stream("sun")
energy, angle = rng.uniform(1.0, 4.0), rng.uniform(0.01, 0.1)
rotation = (rng.uniform(0.2, 1.1), 0, rng.uniform(0, 2 * math.pi))
record["sun"] = {"energy": energy, "angle": angle, "rotation": list(rotation)}
# Blender's sun shines along -z turned by x then z: the direction it comes from
towards = (math.sin(rotation[0]) * math.sin(rotation[2]), -math.sin(rotation[0]) * math.cos(rotation[2]),
           math.cos(rotation[0]))
parts.append(f"light_source {{ {pov([100 * t for t in towards])} rgb {0.45 * energy:.4f} "
             f"parallel point_at 0 }}")

# the camera, looking at the middle (Blender's 36 mm sensor width: the horizontal angle)
rng = stream("camera")
d, a = rng.uniform(7, 12), rng.uniform(0, 2 * math.pi)
location = (d * math.cos(a), d * math.sin(a), rng.uniform(1.2, 4.5))
lens = rng.uniform(28, 70)
target = (rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 0.7)
record["camera"] = {"location": list(location), "lens": lens, "target": list(target)}
record["look"] = None
w, h = args["width"], args["height"]
parts.append(f"camera {{ location {pov(location)} right x*{w / h:.6f} "
             f"angle {math.degrees(2 * math.atan(18 / lens)):.4f} look_at {pov(target)} }}")

scene_file = args["out"] + ".pov"
with open(scene_file, "w") as f:
    f.write("\n".join(parts) + "\n")
depth = 2 if args["samples"] < 16 else 3
r = subprocess.run(["povray", f"+I{scene_file}", f"+O{args['out']}", "+FN8", f"+W{w}", f"+H{h}",
                    "-D", "-V", "-GA", "+A0.1", "+AM2", f"+R{depth}",
                    f"+WT{args.get('threads', 1)}", "Output_Alpha=off"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                   env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")})
if r.returncode != 0 or not os.path.exists(args["out"]):
    sys.stderr.write(r.stderr[-3000:])
    sys.exit(1)
with open(args["out"] + ".json", "w") as f:
    json.dump(record, f, indent=1, sort_keys=True)
