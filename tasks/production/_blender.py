"""What the Blender scene generators share (render.py, render_interior.py, render_studio.py,
render_exterior.py, render_landscape.py, render_archviz.py, render_night.py): reading the
arguments, the seeded streams, the output and engine settings, a photograph as a texture or as
the world, a scene by night, writing the image and its record.
Each generator is a standalone `blender -P` script and imports this file from its own folder:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _blender

Nothing here draws a random number but from a stream it is given, in the order the scripts drew
before, so moving code here changed no render.
"""

import json
import math
import random
import sys

import bpy


def arguments():
    """The JSON after `--` on Blender's command line (run.ts `renderScene` writes it)."""
    return json.loads(sys.argv[sys.argv.index("--") + 1])


def streams(prefix, seed):
    """A function giving the seeded random stream of one aspect of a scene. `prefix` keeps the
    generators' streams apart (render.py's has none, as it had before there were others)."""
    return lambda aspect: random.Random(f"{prefix}{seed}:{aspect}")


def new_scene(args, bounces, clamp_indirect=None, dither=None, cycles=None):
    """An empty scene with the settings every generator uses: `args`' engine, size, samples and
    threads, an 8-bit RGB PNG at `args["out"]`, the seed as Cycles' seed, no denoiser and no
    adaptive sampling (Cycles), ambient occlusion, reflections and soft shadows (EEVEE).
    `bounces`, `clamp_indirect` and `dither` are each generator's own (None: Blender's default),
    and so are `cycles`, more settings of `scene.cycles` by name (Cycles only)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = args.get("engine", "CYCLES")
    scene.render.resolution_x = args["width"]
    scene.render.resolution_y = args["height"]
    scene.render.resolution_percentage = 100
    scene.render.threads_mode = "FIXED"
    scene.render.threads = args.get("threads", 1)
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.color_depth = "8"
    scene.render.filepath = args["out"]
    if dither is not None:
        scene.render.dither_intensity = dither
    if scene.render.engine == "CYCLES":
        scene.cycles.device = "CPU"
        scene.cycles.samples = args["samples"]
        scene.cycles.seed = args["seed"]
        scene.cycles.use_denoising = False
        scene.cycles.use_adaptive_sampling = False
        scene.cycles.max_bounces = bounces
        if clamp_indirect is not None:
            scene.cycles.sample_clamp_indirect = clamp_indirect
        for name, value in (cycles or {}).items():
            setattr(scene.cycles, name, value)
    else:
        scene.eevee.taa_render_samples = args["samples"]
        scene.eevee.use_gtao = True
        scene.eevee.use_ssr = True
        scene.eevee.use_soft_shadows = True
    return scene


def image(path):
    """A photograph as a Blender image (loaded once however many materials use it)."""
    return bpy.data.images.load(path, check_existing=True)


def principled(name):
    """A new material of Blender's default node tree; the material and its Principled BSDF."""
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    return m, m.node_tree.nodes["Principled BSDF"]


def photo_texture(m, photo, scale, turn, blend, coords="Object", projection="BOX",
                  interpolation=None, crop=None, upright=False):
    """The photograph `photo` as an image node of material `m`, tiled at `scale` repeats per
    unit of the object's coordinates (`coords`: a TexCoord output) and turned by `turn` about
    the vertical, projected by `projection` (`blend`: BOX's blend). With `crop` = (size, u, v),
    each tile is a square of side `size` of the photograph (image coordinates 0-1) rather than
    the whole of it, but where depends on the face: box projection reads the photograph at
    (y, z) on faces looking along x, (x, z) along y and (y, x) up or down (Cycles' box mapping;
    the first coordinate as 1 minus it on one side of each axis). With the offset (u, v, 0) walls
    show a square from the photograph's bottom edge (v, not u, across on faces along x). With
    `upright` the offset is (u, u, v): walls show the square at (u, v), or on the mirrored sides
    at (1 - u - size, v), for walls' materials, whose `turn` must be 0 (turned, one column of the
    photograph fills a wall). Its colour is not linked: the caller links it."""
    nodes, links = m.node_tree.nodes, m.node_tree.links
    coord = nodes.new("ShaderNodeTexCoord")
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Scale"].default_value = (scale, scale, scale)
    mapping.inputs["Rotation"].default_value = (0, 0, turn)
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image(photo)
    tex.projection = projection
    tex.projection_blend = blend
    if interpolation:
        tex.interpolation = interpolation
    links.new(coord.outputs[coords], mapping.inputs["Vector"])
    vector = mapping.outputs["Vector"]
    if crop is not None:  # the tile's fraction, scaled into the crop and moved to it
        size, u, v = crop
        fract = nodes.new("ShaderNodeVectorMath")
        fract.operation = "FRACTION"
        into = nodes.new("ShaderNodeVectorMath")
        into.operation = "MULTIPLY_ADD"
        into.inputs[1].default_value = (size, size, size)
        into.inputs[2].default_value = (u, u, v) if upright else (u, v, 0)
        links.new(vector, fract.inputs[0])
        links.new(fract.outputs["Vector"], into.inputs[0])
        vector = into.outputs["Vector"]
    links.new(vector, tex.inputs["Vector"])
    return tex


def bump(m, height, strength, distance=None):
    """A bump of `strength` from the socket `height` into material `m`'s surface normal."""
    nodes, links = m.node_tree.nodes, m.node_tree.links
    node = nodes.new("ShaderNodeBump")
    node.inputs["Strength"].default_value = strength
    if distance is not None:
        node.inputs["Distance"].default_value = distance
    links.new(height, node.inputs["Height"])
    links.new(node.outputs["Normal"], nodes["Principled BSDF"].inputs["Normal"])


def world(scene, strength, photo=None, turn=0.0):
    """The scene's world (light and background) at `strength`: the photograph `photo` as an
    environment, turned by `turn` about the vertical, or without one Blender's Hosek-Wilkie sky."""
    w = bpy.data.worlds.new("world")
    scene.world = w
    w.use_nodes = True
    nodes, links = w.node_tree.nodes, w.node_tree.links
    background = nodes["Background"]
    background.inputs["Strength"].default_value = strength
    if photo is None:
        sky = nodes.new("ShaderNodeTexSky")
        sky.sky_type = "HOSEK_WILKIE"
        links.new(sky.outputs["Color"], background.inputs["Color"])
        return w
    env = nodes.new("ShaderNodeTexEnvironment")
    env.image = image(photo)
    coord = nodes.new("ShaderNodeTexCoord")
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Rotation"].default_value = (0, 0, turn)
    links.new(coord.outputs["Generated"], mapping.inputs["Vector"])
    links.new(mapping.outputs["Vector"], env.inputs["Vector"])
    links.new(env.outputs["Color"], background.inputs["Color"])
    return w


def photo_world(scene, rng, pool, strengths, photo=True):
    """The world lit by a photograph of `pool`: its strength (in the range `strengths`), the
    photograph and its turn drawn from `rng` in that order, whether or not `photo` (False: the
    same draws, Blender's sky instead). Returns the record of what was drawn."""
    strength = rng.uniform(*strengths)
    env_photo, env_turn = rng.choice(pool), rng.uniform(0, 2 * math.pi)
    env_photo = env_photo if photo else None
    world(scene, strength, env_photo, env_turn)
    return {"strength": strength, "photo": env_photo, "turn": env_turn}


def by_night(scene, rng, exposure):
    """The scene built so far, at night (make.ts `--generator scene-night`, `interior-night`,
    `studio-night`, `exterior-night`, `landscape-night`):
    the world (photograph or sky) dimmed to 1-4 % of its strength, every sun turned to moonlight
    (1-4 % of its energy, bluish), the scene's other lamps left as they are, and the exposure graded
    by a number of stops in the range `exposure` (each generator's own: a room lit by its lamps is
    graded down, a moonlit landscape up, as a night grade would). It draws from
    `rng` alone, after every other draw, so the day scene of the same seed is this one by day.
    Returns the record of what it drew."""
    world_f, moon_f, lift = rng.uniform(0.01, 0.04), rng.uniform(0.01, 0.04), rng.uniform(*exposure)
    background = scene.world.node_tree.nodes["Background"].inputs["Strength"]
    background.default_value *= world_f
    for o in scene.objects:
        if o.type == "LIGHT" and o.data.type == "SUN":
            o.data.energy *= moon_f
            o.data.color = (0.55, 0.65, 1.0)
    scene.view_settings.exposure += lift
    return {"world": world_f, "moon": moon_f, "exposure": lift}


def finish(scene, args, record):
    """Renders the still and writes the record of what was drawn beside it (`<out>.json`)."""
    bpy.ops.render.render(write_still=True)
    with open(args["out"] + ".json", "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
