"""A fifth production-like scene generator (issue 27): a landscape, the subject of film and game
renders (terrain, rock, water, vegetation under a sky). It shares nothing with the other
generators' scenes but Blender itself (docs/production.md, "A fifth generator").

One image per call (run.ts `renderScene` with `generator: "landscape"`; make.ts
`--generator landscape`):

    blender -b --factory-startup -noaudio -t 1 --python-exit-code 1 \
        -P tasks/production/render_landscape.py -- '<json>'

The JSON is render.py's (seed, out, width, height, samples, engine, threads, pool). Beside the
image, `<out>.json` records the arguments and everything drawn.

The scene, each aspect from its own seeded stream ("landscape:" keeps them apart from the others'):

- terrain: an 800 m square grid (320 x 320 cells) raised into hills by two layers of Blender's
  cloud noise (hills 4-30 m high at a scale of 25-90 m, detail 0.1-0.5 m at 8-20 m), the
  displacement applied to the mesh; crops of two photographs (15-40 % of their sides) tiled on it
  by object coordinates (0.3-1.2 repeats per metre, box-projected, as ground materials are tiled), one tinted as ground
  (green to ochre) and darkened in patches by a 20-60 m noise (to break the tiling), one
  desaturated as rock, mixed by slope (rock where the ground is steeper than 25-45 degrees), with
  bump;
- water with probability one half: a lake, a plane at the 15-40 % quantile of the terrain's
  heights (dark, glossy, rippled by a noise bump);
- three to twelve boulders: displaced icospheres 0.4-3 m across, squashed, half sunk where they
  stand, a rock photograph;
- five to sixty trees drawn in front of the camera, those that would stand in the lake skipped: conifers (a trunk and two or three stacked cones) or
  broadleaves (a trunk and displaced spheres), leaves a photograph tinted green;
- the sky: the environment photograph from the pool, or Blender's Hosek-Wilkie sky (one half
  each; the same draws either way), and a sun 4-60 degrees high;
- a camera at eye level (1.5-1.9 m above the ground, pitched -8 to +4 degrees) or from a drone
  (12-60 m above it, pitched -35 to -8 degrees), 18-85 mm, never below the water;
- colour: Filmic (a medium or higher contrast look) or Standard, exposure -0.6 to +0.4.

Cycles: `samples` paths per pixel, 8 bounces, indirect light clamped at 10, no denoiser in the
render. The finishing is post.py's `landscape` chain: OpenCV's bilateral filter (a third classical
stand-in for OIDN), lens distortion, glare and grain with probability one half, then a third
camera (`camera-cubic`: OpenCV's bicubic resize, PIL's progressive JPEG).
"""

import colorsys
import math
import os
import sys

import bpy
from mathutils import Vector

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402  (the generators' shared settings, beside this file)

args = _blender.arguments()
stream = _blender.streams("landscape:", args["seed"])  # the stream of one aspect of the scene

record = {"args": args, "materials": {}, "boulders": [], "trees": []}
scene = _blender.new_scene(args, bounces=8, clamp_indirect=10)
rng = stream("look")
scene.view_settings.view_transform = rng.choice(["Filmic", "Filmic", "Standard"])
if scene.view_settings.view_transform == "Filmic":
    scene.view_settings.look = rng.choice(["Medium Contrast", "Medium High Contrast",
                                           "High Contrast"])
scene.view_settings.exposure = rng.uniform(-0.6, 0.4)
record["look"] = {"transform": scene.view_settings.view_transform,
                  "look": scene.view_settings.look, "exposure": scene.view_settings.exposure}


def tinted(m, colour_socket, rng, kind):
    """The colour of a photograph as ground (multiplied by a green-to-ochre tint), rock
    (desaturated) or leaves (multiplied by a green); returns the new colour socket and the record."""
    nodes, links = m.node_tree.nodes, m.node_tree.links
    if kind == "rock":
        hs = nodes.new("ShaderNodeHueSaturation")
        sat = rng.uniform(0.1, 0.5)
        hs.inputs["Saturation"].default_value = sat
        links.new(colour_socket, hs.inputs["Color"])
        return hs.outputs["Color"], {"saturation": sat}
    hue = rng.uniform(0.08, 0.3) if kind == "ground" else rng.uniform(0.22, 0.36)
    tint = colorsys.hsv_to_rgb(hue, rng.uniform(0.3, 0.7), rng.uniform(0.4, 0.8))
    fac = rng.uniform(0.5, 0.9)
    mix = nodes.new("ShaderNodeMixRGB")
    mix.blend_type = "MULTIPLY"
    mix.inputs["Fac"].default_value = fac
    mix.inputs[2].default_value = (*tint, 1)
    links.new(colour_socket, mix.inputs[1])
    return mix.outputs["Color"], {"tint": list(tint), "fac": fac}


def cropped(m, photo, scale, turn, rng):
    """A crop of the photograph `photo` (15-40 % of its width and height, anywhere in it) as an
    image node of material `m`, tiled at `scale` repeats per metre of object coordinates, turned
    by `turn`, box-projected: a region of a photograph reads as a surface (grain, foliage, stone),
    where the whole photograph reads as a picture. Returns the node and the record of the crop."""
    size = rng.uniform(0.15, 0.4)
    at = (rng.uniform(0, 1 - size), rng.uniform(0, 1 - size))
    tex = _blender.photo_texture(m, photo, scale, turn, 0.3, crop=(size, *at))
    return tex, {"crop": size, "at": list(at)}


def photo_material(name, kind, scale):
    """A principled material whose colour is a crop of a photograph of the pool (`cropped`),
    tinted as `kind` (ground, rock, leaves), with bump. Returns the material and its tinted
    colour socket."""
    rng = stream(f"material:{name}")
    photo, turn = rng.choice(args["pool"]), rng.choice([0.0, math.pi])
    m, bsdf = _blender.principled(name)
    tex, crop = cropped(m, photo, scale, turn, rng)
    colour, rec = tinted(m, tex.outputs["Color"], rng, kind)
    m.node_tree.links.new(colour, bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = rng.uniform(0.6, 0.95)
    strength = rng.uniform(0.1, 0.5)
    _blender.bump(m, tex.outputs["Color"], strength)
    rec.update({"kind": kind, "photo": photo, "scale": scale, "turn": turn, "bump": strength,
                **crop})
    record["materials"][name] = rec
    return m, colour


def terrain_material():
    """Ground and rock photographs mixed by slope: rock where the surface normal's vertical
    component is below cos(25-45 degrees), blended over 0.08 of it."""
    rng = stream("terrain-material")
    ground, g_colour = photo_material("ground", "ground", rng.uniform(0.3, 1.2))
    g_bsdf = ground.node_tree.nodes["Principled BSDF"]
    # the rock photograph as a second image node of the same material
    rock_rng = stream("material:rock-face")
    photo, turn = rock_rng.choice(args["pool"]), rock_rng.choice([0.0, math.pi])
    scale = rng.uniform(0.3, 1.2)
    nodes, links = ground.node_tree.nodes, ground.node_tree.links
    r_tex, crop = cropped(ground, photo, scale, turn, rock_rng)
    r_colour, r_rec = tinted(ground, r_tex.outputs["Color"], rock_rng, "rock")
    r_rec.update(crop)
    slope = math.radians(rng.uniform(25, 45))
    geo = nodes.new("ShaderNodeNewGeometry")
    sep = nodes.new("ShaderNodeSeparateXYZ")
    ramp = nodes.new("ShaderNodeMapRange")
    ramp.inputs["From Min"].default_value = math.cos(slope) - 0.04
    ramp.inputs["From Max"].default_value = math.cos(slope) + 0.04
    ramp.inputs["To Min"].default_value = 1.0  # steep: rock
    ramp.inputs["To Max"].default_value = 0.0
    links.new(geo.outputs["Normal"], sep.inputs["Vector"])
    links.new(sep.outputs["Z"], ramp.inputs["Value"])
    # patches: the ground darkened by up to 0.3-0.6 where a 20-60 m noise is high
    patch_scale, patch_dark = rng.uniform(20, 60), rng.uniform(0.3, 0.6)
    coord = nodes.new("ShaderNodeTexCoord")
    patch = nodes.new("ShaderNodeTexNoise")
    patch.inputs["Scale"].default_value = 1.0 / patch_scale
    links.new(coord.outputs["Object"], patch.inputs["Vector"])
    dark = nodes.new("ShaderNodeMixRGB")
    dark.blend_type = "MULTIPLY"
    dark.inputs[2].default_value = (1 - patch_dark,) * 3 + (1,)
    links.new(patch.outputs["Fac"], dark.inputs["Fac"])
    links.new(g_colour, dark.inputs[1])
    mix = nodes.new("ShaderNodeMixRGB")
    links.new(ramp.outputs["Result"], mix.inputs["Fac"])
    links.new(dark.outputs["Color"], mix.inputs[1])
    links.new(r_colour, mix.inputs[2])
    links.new(mix.outputs["Color"], g_bsdf.inputs["Base Color"])
    r_rec.update({"photo": photo, "scale": scale, "turn": turn})
    record["materials"]["rock-face"] = r_rec
    record["materials"]["ground"].update(
        {"rock_slope": slope, "patch_scale": patch_scale, "patch_dark": patch_dark})
    return ground


def displace(obj, name, scale, strength, depth=2):
    """Raises `obj` along its normals by Blender's cloud noise of `scale` metres and `strength`
    metres, then applies it to the mesh."""
    noise = bpy.data.textures.new(name, "CLOUDS")
    noise.noise_scale, noise.noise_depth = scale, depth
    mod = obj.modifiers.new(name, "DISPLACE")
    mod.texture, mod.strength, mod.texture_coords = noise, strength, "GLOBAL"
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.modifier_apply(modifier=mod.name)


# ---- the terrain: hills and detail, applied, so that the camera and objects can stand on it
rng = stream("terrain")
hills = {"height": rng.uniform(4, 30), "scale": rng.uniform(25, 90),
         "detail": rng.uniform(0.1, 0.5), "detail_scale": rng.uniform(8, 20)}
record["terrain"] = hills
bpy.ops.mesh.primitive_grid_add(x_subdivisions=320, y_subdivisions=320, size=800)
terrain = bpy.context.object
terrain.name = "terrain"
# the noise's origin is moved by the seed (Blender's clouds are one fixed field)
terrain.location = (rng.uniform(-500, 500), rng.uniform(-500, 500), 0)
displace(terrain, "hills", hills["scale"], hills["height"], depth=3)
displace(terrain, "detail", hills["detail_scale"], hills["detail"])
terrain.location = (0, 0, 0)
bpy.ops.object.shade_smooth()
terrain.data.materials.append(terrain_material())
heights = sorted(v.co.z for v in terrain.data.vertices)
bpy.context.view_layer.update()


record["ground_misses"] = 0


def ground_at(x, y):
    """The terrain's height at (x, y): a ray cast down onto it. A ray that misses (seen twice in
    3,339 objects of the first set) counts in the record's `ground_misses` and gives the median
    height."""
    hit, loc, *_ = terrain.ray_cast(Vector((x, y, 1000)), Vector((0, 0, -1)))
    if not hit:
        record["ground_misses"] += 1
    return loc.z if hit else heights[len(heights) // 2]


# ---- a lake, one half of the time
rng = stream("water")
water = None
if rng.random() < 0.5:
    water = heights[int(len(heights) * rng.uniform(0.15, 0.4))]
    bpy.ops.mesh.primitive_plane_add(size=800, location=(0, 0, water))
    m, bsdf = _blender.principled("water")
    colour = (rng.uniform(0.01, 0.04), rng.uniform(0.03, 0.07), rng.uniform(0.04, 0.08))
    bsdf.inputs["Base Color"].default_value = (*colour, 1)
    bsdf.inputs["Roughness"].default_value = rng.uniform(0.01, 0.08)
    bsdf.inputs["Specular"].default_value = 0.6
    noise = m.node_tree.nodes.new("ShaderNodeTexNoise")
    noise.inputs["Scale"].default_value = rng.uniform(20, 80)
    _blender.bump(m, noise.outputs["Fac"], rng.uniform(0.02, 0.15))
    bpy.context.object.data.materials.append(m)
    record["materials"]["water"] = {"kind": "water", "colour": list(colour)}
record["water"] = water


def dry(x, y):
    return water is None or ground_at(x, y) > water + 0.2


# ---- boulders
rng = stream("boulders")
rock, _ = photo_material("boulder", "rock", rng.uniform(0.3, 1.2))
for b in range(rng.randint(3, 12)):
    x, y, size = rng.uniform(-40, 40), rng.uniform(-40, 60), rng.uniform(0.4, 3.0)
    z = ground_at(x, y)
    bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=4, radius=size / 2, location=(x, y, z))
    obj = bpy.context.object
    obj.scale = (rng.uniform(0.8, 1.4), rng.uniform(0.8, 1.4), rng.uniform(0.4, 0.9))
    obj.rotation_euler = (0, 0, rng.uniform(0, 2 * math.pi))
    bpy.ops.object.transform_apply(location=False, rotation=True, scale=True)
    displace(obj, f"boulder{b}", rng.uniform(0.2, 0.6), size * rng.uniform(0.1, 0.25))
    bpy.ops.object.shade_smooth()
    obj.data.materials.append(rock)
    record["boulders"].append({"at": [x, y, z], "size": size})

# ---- trees on dry ground
rng = stream("trees")
leaves, _ = photo_material("leaves", "leaves", 2.0)
bark, bark_bsdf = _blender.principled("bark")
bark_bsdf.inputs["Base Color"].default_value = (0.08, 0.05, 0.03, 1)
for t in range(rng.randint(5, 60)):
    x, y = rng.uniform(-50, 50), rng.uniform(-25, 100)
    kind, h = rng.choice(["conifer", "broadleaf"]), rng.uniform(4, 14)
    if not dry(x, y):
        continue
    z = ground_at(x, y)
    bpy.ops.mesh.primitive_cylinder_add(radius=0.03 * h, depth=h, location=(x, y, z + h / 2),
                                        vertices=12)
    bpy.context.object.data.materials.append(bark)
    if kind == "conifer":
        for k in range(rng.randint(2, 3)):
            r = h * rng.uniform(0.18, 0.28) * (1 - 0.25 * k)
            bpy.ops.mesh.primitive_cone_add(vertices=24, radius1=r, depth=h * 0.5,
                                            location=(x, y, z + h * (0.45 + 0.2 * k)))
            bpy.context.object.data.materials.append(leaves)
    else:
        for k in range(rng.randint(2, 4)):
            r = h * rng.uniform(0.15, 0.25)
            bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=3, radius=r, location=(
                x + rng.uniform(-0.1, 0.1) * h, y + rng.uniform(-0.1, 0.1) * h,
                z + h * rng.uniform(0.75, 1.0)))
            crown = bpy.context.object
            displace(crown, f"crown{t}-{k}", 0.4 * r, 0.3 * r)
            bpy.ops.object.shade_smooth()
            crown.data.materials.append(leaves)
    record["trees"].append({"at": [x, y, z], "kind": kind, "height": h})

# ---- the sky: a photograph or Blender's sky (the same draws), and a sun
rng = stream("sky")
photo_sky = rng.random() < 0.5
record["world"] = _blender.photo_world(scene, stream("world"), args["pool"], (0.5, 1.6),
                                       photo=photo_sky)
bpy.ops.object.light_add(type="SUN", location=(0, 0, 100))
sun = bpy.context.object
rng = stream("sun")
sun.data.energy = rng.uniform(3.0, 6.0)
sun.data.angle = rng.uniform(0.005, 0.04)
elevation, azimuth = math.radians(rng.uniform(4, 60)), rng.uniform(0, 2 * math.pi)
sun.rotation_euler = (math.pi / 2 - elevation, 0, azimuth)
warm = 1 - 0.5 * max(0.0, 1 - elevation / math.radians(20))  # a low sun is warmer
sun.data.color = (1.0, 0.75 + 0.25 * warm, 0.5 + 0.5 * warm)
record["sun"] = {"energy": sun.data.energy, "elevation": elevation, "azimuth": azimuth}

# ---- the camera: eye level or a drone, looking roughly along +y into the scene
rng = stream("camera")
drone = rng.random() < 0.4
x, y = rng.uniform(-15, 15), rng.uniform(-60, -30)
above = rng.uniform(12, 60) if drone else rng.uniform(1.5, 1.9)
z = max(ground_at(x, y), water if water is not None else -1e9) + above
pitch = math.radians(rng.uniform(-35, -8) if drone else rng.uniform(-8, 4))
yaw = math.radians(rng.uniform(-35, 35))
bpy.ops.object.camera_add(location=(x, y, z), rotation=(math.pi / 2 + pitch, 0, yaw))
camera = bpy.context.object
camera.data.lens = rng.uniform(18, 85)
camera.data.clip_end = 2000
scene.camera = camera
record["camera"] = {"location": [x, y, z], "drone": drone, "above": above, "pitch": pitch,
                    "yaw": yaw, "lens": camera.data.lens}

# `--generator landscape-night`: the same scene, seed for seed, at night (_blender.by_night)
if args.get("generator") == "landscape-night":
    record["night"] = _blender.by_night(scene, stream("night"), (2.0, 3.5))
_blender.finish(scene, args, record)
