"""A production-like scene rendered by Blender (issue 27), from a seed and photographs.

One image per call (tasks/production/make.ts drives it; run.ts `renderScene`):

    blender -b --factory-startup -noaudio -t 1 --python-exit-code 1 \
        -P tasks/production/render.py -- '<json>'

The JSON names: seed, out (a PNG path), width, height, samples, engine (CYCLES or
BLENDER_EEVEE), threads, pool (photographs the environment and the textures are drawn from), and
the options of the steps an ablation turns off: "texture" (false: plain colours instead of the
photographs), "environment" (false: a procedural sky instead of the photograph). Beside the image,
`<out>.json` records the arguments and everything drawn (photographs, materials, objects, sun,
camera, look).

The scene: a ground plane and three to six objects (cube, sphere, cylinder, cone, torus, Suzanne)
with photographic textures (box-projected, bump from the same photograph, random roughness), a
photograph as the environment (light and background, turned at random), a sun at a random angle, a
camera at a random height and focal length looking at the middle, Filmic colour with a random look.
No denoiser (Debian's Blender has no OpenImageDenoise: post.py's non-local means stands in for it)
and no compositor: the lens and film effects are post.py's. Each aspect (look, world, each
material, layout, sun, camera) draws from its own seeded stream and draws the same values whatever
the ablation flags say, so an ablation changes only its step.

Repeatability, measured on Debian's Blender 3.4.1: the same seed always gives the same scene (the
record is identical). The pixels are identical in every repeat at 128x96 with 4 samples (the
test's size), but not always at larger sizes: at 320x240 with 16 samples two runs differed in
40-113 of 76,800 pixels (by 1-26 levels in 8 bits) whenever image textures were on, with `-t 1`,
address randomisation off (setarch -R), pinned to one core (taskset) and without dither. Cycles'
float output (EXR) differs between runs even without image textures (about 1,400 pixels by at most
2e-5 with plain colours and a procedural sky; `use_auto_tile` off changes nothing), so the render
itself is not bit-repeatable in this build; textures only make it visible in 8 bits.
"""

import math
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402  (the generators' shared settings, beside this file)

args = _blender.arguments()
stream = _blender.streams("", args["seed"])  # the seeded random stream of one aspect of the scene

use_texture = args.get("texture", True)
use_env = args.get("environment", True)
# what was drawn, written next to the image (provenance, and the render-twice test)
record = {"args": args, "materials": {}, "objects": []}

scene = _blender.new_scene(args, bounces=6)
scene.view_settings.view_transform = "Filmic"
scene.view_settings.look = stream("look").choice(["None", "Medium Contrast", "Medium High Contrast"])


def material(name, scale):
    """A principled material: a box-projected photograph (with bump), or a plain colour;
    `scale` is the range of the photograph's repeats per metre."""
    rng = stream(f"material:{name}")
    roughness, specular = rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.6)
    colour = (rng.uniform(0.05, 0.8), rng.uniform(0.05, 0.8), rng.uniform(0.05, 0.8), 1.0)
    s, turn = rng.uniform(*scale), rng.uniform(0, math.pi)
    photo, strength = rng.choice(args["pool"]), rng.uniform(0.05, 0.4)
    record["materials"][name] = {"photo": photo if use_texture else None, "scale": s,
                                 "roughness": roughness, "specular": specular}
    m, bsdf = _blender.principled(name)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Specular"].default_value = specular
    if not use_texture:
        bsdf.inputs["Base Color"].default_value = colour
        return m
    tex = _blender.photo_texture(m, photo, s, turn, 0.2)
    m.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    _blender.bump(m, tex.outputs["Color"], strength)
    return m


# the world: the photograph as environment (light and background), or a sky
record["world"] = _blender.photo_world(scene, stream("world"), args["pool"], (0.6, 1.6), use_env)

# the ground and the objects
bpy.ops.mesh.primitive_plane_add(size=40, location=(0, 0, 0))
ground = bpy.context.object
ground.data.materials.append(material("ground", (0.03, 0.12)))
makers = [
    lambda loc: bpy.ops.mesh.primitive_cube_add(size=1.6, location=loc),
    lambda loc: bpy.ops.mesh.primitive_uv_sphere_add(radius=0.9, location=loc, segments=48,
                                                     ring_count=24),
    lambda loc: bpy.ops.mesh.primitive_cylinder_add(radius=0.7, depth=1.8, location=loc,
                                                    vertices=48),
    lambda loc: bpy.ops.mesh.primitive_cone_add(radius1=0.9, depth=1.8, location=loc,
                                                vertices=48),
    lambda loc: bpy.ops.mesh.primitive_torus_add(location=loc),
    lambda loc: bpy.ops.mesh.primitive_monkey_add(size=1.6, location=loc),
]
rng = stream("layout")
for i in range(rng.randint(3, 6)):
    r, a = rng.uniform(0, 3.2), rng.uniform(0, 2 * math.pi)
    rng.choice(makers)((r * math.cos(a), r * math.sin(a), 0.9))
    obj = bpy.context.object
    obj.rotation_euler = (rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(0, math.pi))
    k = rng.uniform(0.6, 1.4)
    obj.scale = (k, k, k)
    record["objects"].append({"kind": obj.data.name, "location": list(obj.location),
                              "rotation": list(obj.rotation_euler), "scale": k})
    bpy.ops.object.shade_smooth()
    obj.data.materials.append(material(f"object{i}", (0.3, 1.2)))

# a sun
rng = stream("sun")
bpy.ops.object.light_add(type="SUN", location=(0, 0, 10))
sun = bpy.context.object
sun.data.energy = rng.uniform(1.0, 4.0)
sun.data.angle = rng.uniform(0.01, 0.1)
sun.rotation_euler = (rng.uniform(0.2, 1.1), 0, rng.uniform(0, 2 * math.pi))

# the camera, looking at the middle
rng = stream("camera")
d, a = rng.uniform(7, 12), rng.uniform(0, 2 * math.pi)
bpy.ops.object.camera_add(location=(d * math.cos(a), d * math.sin(a), rng.uniform(1.2, 4.5)))
camera = bpy.context.object
camera.data.lens = rng.uniform(28, 70)
target = bpy.data.objects.new("target", None)
scene.collection.objects.link(target)
target.location = (rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 0.7)
track = camera.constraints.new(type="TRACK_TO")
track.target = target
track.track_axis = "TRACK_NEGATIVE_Z"
track.up_axis = "UP_Y"
scene.camera = camera

record["sun"] = {"energy": sun.data.energy, "angle": sun.data.angle,
                 "rotation": list(sun.rotation_euler)}
record["camera"] = {"location": list(camera.location), "lens": camera.data.lens,
                    "target": list(target.location)}
record["look"] = scene.view_settings.look

# `--generator scene-night`: the same scene, seed for seed, at night (_blender.by_night)
if args.get("generator") == "scene-night":
    record["night"] = _blender.by_night(scene, stream("night"), (2.0, 3.5))
_blender.finish(scene, args, record)
