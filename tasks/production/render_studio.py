"""A third production-like scene generator (issue 27): a studio still life, a product shot. It
shares nothing with render.py's and render_interior.py's scenes but Blender itself: objects turned
on a lathe (vases, bottles, bowls, cups) in glass, glazed ceramic, metal or a photograph, with
photo-textured fruit and boxes, on a paper sweep or a tabletop, lit by softboxes, seen through a
long lens with a shallow depth of field (docs/production.md, "A third generator").

One image per call (run.ts `renderScene` with `generator: "studio"`; make.ts
`--generator studio`):

    blender -b --factory-startup -noaudio -t 1 --python-exit-code 1 \
        -P tasks/production/render_studio.py -- '<json>'

The JSON is render.py's (seed, out, width, height, samples, engine, threads, pool). Beside the
image, `<out>.json` records the arguments and everything drawn.

The scene, each aspect from its own seeded stream ("studio:" keeps them apart from the others'):

- the set (one half each): a paper sweep (a floor curving up into a wall, radius 0.3-0.8 m), or
  a tabletop (a box 3 x 1.5 m) with a wall 0.6-2 m behind it; each surface a photograph from the
  pool tiled at 1-6 repeats per metre (box-projected, turned 0 or 180 degrees), or a plain paper
  or paint colour;
- two to six objects on it, their footprints kept apart: one to three lathe objects 6-35 cm high
  (a random profile, revolved; walls 3-6 mm thick, so glass refracts through two surfaces),
  spheres 3-7 cm (fruit: a photograph mapped spherically), boxes 5-20 cm (packaging: the whole
  photograph on each face); materials: glass (clear or tinted, IOR 1.45-1.52), glazed
  ceramic (a colour under a clear coat), metal (silver, gold, copper; brushed or polished) or a
  photograph;
- light: a key softbox (an area lamp 0.4-1.5 m, 20-250 W) 30-80 degrees to a side of the camera,
  a fill on the other side (0.1-0.5 of the key, 0.8-2 m), a rim light behind (six in ten; kept in
  front of the backdrop), each aimed at the objects; the environment photograph, dim (0.05-0.5), for reflections;
- a camera 10-50 cm above the set, 50-135 mm lens, framing 0.35-0.9 m across the objects, the
  focus half way up the first object, f/1.4-8 (five to nine aperture blades, or round): a shallow depth of
  field, as in product photography;
- colour: Filmic with a random look, exposure -0.5 to +0.7.

Cycles: `samples` paths per pixel, 12 bounces (glass needs them), caustics off and glossy paths
filtered (production settings), indirect light clamped at 5-20; no denoiser in the render. EEVEE
is allowed but its glass is screen-space refraction; the set of docs/production.md is Cycles only.
The finishing is post.py's `studio` chain (a domain-transform edge-preserving filter standing in
for OIDN, chromatic aberration, vignette and grain with probability one half, OpenCV's JPEG).
"""

import colorsys
import math
import os
import sys

import bmesh
import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402  (the generators' shared settings, beside this file)
from _blender import image  # noqa: E402

args = _blender.arguments()
stream = _blender.streams("studio:", args["seed"])  # the stream of one aspect of the scene

record = {"args": args, "materials": {}, "objects": []}
rng = stream("render")
clamp = rng.uniform(5, 20)
scene = _blender.new_scene(args, bounces=12, clamp_indirect=clamp, dither=0, cycles={
    "transmission_bounces": 12, "glossy_bounces": 8, "caustics_reflective": False,
    "caustics_refractive": False, "blur_glossy": 1.0})
if scene.render.engine != "CYCLES":
    scene.eevee.use_ssr_refraction = True
rng = stream("look")
scene.view_settings.view_transform = "Filmic"
scene.view_settings.look = rng.choice(["None", "Medium Low Contrast", "Medium Contrast",
                                       "Medium High Contrast"])
scene.view_settings.exposure = rng.uniform(-0.5, 0.7)
record["look"] = {"look": scene.view_settings.look, "exposure": scene.view_settings.exposure,
                  "clamp_indirect": clamp}


def link(obj):
    scene.collection.objects.link(obj)
    return obj


def mesh_object(name, bm, smooth=True):
    """An object from a bmesh (freed), its faces smooth-shaded."""
    mesh = bpy.data.meshes.new(name)
    bm.to_mesh(mesh)
    bm.free()
    for poly in mesh.polygons:
        poly.use_smooth = smooth
    return link(bpy.data.objects.new(name, mesh))


def material(name, kind, mapping="box", scale=1.0):
    """A principled material of `kind`: glass, ceramic, metal, photo (a photograph from the pool,
    projected by `mapping`: box, sphere or uv, at `scale` repeats per metre) or paper (a plain
    colour, muted)."""
    rng = stream(f"material:{name}")
    # a box projection turns by 0 or 180 degrees only (between, the photograph smears on the
    # vertical faces); a sphere's not at all (a turn would move the map's centre off the sphere)
    photo, turn = rng.choice(args["pool"]), rng.choice([0.0, math.pi])
    hue, sat, val = rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.1, 0.9)
    rough = rng.uniform(0.0, 0.4)
    m, bsdf = _blender.principled(name)
    nodes, links = m.node_tree.nodes, m.node_tree.links
    rec = {"kind": kind}
    if kind == "glass":
        tint = colorsys.hsv_to_rgb(hue, sat * 0.3 * (rng.random() < 0.5), 1.0)
        ior, r = rng.uniform(1.45, 1.52), rng.uniform(0.0, 0.05)
        bsdf.inputs["Base Color"].default_value = (*tint, 1)
        bsdf.inputs["Transmission"].default_value = 1.0
        bsdf.inputs["IOR"].default_value = ior
        bsdf.inputs["Roughness"].default_value = r
        m.use_screen_refraction = True  # EEVEE's refraction (Cycles ignores it)
        rec.update({"tint": list(tint), "ior": ior, "roughness": r})
    elif kind == "ceramic":
        colour = colorsys.hsv_to_rgb(hue, sat, val)
        bsdf.inputs["Base Color"].default_value = (*colour, 1)
        bsdf.inputs["Roughness"].default_value = 0.3 + rough
        bsdf.inputs["Clearcoat"].default_value = rng.uniform(0.3, 1.0)
        bsdf.inputs["Clearcoat Roughness"].default_value = rng.uniform(0.0, 0.1)
        rec.update({"colour": list(colour)})
    elif kind == "metal":
        colour = rng.choice([(0.9, 0.9, 0.9), (1.0, 0.78, 0.34), (0.95, 0.64, 0.54)])
        bsdf.inputs["Base Color"].default_value = (*colour, 1)
        bsdf.inputs["Metallic"].default_value = 1.0
        bsdf.inputs["Roughness"].default_value = rough
        bsdf.inputs["Anisotropic"].default_value = rng.uniform(0, 0.8)
        rec.update({"colour": list(colour), "roughness": rough})
    elif kind == "paper":
        colour = colorsys.hsv_to_rgb(hue, sat * 0.3, 0.3 + 0.6 * val)
        bsdf.inputs["Base Color"].default_value = (*colour, 1)
        bsdf.inputs["Roughness"].default_value = 0.6 + rough
        rec.update({"colour": list(colour)})
    else:  # a photograph
        bsdf.inputs["Roughness"].default_value = 0.3 + rough
        if mapping == "uv":
            tex = nodes.new("ShaderNodeTexImage")
            tex.image = image(photo)
            tex.interpolation = "Cubic"
            links.new(nodes.new("ShaderNodeTexCoord").outputs["UV"], tex.inputs["Vector"])
        else:
            sphere = mapping == "sphere"
            tex = _blender.photo_texture(m, photo, scale, 0.0 if sphere else turn, 0.15,
                                         "Generated" if sphere else "Object",
                                         "SPHERE" if sphere else "BOX", "Cubic")
        links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
        strength = rng.uniform(0.02, 0.2)
        _blender.bump(m, tex.outputs["Color"], strength, 0.005)
        rec.update({"photo": photo, "mapping": mapping, "bump": strength,
                    **({} if mapping == "uv" else {"scale": scale, "turn": turn})})
    record["materials"][name] = rec
    return m


# ---- the set: a paper sweep, or a tabletop and a wall behind it
rng = stream("set")
kind = rng.choice(["sweep", "table"])
surface = rng.choice(["photo", "paper"]), rng.choice(["photo", "paper", "paper"])
tile = rng.uniform(1, 6), rng.uniform(1, 6)
radius, gap = rng.uniform(0.3, 0.8), rng.uniform(0.6, 2.0)
record["set"] = {"kind": kind, "floor": surface[0], **(
    {"radius": radius} if kind == "sweep" else {"wall": surface[1], "gap": gap})}
floor_mat = material("floor", surface[0], "box", tile[0])
if kind == "sweep":  # floor (y from -3 to 0), a quarter circle up, a wall to 3 m; 6 m wide
    profile = [(y, 0.0) for y in (-3.0, -1.5, -0.5)]
    profile += [(radius * math.sin(a), radius * (1 - math.cos(a)))
                for a in (i * math.pi / 2 / 16 for i in range(17))]
    profile += [(radius, z) for z in (1.0, 3.0)]
    bm = bmesh.new()
    rows = [[bm.verts.new((x, y + 0.2, z)) for (y, z) in profile] for x in (-3.0, 3.0)]
    for i in range(len(profile) - 1):
        bm.faces.new((rows[0][i], rows[1][i], rows[1][i + 1], rows[0][i + 1]))
    mesh_object("sweep", bm).data.materials.append(floor_mat)
else:
    bpy.ops.mesh.primitive_cube_add(size=1, location=(0, 0, -0.02))
    top = bpy.context.object
    top.scale = (3.0, 1.5, 0.04)
    bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
    top.data.materials.append(floor_mat)
    bpy.ops.mesh.primitive_plane_add(size=1, location=(0, 0.75 + gap, 1.5),
                                     rotation=(math.pi / 2, 0, 0))
    wall = bpy.context.object
    wall.scale = (8, 5, 1)
    bpy.ops.object.transform_apply(location=False, rotation=False, scale=True)
    wall.data.materials.append(material("wall", surface[1], "box", tile[1]))

# ---- the objects
rng = stream("objects")
placed = []  # (x, y, footprint radius)


def spot(r):
    """A place for a footprint of radius r, away from the others (the last try if none is)."""
    for _ in range(40):
        x, y = rng.uniform(-0.35, 0.35), rng.uniform(-0.25, 0.15)
        if all(math.hypot(x - a, y - b) > r + c + 0.01 for a, b, c in placed):
            break
    placed.append((x, y, r))
    return x, y


def lathe(i):
    """A vase, bottle, bowl or cup: a random outer profile revolved, with a wall inside it."""
    shape = rng.choice(["vase", "bottle", "bowl", "cup"])
    h = {"vase": (0.15, 0.35), "bottle": (0.18, 0.32), "bowl": (0.06, 0.12), "cup": (0.08, 0.12)}
    h = rng.uniform(*h[shape])
    base = {"vase": 0.3, "bottle": 0.28, "bowl": 0.9, "cup": 0.45}[shape] * h
    knots = [base * rng.uniform(0.6, 1.0), base * rng.uniform(0.8, 1.3),
             base * rng.uniform(0.5, 1.2), base * rng.uniform(0.4, 1.1),
             base * rng.uniform(0.5, 1.3)]
    if shape == "bottle":
        knots[3], knots[4] = base * 0.3, base * rng.uniform(0.2, 0.3)
    if shape == "bowl":
        knots = [base * 0.5, base * 0.8, base * 0.95, base, base * 1.05]
    thick = rng.uniform(0.003, 0.006)

    def radius_at(t):  # smooth interpolation of the knots, t in [0, 1]
        u = t * (len(knots) - 1)
        k = min(int(u), len(knots) - 2)
        f = u - k
        f = f * f * (3 - 2 * f)
        return knots[k] * (1 - f) + knots[k + 1] * f

    n = 24
    outer = [(radius_at(j / n), h * j / n) for j in range(n + 1)]
    inner = [(max(0.002, r - thick), z) for r, z in reversed(outer)][:-1]
    profile = [(0.0, 0.0), *outer, *inner, (0.0, thick)]
    bm = bmesh.new()
    verts = [bm.verts.new((r, 0, z)) for r, z in profile]
    edges = [bm.edges.new((verts[k], verts[k + 1])) for k in range(len(verts) - 1)]
    bmesh.ops.spin(bm, geom=verts + edges, cent=(0, 0, 0), axis=(0, 0, 1),
                   angle=2 * math.pi, steps=64, use_merge=True)
    bmesh.ops.remove_doubles(bm, verts=bm.verts, dist=1e-5)
    bmesh.ops.recalc_face_normals(bm, faces=bm.faces[:])  # outwards: glass refracts the right way
    obj = mesh_object(f"{shape}{i}", bm)
    x, y = spot(max(knots))
    obj.location = (x, y, 0)
    kind = rng.choice(["glass", "glass", "ceramic", "ceramic", "metal", "photo"])
    obj.data.materials.append(material(f"object{i}", kind, "box", rng.uniform(4, 12)))
    return obj, {"kind": shape, "material": kind, "at": [x, y], "height": h,
                 "radii": knots, "wall": thick}


def fruit(i):
    r, squash = rng.uniform(0.03, 0.07), rng.uniform(0.85, 1.1)
    x, y = spot(r)
    bpy.ops.mesh.primitive_uv_sphere_add(radius=r, location=(x, y, r * squash), segments=48,
                                         ring_count=24)
    obj = bpy.context.object
    obj.scale = (1, 1, squash)
    bpy.ops.object.shade_smooth()
    obj.data.materials.append(material(f"object{i}", "photo", "sphere", 1.0))
    return obj, {"kind": "fruit", "at": [x, y], "radius": r, "squash": squash}


def package(i):
    w, d, h = (rng.uniform(0.05, 0.2) for _ in range(3))
    x, y = spot(math.hypot(w, d) / 2)
    bpy.ops.mesh.primitive_cube_add(size=1, location=(x, y, h / 2),
                                    rotation=(0, 0, rng.uniform(0, math.pi)))
    obj = bpy.context.object
    obj.scale = (w, d, h)
    uv = obj.data.uv_layers.active.data  # the whole photograph on each face (not the cross)
    for poly in obj.data.polygons:
        for k, loop in enumerate(poly.loop_indices):
            uv[loop].uv = ((0, 0), (1, 0), (1, 1), (0, 1))[k]
    mod = obj.modifiers.new("bevel", "BEVEL")
    mod.width, mod.segments = 0.002, 2
    obj.data.materials.append(material(f"object{i}", "photo", "uv"))
    return obj, {"kind": "package", "at": [x, y], "size": [w, d, h]}


objects = []
n_lathe = rng.randint(1, 3)
for i in range(rng.randint(max(2, n_lathe), 6)):
    obj, rec = (lathe if i < n_lathe else rng.choice([fruit, fruit, package]))(i)
    objects.append(obj)
    record["objects"].append(rec)

# ---- light: softboxes aimed at the objects, and the environment photograph, dim
centre = (0.0, -0.05, 0.08)
aim = link(bpy.data.objects.new("aim", None))
aim.location = centre


def softbox(name, azimuth, elevation, distance, size, energy):
    loc = (centre[0] + distance * math.cos(elevation) * math.sin(azimuth),
           centre[1] - distance * math.cos(elevation) * math.cos(azimuth),
           centre[2] + distance * math.sin(elevation))
    bpy.ops.object.light_add(type="AREA", location=loc)
    lamp = bpy.context.object
    lamp.name = name
    lamp.data.shape = "RECTANGLE"
    lamp.data.size, lamp.data.size_y = size, size * 0.7
    lamp.data.energy = energy
    c = lamp.constraints.new(type="TRACK_TO")
    c.target, c.track_axis, c.up_axis = aim, "TRACK_NEGATIVE_Z", "UP_Y"
    record["lights"].append({"name": name, "azimuth": azimuth, "elevation": elevation,
                             "distance": distance, "size": size, "energy": energy})


rng = stream("lights")
record["lights"] = []
side = rng.choice([-1, 1])
key = rng.uniform(20, 250)
softbox("key", side * math.radians(rng.uniform(30, 80)), math.radians(rng.uniform(20, 60)),
        rng.uniform(0.8, 2.0), rng.uniform(0.4, 1.5), key)
softbox("fill", -side * math.radians(rng.uniform(30, 80)), math.radians(rng.uniform(10, 40)),
        rng.uniform(1.0, 2.5), rng.uniform(0.8, 2.0), key * rng.uniform(0.1, 0.5))
if rng.random() < 0.6:  # behind the objects, kept 10 cm in front of the backdrop's wall
    az, el = math.radians(rng.uniform(150, 210)), math.radians(rng.uniform(20, 60))
    wall_y = 0.2 + radius if kind == "sweep" else 0.75 + gap
    room = (wall_y - 0.1 - centre[1]) / (math.cos(el) * abs(math.cos(az)))
    softbox("rim", az, el, min(rng.uniform(0.8, 2.0), room), rng.uniform(0.3, 1.0),
            key * rng.uniform(0.5, 1.5))
record["world"] = _blender.photo_world(scene, stream("world"), args["pool"], (0.05, 0.5))

# ---- the camera: a long lens, low, focused on the first object, a shallow depth of field
rng = stream("camera")
lens = rng.uniform(50, 135)
across = rng.uniform(0.35, 0.9)  # metres framed across at the objects
distance = across * lens / 36  # a 36 mm wide sensor
height = rng.uniform(0.1, 0.5)
turn = math.radians(rng.uniform(-25, 25))
ground = math.sqrt(max(0.01, distance ** 2 - (height - centre[2]) ** 2))
bpy.ops.object.camera_add(location=(centre[0] + ground * math.sin(turn),
                                    centre[1] - ground * math.cos(turn), height))
camera = bpy.context.object
camera.data.lens = lens
camera.data.sensor_width = 36
c = camera.constraints.new(type="TRACK_TO")
c.target, c.track_axis, c.up_axis = aim, "TRACK_NEGATIVE_Z", "UP_Y"
scene.camera = camera
fstop, blades = rng.uniform(1.4, 8.0), rng.choice([0, 5, 6, 7, 8, 9])
camera.data.dof.use_dof = True
first = objects[0].location  # its base; the focus half way up
focus = (first[0], first[1], record["objects"][0].get("height", 0.1) / 2)
camera.data.dof.focus_distance = math.dist(camera.location, focus)
camera.data.dof.aperture_fstop = fstop
camera.data.dof.aperture_blades = blades
record["camera"] = {"location": list(camera.location), "lens": lens, "across": across,
                    "distance": distance, "height": height,
                    "turn": turn, "fstop": fstop, "blades": blades,
                    "focus": camera.data.dof.focus_distance}

# `--generator studio-night`: the same scene, seed for seed, at night (_blender.by_night)
if args.get("generator") == "studio-night":
    record["night"] = _blender.by_night(scene, stream("night"), (-2.5, -1.0))
_blender.finish(scene, args, record)
