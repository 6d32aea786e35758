"""A second production-like scene generator (issue 27): a furnished room, rendered and finished
in Blender. It shares nothing with render.py's scenes but Blender itself, so that a protocol can
hold out a way of making scenes, not only an engine (docs/production.md, "Another scene
generator").

One image per call (run.ts `renderScene` with `generator: "interior"`; make.ts
`--generator interior`):

    blender -b --factory-startup -noaudio -t 1 --python-exit-code 1 \
        -P tasks/production/render_interior.py -- '<json>'

The JSON is render.py's (seed, out, width, height, samples, engine CYCLES or BLENDER_EEVEE,
threads, pool). Beside the image, `<out>.json` records the arguments and everything drawn.

The scene, each aspect from its own seeded stream ("interior:" keeps them apart from render.py's):

- a room 3.5-8 m wide, 4-9 m deep, 2.5-3.3 m high: a floor, four walls and a ceiling, boxes 10 cm
  thick; the floor carries a photograph tiled at 0.4-2 repeats per metre (UV-free: the
  photograph mapped by each box's object coordinates, so the pieces of a wall tile out of line), each wall either a photograph or a
  plain paint colour (one half each; paints are muted: saturation at most 0.35), the ceiling an off-white paint;
- a window 1-2.5 m wide cut in the back or a side wall (the wall built of four boxes around it),
  the environment photograph seen through it (Blender's world: background and light) and a sun
  shining in through it (a track constraint from outside to a point inside);
- one to three ceiling lights (area lamps, 0.3-1.2 m, 40-250 W, warm to neutral tint);
- four to eight pieces of furniture made of boxes (some with bevelled edges): tables (top and four legs),
  cabinets, shelves, sofas (a seat and a back), a rug (a thin box), and a photograph hung on a
  wall (the whole photograph on a plane, by its UVs, at its own aspect, no frame; on the back wall
  its plane faces the wall, so Cycles shows it mirrored; it may hang across the window); each of wood-like
  photographs or plain colours, some glossy or metallic;
- a camera 0.6-1.2 m from the front wall, 1.1-1.7 m high, level (architectural: vertical lines
  stay vertical) with a small tilt, turned up to 35 degrees from the back wall, 16-30 mm lens;
- colour: Filmic or Standard, exposure -1 to +0.5.

Cycles: `samples` paths per pixel, no adaptive sampling, 8 bounces, indirect light clamped at 10
(a common production setting), no denoiser in the render.

The finishing is Blender's compositor, not post.py: a bilateral blur guided by the image (a
classical edge-preserving denoiser standing in for OIDN, another one than post.py's non-local
means), then each with probability one half: glare (fog glow, streaks or ghosts, Blender's Glare
node), lens distortion with dispersion (chromatic aberration; the Lens Distortion node), a
vignette (an elliptic mask, blurred, multiplied), a colour grade (lift, gamma, gain). post.py's
`interior` chain then sharpens (one half) and writes the camera's file with PIL (Lanczos resize,
JPEG at a random quality and chroma subsampling). The post steps drawn are in the record.
"""

import colorsys
import math
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402  (the generators' shared settings, beside this file)
from _blender import image  # noqa: E402

args = _blender.arguments()
stream = _blender.streams("interior:", args["seed"])  # the stream of one aspect of the scene

record = {"args": args, "materials": {}, "objects": [], "post": {}}
scene = _blender.new_scene(args, bounces=8, clamp_indirect=10, dither=0)
rng = stream("look")
scene.view_settings.view_transform = rng.choice(["Filmic", "Filmic", "Standard"])
scene.view_settings.exposure = rng.uniform(-1.0, 0.5)
record["look"] = {"transform": scene.view_settings.view_transform,
                  "exposure": scene.view_settings.exposure}


def material(name, kind):
    """A principled material. kind: "floor" and "wood" (a tiled photograph), "wall" (a photograph
    or paint), "paint" (a plain colour), "any" (photograph, plain colour or metal)."""
    rng = stream(f"material:{name}")
    photo, scale = rng.choice(args["pool"]), rng.uniform(0.4, 2.0)
    turn, bump = rng.uniform(0, math.pi), rng.uniform(0.02, 0.3)
    roughness, specular = rng.uniform(0.15, 0.85), rng.uniform(0.2, 0.6)
    tint = rng.uniform(0.6, 0.9)
    hue, sat, val = rng.random(), rng.uniform(0, 0.35), rng.uniform(0.25, 0.85)
    colour = list(colorsys.hsv_to_rgb(hue, sat, val))
    metal = rng.random() < 0.2
    pick = rng.random()
    if kind == "wall":
        kind = "floor" if pick < 0.5 else "paint"
    elif kind == "any":
        kind = "floor" if pick < 0.5 else ("metal" if metal else "paint")
    if kind == "paint" and name == "ceiling":
        colour = [tint, tint, tint * 0.97]
    m, bsdf = _blender.principled(name)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Specular"].default_value = specular
    record["materials"][name] = {"kind": kind, "roughness": roughness}
    if kind in ("paint", "metal"):
        bsdf.inputs["Base Color"].default_value = (*colour, 1.0)
        bsdf.inputs["Metallic"].default_value = 1.0 if kind == "metal" else 0.0
        record["materials"][name]["colour"] = colour
        return m
    tex = _blender.photo_texture(m, photo, scale, turn, 0.1, interpolation="Cubic")
    m.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    _blender.bump(m, tex.outputs["Color"], bump, 0.02)
    record["materials"][name].update({"photo": photo, "scale": scale})
    return m


def box(name, centre, size, mat, bevel=0.0):
    """A box of `size` metres at `centre`, its scale applied (object coordinates are metres)."""
    bpy.ops.mesh.primitive_cube_add(size=1, location=centre)
    obj = bpy.context.object
    obj.name = name
    obj.scale = size
    bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
    if bevel > 0:
        mod = obj.modifiers.new("bevel", "BEVEL")
        mod.width, mod.segments = bevel, 3
    obj.data.materials.append(mat)
    return obj


# ---- the room
rng = stream("room")
W, D, H = rng.uniform(3.5, 8), rng.uniform(4, 9), rng.uniform(2.5, 3.3)
T = 0.1
record["room"] = {"width": W, "depth": D, "height": H}
box("floor", (0, 0, -T / 2), (W + 2 * T, D + 2 * T, T), material("floor", "floor"))
box("ceiling", (0, 0, H + T / 2), (W + 2 * T, D + 2 * T, T), material("ceiling", "paint"))
walls = {  # name: (centre of the wall's plane, the axis along it, its length)
    "back": ((0, D / 2 + T / 2), "x", W + 2 * T),
    "front": ((0, -D / 2 - T / 2), "x", W + 2 * T),
    "left": ((-W / 2 - T / 2, 0), "y", D),
    "right": ((W / 2 + T / 2, 0), "y", D),
}
rng = stream("window")
window_wall = rng.choice(["back", "back", "left", "right"])
ww, wh = rng.uniform(1.0, 2.5), rng.uniform(1.0, min(2.0, H - 1.0))
sill = rng.uniform(0.5, H - wh - 0.2)
offset = rng.uniform(-0.25, 0.25)  # the window's middle, as a share of the wall's length
record["window"] = {"wall": window_wall, "width": ww, "height": wh, "sill": sill,
                    "offset": offset}
for name, ((cx, cy), axis, length) in walls.items():
    mat = material(f"wall-{name}", "wall")

    def piece(a0, a1, z0, z1, part, cx=cx, cy=cy, axis=axis, mat=mat, name=name):
        """The part of the wall from a0 to a1 along it and z0 to z1 up."""
        if a1 - a0 < 1e-3 or z1 - z0 < 1e-3:
            return
        mid, z = (a0 + a1) / 2, (z0 + z1) / 2
        if axis == "x":
            box(f"{name}-{part}", (cx + mid, cy, z), (a1 - a0, T, z1 - z0), mat)
        else:
            box(f"{name}-{part}", (cx, cy + mid, z), (T, a1 - a0, z1 - z0), mat)

    if name != window_wall:
        piece(-length / 2, length / 2, 0, H, "whole")
        continue
    m = offset * length
    a0, a1 = max(-length / 2 + 0.2, m - ww / 2), min(length / 2 - 0.2, m + ww / 2)
    piece(-length / 2, a0, 0, H, "left")
    piece(a1, length / 2, 0, H, "right")
    piece(a0, a1, 0, sill, "below")
    piece(a0, a1, sill + wh, H, "above")
    window_centre = (cx + m, cy, sill + wh / 2) if axis == "x" else (cx, cy + m, sill + wh / 2)

# ---- the world outside: the environment photograph, and a sun through the window
record["world"] = _blender.photo_world(scene, stream("world"), args["pool"], (0.8, 3.0))

rng = stream("sun")
outward = {"back": (0, 1), "front": (0, -1), "left": (-1, 0), "right": (1, 0)}[window_wall]
spread, elevation = rng.uniform(-0.9, 0.9), rng.uniform(0.25, 0.9)
ox = outward[0] * math.cos(spread) - outward[1] * math.sin(spread)
oy = outward[0] * math.sin(spread) + outward[1] * math.cos(spread)
far = 20
bpy.ops.object.light_add(type="SUN", location=(
    window_centre[0] + far * ox * math.cos(elevation),
    window_centre[1] + far * oy * math.cos(elevation),
    window_centre[2] + far * math.sin(elevation)))
sun = bpy.context.object
sun.data.energy = rng.uniform(1.5, 6.0)
sun.data.angle = rng.uniform(0.01, 0.05)
target = bpy.data.objects.new("sun-target", None)
scene.collection.objects.link(target)
target.location = window_centre
c = sun.constraints.new(type="TRACK_TO")
c.target, c.track_axis, c.up_axis = target, "TRACK_NEGATIVE_Z", "UP_Y"
record["sun"] = {"energy": sun.data.energy, "elevation": elevation, "spread": spread}

# ---- ceiling lights
rng = stream("lights")
record["lights"] = []
for i in range(rng.randint(1, 3)):
    x, y = rng.uniform(-W / 3, W / 3), rng.uniform(-D / 3, D / 3)
    bpy.ops.object.light_add(type="AREA", location=(x, y, H - 0.02))
    lamp = bpy.context.object
    lamp.data.size = rng.uniform(0.3, 1.2)
    lamp.data.energy = rng.uniform(40, 250)
    warm = rng.uniform(0, 0.35)
    lamp.data.color = (1.0, 1.0 - warm * 0.45, 1.0 - warm)
    record["lights"].append({"location": [x, y], "size": lamp.data.size,
                             "energy": lamp.data.energy, "warm": warm})

# ---- furniture
rng = stream("furniture")


def place(w, d):
    """A free-standing place: x, y of a footprint w x d, kept off the camera's wall."""
    return (rng.uniform(-W / 2 + w / 2 + 0.1, W / 2 - w / 2 - 0.1),
            rng.uniform(-D / 2 + 1.8 + d / 2, D / 2 - d / 2 - 0.1))


def table(i):
    w, d, h = rng.uniform(0.8, 2.0), rng.uniform(0.6, 1.0), rng.uniform(0.7, 0.78)
    x, y = place(w, d)
    mat = material(f"table{i}", "wood")
    box(f"table{i}-top", (x, y, h - 0.02), (w, d, 0.04), mat, 0.005)
    for sx in (-1, 1):
        for sy in (-1, 1):
            box(f"table{i}-leg", (x + sx * (w / 2 - 0.05), y + sy * (d / 2 - 0.05), (h - 0.04) / 2),
                (0.05, 0.05, h - 0.04), mat, 0.005)
    return {"kind": "table", "at": [x, y], "size": [w, d, h]}


def cabinet(i):
    w, d, h = rng.uniform(0.5, 1.8), rng.uniform(0.4, 0.6), rng.uniform(0.5, 2.0)
    x, _ = place(w, d)
    y = D / 2 - d / 2 - 0.02
    box(f"cabinet{i}", (x, y, h / 2), (w, d, h), material(f"cabinet{i}", "any"), 0.01)
    return {"kind": "cabinet", "at": [x, y], "size": [w, d, h]}


def shelf(i):
    w, h, n = rng.uniform(0.6, 1.5), rng.uniform(1.0, 2.0), rng.randint(3, 5)
    x, _ = place(w, 0.35)
    y = D / 2 - 0.2
    mat = material(f"shelf{i}", "wood")
    for side in (-1, 1):
        box(f"shelf{i}-side", (x + side * w / 2, y, h / 2), (0.03, 0.35, h), mat)
    for k in range(n):
        box(f"shelf{i}-board", (x, y, 0.02 + k * (h - 0.04) / (n - 1)), (w, 0.35, 0.03), mat)
    return {"kind": "shelf", "at": [x, y], "size": [w, 0.35, h]}


def sofa(i):
    w, d = rng.uniform(1.4, 2.4), rng.uniform(0.8, 1.0)
    x, y = place(w, d)
    mat = material(f"sofa{i}", "any")
    box(f"sofa{i}-seat", (x, y, 0.22), (w, d, 0.44), mat, 0.06)
    box(f"sofa{i}-back", (x, y + d / 2 - 0.1, 0.6), (w, 0.2, 0.5), mat, 0.06)
    return {"kind": "sofa", "at": [x, y], "size": [w, d, 0.85]}


def rug(i):
    w, d = rng.uniform(1.2, 3.0), rng.uniform(1.0, 2.5)
    x, y = place(w, d)
    box(f"rug{i}", (x, y, 0.005), (w, d, 0.01), material(f"rug{i}", "floor"))
    return {"kind": "rug", "at": [x, y], "size": [w, d, 0.01]}


def picture(i):
    """A framed photograph on a side wall or the back wall: the whole photograph, by UV."""
    photo = rng.choice(args["pool"])
    img = image(photo)
    aspect = img.size[0] / max(1, img.size[1])
    h = rng.uniform(0.4, 0.9)
    w = h * aspect
    wall = rng.choice(["back", "left", "right"])
    z = rng.uniform(1.2, H - h / 2 - 0.2)
    if wall == "back":
        loc, rot = (rng.uniform(-W / 2 + w, W / 2 - w), D / 2 - 0.01, z), (math.pi / 2, 0, math.pi)
    else:
        s = -1 if wall == "left" else 1
        loc = (s * (W / 2 - 0.01), rng.uniform(-D / 4, D / 2 - w), z)
        rot = (math.pi / 2, 0, -s * math.pi / 2)
    bpy.ops.mesh.primitive_plane_add(size=1, location=loc, rotation=rot)
    plane = bpy.context.object
    plane.scale = (w, h, 1)
    m, bsdf = _blender.principled(f"picture{i}")
    tex = m.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = img
    bsdf.inputs["Roughness"].default_value = rng.uniform(0.1, 0.6)
    m.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    plane.data.materials.append(m)
    record["materials"][f"picture{i}"] = {"kind": "picture", "photo": photo}
    return {"kind": "picture", "at": list(loc), "size": [w, h], "wall": wall}


makers = [table, cabinet, shelf, sofa, rug, picture]
for i in range(rng.randint(4, 8)):
    record["objects"].append(rng.choice(makers)(i))

# ---- the camera: near the front wall, level, looking into the room
rng = stream("camera")
cx = rng.uniform(-W / 4, W / 4)
cy = -D / 2 + rng.uniform(0.6, 1.2)
cz = rng.uniform(1.1, 1.7)
yaw = rng.uniform(-35, 35) * math.pi / 180
tilt = rng.uniform(-6, 4) * math.pi / 180
bpy.ops.object.camera_add(location=(cx, cy, cz), rotation=(math.pi / 2 + tilt, 0, yaw))
camera = bpy.context.object
camera.data.lens = rng.uniform(16, 30)
scene.camera = camera
record["camera"] = {"location": [cx, cy, cz], "yaw": yaw, "tilt": tilt, "lens": camera.data.lens}

# ---- the finishing: Blender's compositor
scene.use_nodes = True
scene.render.use_compositing = True
tree = scene.node_tree
for n in list(tree.nodes):
    tree.nodes.remove(n)
layers = tree.nodes.new("CompositorNodeRLayers")
composite = tree.nodes.new("CompositorNodeComposite")
link = tree.links.new


def post(step):
    """The seeded stream of one finishing step, and whether it runs (denoise always)."""
    r = stream(f"post:{step}")
    return r, step == "denoise" or r.random() < 0.5


current = layers.outputs["Image"]
r, _ = post("denoise")
node = tree.nodes.new("CompositorNodeBilateralblur")
node.iterations = r.randint(1, 3)
node.sigma_color = r.uniform(0.2, 0.8)
node.sigma_space = r.uniform(3, 9)
link(current, node.inputs["Image"])
link(current, node.inputs["Determinator"])
current = node.outputs["Image"]
record["post"]["denoise"] = {"iterations": node.iterations, "sigma_color": node.sigma_color,
                             "sigma_space": node.sigma_space}
r, on = post("glare")
kind, threshold, mix = r.choice(["FOG_GLOW", "STREAKS", "GHOSTS"]), r.uniform(0.6, 1.0), \
    r.uniform(-0.8, -0.3)
if on:
    node = tree.nodes.new("CompositorNodeGlare")
    node.glare_type, node.quality, node.threshold, node.mix = kind, "HIGH", threshold, mix
    node.size = 8
    link(current, node.inputs["Image"])
    current = node.outputs["Image"]
    record["post"]["glare"] = {"type": kind, "threshold": threshold, "mix": mix}
r, on = post("lens")
distort, dispersion = r.uniform(-0.06, 0.06), r.uniform(0.005, 0.03)
if on:
    node = tree.nodes.new("CompositorNodeLensdist")
    node.use_fit = True  # scaled to fill the frame: no black border
    node.inputs["Distort"].default_value = distort
    node.inputs["Dispersion"].default_value = dispersion
    link(current, node.inputs["Image"])
    current = node.outputs["Image"]
    record["post"]["lens"] = {"distort": distort, "dispersion": dispersion}
r, on = post("vignette")
size, amount = r.uniform(0.9, 1.3), r.uniform(0.15, 0.5)
if on:
    mask = tree.nodes.new("CompositorNodeEllipseMask")
    mask.width, mask.height = size, size
    mask.inputs["Mask"].default_value = 0
    mask.inputs["Value"].default_value = 1
    blur = tree.nodes.new("CompositorNodeBlur")
    blur.use_relative, blur.factor_x, blur.factor_y = True, 30, 30
    blur.filter_type = "GAUSS"
    link(mask.outputs["Mask"], blur.inputs["Image"])
    ramp = tree.nodes.new("CompositorNodeMapRange")  # 0 -> 1 - amount, 1 -> 1
    ramp.inputs["To Min"].default_value = 1 - amount
    link(blur.outputs["Image"], ramp.inputs["Value"])
    mul = tree.nodes.new("CompositorNodeMixRGB")
    mul.blend_type = "MULTIPLY"
    mul.inputs["Fac"].default_value = 1
    link(current, mul.inputs[1])
    link(ramp.outputs["Value"], mul.inputs[2])
    current = mul.outputs["Image"]
    record["post"]["vignette"] = {"size": size, "amount": amount}
r, on = post("grade")
lift = [r.uniform(0.97, 1.03) for _ in range(3)]
gamma = [r.uniform(0.94, 1.06) for _ in range(3)]
gain = [r.uniform(0.92, 1.08) for _ in range(3)]
if on:
    node = tree.nodes.new("CompositorNodeColorBalance")
    node.correction_method = "LIFT_GAMMA_GAIN"
    node.lift, node.gamma, node.gain = lift, gamma, gain
    link(current, node.inputs["Image"])
    current = node.outputs["Image"]
    record["post"]["grade"] = {"lift": lift, "gamma": gamma, "gain": gain}
link(current, composite.inputs["Image"])

# `--generator interior-night`: the same scene, seed for seed, at night (_blender.by_night)
if args.get("generator") == "interior-night":
    record["night"] = _blender.by_night(scene, stream("night"), (-2.5, -1.0))
_blender.finish(scene, args, record)
