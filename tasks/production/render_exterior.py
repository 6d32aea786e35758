"""A fourth production-like scene generator (issue 27): an architectural exterior, the subject of
archviz renderers (the paper's Artlantis, Corona and V-Ray sets). It shares nothing with the other
generators' scenes but Blender itself: a street of buildings with windows, pavements and trees
under a photographed sky, seen from eye level (docs/production.md, "A third and a fourth
generator").

One image per call (run.ts `renderScene` with `generator: "exterior"`; make.ts
`--generator exterior`):

    blender -b --factory-startup -noaudio -t 1 --python-exit-code 1 \
        -P tasks/production/render_exterior.py -- '<json>'

The JSON is render.py's (seed, out, width, height, samples, engine, threads, pool). Beside the
image, `<out>.json` records the arguments and everything drawn.

The scene, each aspect from its own seeded stream ("exterior:" keeps them apart from the others'):

- a street 6-14 m wide (a photograph tiled on the road, another on the pavements, 0.15 m kerbs;
  box-projected, turned 0 or 180 degrees), seen along its length;
- two to five buildings on its far side and one to three on the near side:
  boxes 6-20 m wide, of whole storeys (2.8-3.6 m) up to 30 m, their facades a photograph tiled at
  0.1-0.5 repeats per metre or a plaster colour; windows in a grid (0.8-1.6 m; frames 4 cm proud
  of the facade, dark glass reflecting the sky 2 cm behind the frames' face), a cornice, and a
  ground floor that may be a shop front of glass;
- zero to five trees on the pavements: a trunk and a crown of displaced spheres;
- a sun 15-60 degrees high and the sky photograph from the pool (background and light);
- a camera on the near pavement, 1.5-1.8 m high, level (two-point perspective: verticals stay
  vertical), turned 5-60 degrees from the street towards its far side, 18-35 mm, its lens shifted
  up by up to 0.15;
- colour: Filmic or Standard, exposure -0.7 to +0.5.

Cycles: `samples` paths per pixel, 6 bounces, indirect light clamped at 10, no denoiser in the
render. The finishing is post.py's `exterior` chain: OpenCV's non-local means (the first
generator's stand-in for OIDN), glare and vignette with probability one half, PIL's camera.
"""

import colorsys
import math
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402  (the generators' shared settings, beside this file)

args = _blender.arguments()
stream = _blender.streams("exterior:", args["seed"])  # the stream of one aspect of the scene

record = {"args": args, "materials": {}, "buildings": [], "trees": []}
scene = _blender.new_scene(args, bounces=6, clamp_indirect=10, dither=0)
rng = stream("look")
scene.view_settings.view_transform = rng.choice(["Filmic", "Filmic", "Standard"])
scene.view_settings.exposure = rng.uniform(-0.7, 0.5)
record["look"] = {"transform": scene.view_settings.view_transform,
                  "exposure": scene.view_settings.exposure}
materials = {}


def material(name, kind, scale=0.3):
    """A principled material, made once per name: photo (a photograph tiled at `scale` repeats
    per metre, by object coordinates, with bump), plaster (a muted colour), glass (dark,
    reflective), frame (a dark or light paint), bark, leaves (a photograph, tinted green)."""
    if name in materials:
        return materials[name]
    rng = stream(f"material:{name}")
    # box-projected: turned by 0 or 180 degrees only (between, it smears on vertical faces)
    photo, turn = rng.choice(args["pool"]), rng.choice([0.0, math.pi])
    hue, sat, val = rng.uniform(0.02, 0.15), rng.uniform(0.05, 0.35), rng.uniform(0.4, 0.9)
    m, bsdf = _blender.principled(name)
    nodes, links = m.node_tree.nodes, m.node_tree.links
    rec = {"kind": kind}
    if kind == "glass":
        bsdf.inputs["Base Color"].default_value = (0.02, 0.025, 0.03, 1)
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.0, 0.08)
        bsdf.inputs["Specular"].default_value = 1.0
    elif kind in ("plaster", "frame", "bark"):
        if kind == "frame":
            hue, sat, val = 0.0, 0.0, rng.choice([0.05, 0.15, 0.8])
        if kind == "bark":
            hue, sat, val = 0.07, 0.4, 0.12
        colour = colorsys.hsv_to_rgb(hue, sat, val)
        bsdf.inputs["Base Color"].default_value = (*colour, 1)
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.4, 0.9)
        rec["colour"] = list(colour)
    else:  # photo, leaves
        tex = _blender.photo_texture(m, photo, scale, turn, 0.2)
        colour = tex.outputs["Color"]
        if kind == "leaves":
            tint = nodes.new("ShaderNodeMixRGB")
            tint.blend_type = "MULTIPLY"
            tint.inputs["Fac"].default_value = 0.8
            tint.inputs[2].default_value = (0.25, 0.55, 0.15, 1)
            links.new(colour, tint.inputs[1])
            colour = tint.outputs["Color"]
        links.new(colour, bsdf.inputs["Base Color"])
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.5, 0.95)
        strength = rng.uniform(0.05, 0.4)
        _blender.bump(m, tex.outputs["Color"], strength)
        rec.update({"photo": photo, "scale": scale, "bump": strength})
    record["materials"][name] = rec
    materials[name] = m
    return m


def box(name, centre, size, mat):
    """A box of `size` metres at `centre`, its scale applied (object coordinates are metres)."""
    bpy.ops.mesh.primitive_cube_add(size=1, location=centre)
    obj = bpy.context.object
    obj.name = name
    obj.scale = size
    bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
    obj.data.materials.append(mat)
    return obj


# ---- the street: the road along y, pavements either side; buildings beyond them
rng = stream("street")
road, pave, length = rng.uniform(6, 14), rng.uniform(2, 5), 200.0
record["street"] = {"road": road, "pavement": pave}
road_scale, pave_scale = rng.uniform(0.1, 0.5), rng.uniform(0.3, 1.5)
box("road", (0, 0, -0.05), (road, length, 0.1), material("road", "photo", road_scale))
for side in (-1, 1):
    box(f"pavement{side}", (side * (road / 2 + pave / 2), 0, 0.075), (pave, length, 0.15),
        material("pavement", "photo", pave_scale))
    box(f"ground{side}", (side * (road / 2 + pave + 30), 0, -0.05), (60, length, 0.1),
        material("pavement", "photo", pave_scale))

# ---- buildings along both sides
rng = stream("buildings")


def building(i, side, y0, width):
    depth, height, storey = rng.uniform(8, 16), rng.uniform(6, 30), rng.uniform(2.8, 3.6)
    floors = max(2, int(height / storey))
    height = floors * storey  # whole storeys
    x_face = side * (road / 2 + pave)
    cx = x_face + side * depth / 2
    cy = y0 + width / 2
    facade = material(f"facade{i}", rng.choice(["photo", "photo", "plaster"]),
                      rng.uniform(0.1, 0.5))
    box(f"building{i}", (cx, cy, height / 2), (depth, width, height), facade)
    box(f"cornice{i}", (cx, cy, height + 0.15), (depth + 0.3, width + 0.3, 0.3),
        material("frame", "frame"))
    win_w, win_h = rng.uniform(0.8, 1.6), rng.uniform(1.2, 1.8)
    per_floor = max(1, int(width / (win_w * rng.uniform(1.6, 2.6))))
    shop = rng.random() < 0.5
    glass, frame = material("glass", "glass"), material("frame", "frame")
    gap = width / per_floor
    for f in range(floors):
        z = f * height / floors + 0.9 + win_h / 2
        if f == 0 and shop:  # a shop front: one long pane
            box(f"shop{i}", (x_face, cy, 1.6), (0.1, width * 0.8, 2.6), glass)
            continue
        for k in range(per_floor):
            y = y0 + gap * (k + 0.5)
            box(f"frame{i}", (x_face, y, z), (0.08, win_w + 0.12, win_h + 0.12), frame)
            box(f"window{i}", (x_face + side * 0.02, y, z), (0.08, win_w, win_h), glass)
    return {"side": side, "y": y0, "width": width, "depth": depth, "height": height,
            "floors": floors, "storey": storey, "windows": per_floor, "shop": shop}


i = 0
for side, count in ((1, rng.randint(2, 5)), (-1, rng.randint(1, 3))):
    y = rng.uniform(-10, 5)
    for _ in range(count):
        w = rng.uniform(6, 20)
        record["buildings"].append(building(i, side, y, w))
        y += w + rng.choice([0, 0, rng.uniform(2, 8)])
        i += 1

# ---- trees on the pavements
rng = stream("trees")
for t in range(rng.randint(0, 5)):
    side = rng.choice([-1, 1])
    x, y = side * (road / 2 + pave * rng.uniform(0.3, 0.7)), rng.uniform(0, 40)
    h = rng.uniform(3, 7)
    bpy.ops.mesh.primitive_cylinder_add(radius=0.12, depth=h, location=(x, y, h / 2), vertices=16)
    bpy.context.object.data.materials.append(material("bark", "bark"))
    for k in range(rng.randint(2, 4)):
        r = rng.uniform(1.0, 2.0)
        bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=3, radius=r, location=(
            x + rng.uniform(-0.8, 0.8), y + rng.uniform(-0.8, 0.8), h + rng.uniform(-0.5, 1.0)))
        crown = bpy.context.object
        mod = crown.modifiers.new("displace", "DISPLACE")
        noise = bpy.data.textures.new(f"crown{t}-{k}", "CLOUDS")
        noise.noise_scale = 0.4
        mod.texture, mod.strength = noise, 0.6
        bpy.ops.object.shade_smooth()
        crown.data.materials.append(material("leaves", "leaves", 2.0))
    record["trees"].append({"at": [x, y], "height": h})

# ---- the sky photograph and a sun
record["world"] = _blender.photo_world(scene, stream("world"), args["pool"], (0.6, 2.0))
bpy.ops.object.light_add(type="SUN", location=(0, 0, 50))
sun = bpy.context.object
rng = stream("sun")
sun.data.energy = rng.uniform(2.0, 5.0)
sun.data.angle = rng.uniform(0.005, 0.03)
elevation, azimuth = math.radians(rng.uniform(15, 60)), rng.uniform(0, 2 * math.pi)
sun.rotation_euler = (math.pi / 2 - elevation, 0, azimuth)
record["sun"] = {"energy": sun.data.energy, "elevation": elevation, "azimuth": azimuth}

# ---- the camera: eye level on the near pavement, level, looking along or across the street
rng = stream("camera")
x = -(road / 2 + pave * rng.uniform(0.2, 0.8))
y, z = rng.uniform(-25, -8), rng.uniform(1.5, 1.8)
yaw = math.radians(rng.uniform(-60, -5))  # turned from along the street towards the far side
bpy.ops.object.camera_add(location=(x, y, z), rotation=(math.pi / 2, 0, yaw))
camera = bpy.context.object
camera.data.lens = rng.uniform(18, 35)
camera.data.shift_y = rng.uniform(0.0, 0.15)  # a shift lens: more facade, verticals kept
scene.camera = camera
record["camera"] = {"location": [x, y, z], "yaw": yaw, "lens": camera.data.lens,
                    "shift": camera.data.shift_y}

# `--generator exterior-night`: the same scene, seed for seed, at night (_blender.by_night)
if args.get("generator") == "exterior-night":
    record["night"] = _blender.by_night(scene, stream("night"), (2.0, 3.5))
_blender.finish(scene, args, record)
