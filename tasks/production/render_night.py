"""A night-time street as a film or a video game frames it (the `night` generator): cars and vans on
a wet road under street lamps, lit windows and shop fronts, headlights, tail lights and their
reflections in puddles, in Cycles.

    blender -b --factory-startup -t 1 -P tasks/production/render_night.py -- '<json>'

The JSON is run.ts's `SceneArgs` (seed, out, width, height, samples, pool, threads, engine).
Every draw comes from its own stream ("night:<seed>:<aspect>"), so one seed on one thread gives
one image; `<out>.json` records what was drawn. Everything is modelled from boxes and cylinders.

What is drawn (y runs along the street, away from the usual camera; x across it):

- the street: a road 6.5-12 m wide (two lanes, parking strips when wider than 9.5 m), traffic on
  the right or on the left, dashed centre and solid edge lines, kerbs 0.1-0.16 m, pavements
  2-4.5 m, paved on 40 m beyond the building line (under the blocks, in alleys, behind a wall);
  asphalt and paving are squares (15-40 % of a side) of pool photographs, desaturated, darkened,
  turned by 0 or 90 degrees and tiled every 1.5-4 m (asphalt) or 0.8-2 m (paving), wet in
  patches: a noise mask (8-45 % of the area) turns a surface dark and mirror-like (roughness
  0.01-0.06 against 0.35-0.7 for asphalt, 0.45-0.75 for paving);
- buildings on both sides (7 in 13) or one (the other: a wall 0.4-1.1 m high): blocks 6-16 m wide
  of 2-6 storeys (2.9-3.6 m each) set back 0-0.6 m, faced with one of 2-3 facade materials per
  side (pool photographs, squares 15-40 %, not turned, tiles 3-8 m, darkened to 35-90 %);
  windows in bays of 2.4-3.6 m, each lit with the side's chance (20-60 %) in one of four warm
  tones (2400-4200 K), the others dark glass; a shop front on the ground floor of 55 % of the
  blocks (2800-5500 K, strength 1-3.5): a square of a pool photograph (30-60 %, tiles 2.5-5 m)
  lit in that colour; half of them with a coloured sign;
- street lamps on one or both pavements every 18-32 m up to 95 m ahead (poles 5-8 m, an arm
  over the road, a head that glows): spot lamps pointing down, 2000-4000 K for the street
  (each lamp within 100 K of it), 400-1400 W;
- 1-5 vehicles (a quarter vans): bevelled bodies in car paint (a palette, metallic 0.2-0.8,
  clear coat), dark glass, tyres; moving ones in the lanes (5-16 m/s) with headlights (5000-6500 K)
  and tail lights, half of them (three at most) casting headlight cones (two spot lamps,
  5000-6000 K), parked ones dark;
- the sky: Blender's own night HDRI (if present) at strength 0.02-0.12, or a dark gradient;
- the camera: a driver's view (40 %: lane, 1.1-1.35 m, 18-35 mm), a pedestrian's (40 %: pavement,
  1.55-1.8 m, 24-50 mm, turned to a vehicle ahead or to the road 15-40 m on) or a chase camera
  (20 %: 1.6-2.6 m, 5-8 m behind the first car and moving with it, 24-40 mm); depth of field in 45 %
  of the frames (f/1.4-5.6, focused on a vehicle or at 5-30 m), motion blur in 60 % (shutter
  0.25-0.6 frame at 24 fps): cars keyframed on frames 0 and 2, frame 1 rendered;
- the look: Filmic, a medium-high or high contrast look, exposure -0.3 to +0.9.

`--generator night-by-day` (make.ts) renders the same streets by day, seed for seed (every draw of
the night is made, then a sun, 2.5-4.5 W/m^2 at 15-60 degrees, and Blender's city or forest HDRI,
strength 0.8-1.5, replace the sky and the lamps; windows are dark glass, lights, signs and shop
fronts unlit in their colours; exposure 0.6 lower), to ask whether a detector misses the night or
the street.

Cycles at `samples`, 4 bounces (glossy 3, diffuse 2), indirect light clamped at 3; glowing
windows, signs, lights and lamp heads are not sampled as lights (only the lamps and headlight
cones are), diffuse rays do not see them and glossy rays see them at 1.5 at most (their
reflections in the wet road are dimmer than they should be), which keeps fireflies, noise and
time down. Glare is left to post.py's `night` chain (denoise and glare, then effects).

Known faults: glass is opaque dark gloss, not transmissive (no interiors seen through it); the
wheels do not turn (their blur is the car's); building blocks are plain boxes (no roofs,
cornices or doors); no mist; the far end of the street is open to the sky; half the frames show
Blender's night HDRI (one photograph of trees under stars) unprocessed as their sky, 20-45 % of
the frame when a side is open; on the ground box projection shows a square of the drawn size
elsewhere in the photograph than the recorded crop (`_blender.photo_texture`); window glass stands 2 cm proud of its frame, and a top frame may
rise above the roof; the pedestrian camera can stand half a metre from a lamp pole. A review of
the first version (before any render was scored) found more, fixed since: facade photographs
turned by 90 degrees smeared one column of the photograph over a wall, the sky showed in the gap
between the paving and set-back blocks, shop fronts were flat white panels, and walls showed the
photograph's bottom strip, not the recorded crop (now the crop, or on the mirrored sides of box
projection the square at 1 - u - size across: `_blender.photo_texture`).
"""

import math
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402

args = _blender.arguments()
# `--generator night-by-day`: the same streets (the same draws, seed for seed) by day: sun and a
# day HDRI, no lamp lit, windows dark glass, lights and signs unlit (a diagnostic: is it the
# night or the street that a detector misses?)
DAY = args.get("generator") == "night-by-day"
stream = _blender.streams("night:", args["seed"])
pool = list(args["pool"])
# facades prefer the pool's townscapes (urban100) where there are any
facade_pool = [p for p in pool if "urban100" in p] or pool
scene = _blender.new_scene(args, bounces=4, clamp_indirect=3, cycles={
    "diffuse_bounces": 2, "glossy_bounces": 3, "transmission_bounces": 2,
    "transparent_max_bounces": 2, "caustics_reflective": False, "caustics_refractive": False,
    "blur_glossy": 1.0})
record = {"args": args, "materials": {}}
FPS = 24
FAR = 160.0  # the street runs from y = -30 to y = FAR


# ---- helpers: colours, materials, meshes

def kelvin(t):
    """Linear RGB of a black body at t kelvin (Tanner Helland's fit, sRGB decoded), max 1."""
    t = t / 100
    r = 255 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    g = 99.47 * math.log(t) - 161.12 if t <= 66 else 288.12 * (t - 60) ** -0.0755
    b = 255 if t >= 66 else (0 if t <= 19 else 138.52 * math.log(t - 10) - 305.04)
    rgb = [(min(max(c, 0), 255) / 255) ** 2.2 for c in (r, g, b)]
    return tuple(c / max(rgb) for c in rgb)


def set_input(node, names, value):
    """Sets the first input of `names` the node has (Blender 3 and 4 name some apart)."""
    for n in names:
        if n in node.inputs:
            node.inputs[n].default_value = value
            return


def not_a_light(m):
    """Cycles does not sample this material's emission as a light (it still glows and reflects)."""
    if hasattr(m.cycles, "sample_as_light"):
        m.cycles.sample_as_light = False
    elif hasattr(m, "emission_sampling"):
        m.emission_sampling = "NONE"


def math_node(nodes, links, op, a, b, c=None):
    """A Math node `op` of a and b (and c): each a number or a socket. Its output."""
    node = nodes.new("ShaderNodeMath")
    node.operation = op
    for i, x in enumerate((a, b, c)):
        if x is None:
            continue
        if isinstance(x, (int, float)):
            node.inputs[i].default_value = x
        else:
            links.new(x, node.inputs[i])
    return node.outputs[0]


def shop_window(m, photo):
    """The colour socket of a photograph's square on material `m`, upright on a wall: `photo` =
    (path, size, u, v, metres), the square's side and place and the tile's width."""
    file, size, u, v, metres = photo
    return _blender.photo_texture(m, file, 1 / metres, 0.0, 0.2, crop=(size, u, v),
                                  upright=True).outputs["Color"]


def glow(name, rgb, strength, patchy=0.0, photo=None):
    """An emissive material (windows, signs, lights): `rgb` at `strength` to the camera, its
    brightness varied by a noise of share `patchy` (curtains and rooms behind a window), its
    colour multiplied by a photograph's crop when `photo` = (path, size, u, v, metres): a shop's
    window and what is behind it (a crop of a pool photograph, tiled every `metres`). Glossy
    rays see it at most at 1.5 and diffuse rays not at all: a bounce finding a small bright glow
    is a firefly at these sample counts (the lamps and headlight cones light the street). By day
    (DAY) a diffuse material of that colour, or of the photograph (not tinted: the tint is the
    light's), unlit."""
    entry = {"rgb": list(rgb), "strength": strength, "patchy": patchy,
             "photo": photo and photo[0]}
    if photo is not None:
        entry.update(crop=list(photo[1:4]), tile=photo[4])
    record["materials"][name] = entry
    if DAY:
        entry["lit"] = False
        m, bsdf = _blender.principled(name)
        bsdf.inputs["Base Color"].default_value = (*rgb, 1)
        bsdf.inputs["Roughness"].default_value = 0.3
        if photo is not None:
            m.node_tree.links.new(shop_window(m, photo), bsdf.inputs["Base Color"])
        return m
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    nodes, links = m.node_tree.nodes, m.node_tree.links
    nodes.remove(nodes["Principled BSDF"])
    emit = nodes.new("ShaderNodeEmission")
    emit.inputs["Color"].default_value = (*rgb, 1)
    if photo is not None:
        tint = nodes.new("ShaderNodeMixRGB")
        tint.blend_type, tint.inputs["Fac"].default_value = "MULTIPLY", 1.0
        tint.inputs["Color2"].default_value = (*rgb, 1)
        links.new(shop_window(m, photo), tint.inputs["Color1"])
        links.new(tint.outputs["Color"], emit.inputs["Color"])
    path = nodes.new("ShaderNodeLightPath")
    weak = min(strength, 1.5)
    seen = math_node(nodes, links, "MAXIMUM", path.outputs["Is Camera Ray"],
                     path.outputs["Is Glossy Ray"])
    value = math_node(nodes, links, "MULTIPLY_ADD", path.outputs["Is Camera Ray"],
                      strength - weak, weak)
    value = math_node(nodes, links, "MULTIPLY", value, seen)
    if patchy > 0:
        coord, noise = nodes.new("ShaderNodeTexCoord"), nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 1.3
        links.new(coord.outputs["Object"], noise.inputs["Vector"])
        vary = math_node(nodes, links, "MULTIPLY_ADD", noise.outputs["Fac"], patchy, 1 - patchy)
        value = math_node(nodes, links, "MULTIPLY", value, vary)
    links.new(value, emit.inputs["Strength"])
    links.new(emit.outputs["Emission"], nodes["Material Output"].inputs["Surface"])
    not_a_light(m)
    return m


def plain(name, rgb, roughness, metallic=0.0, coat=0.0):
    """A Principled material of one colour."""
    m, bsdf = _blender.principled(name)
    bsdf.inputs["Base Color"].default_value = (*rgb, 1)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    set_input(bsdf, ["Clearcoat", "Coat Weight"], coat)
    set_input(bsdf, ["Clearcoat Roughness", "Coat Roughness"], 0.03)
    record["materials"][name] = {"rgb": list(rgb), "roughness": roughness, "metallic": metallic,
                                 "coat": coat, "photo": None}
    return m


def photo_material(name, rng, photos, tile, crop, value, saturation, upright=False):
    """A Principled material whose colour is a crop of a photograph of `photos`, tiled every
    `tile` metres (a range), desaturated and darkened (`value`, `saturation`: ranges); turned by
    0 or 90 degrees on the ground, upright (not turned, the crop shown on walls) on walls."""
    m, bsdf = _blender.principled(name)
    photo = rng.choice(photos)
    size = rng.uniform(*crop)
    u, v = rng.uniform(0, 1 - size), rng.uniform(0, 1 - size)
    metres, turn = rng.uniform(*tile), 0.0 if upright else rng.choice([0, math.pi / 2])
    val, sat = rng.uniform(*value), rng.uniform(*saturation)
    tex = _blender.photo_texture(m, photo, 1 / metres, turn, 0.2, crop=(size, u, v),
                                 upright=upright)
    hsv = m.node_tree.nodes.new("ShaderNodeHueSaturation")
    hsv.inputs["Saturation"].default_value = sat
    hsv.inputs["Value"].default_value = val
    m.node_tree.links.new(tex.outputs["Color"], hsv.inputs["Color"])
    m.node_tree.links.new(hsv.outputs["Color"], bsdf.inputs["Base Color"])
    record["materials"][name] = {"photo": photo, "crop": [size, u, v], "tile": metres,
                                 "turn": turn, "value": val, "saturation": sat}
    return m, bsdf, hsv


def wet(m, bsdf, hsv, rng, share, dry):
    """Puddles on material `m`: where a noise (in metres) passes a threshold leaving `share` of
    the surface wet, the colour darkens to 40 % and the roughness falls to a mirror's."""
    nodes, links = m.node_tree.nodes, m.node_tree.links
    scale, wet_rough = rng.uniform(0.15, 0.45), rng.uniform(0.01, 0.06)
    coord, noise = nodes.new("ShaderNodeTexCoord"), nodes.new("ShaderNodeTexNoise")
    noise.inputs["Scale"].default_value = scale
    noise.inputs["Detail"].default_value = 4
    ramp = nodes.new("ShaderNodeValToRGB")  # noise Fac is about 0.5 +- 0.15: share -> threshold
    edge = 0.5 + 0.16 * (1 - 2 * share)
    ramp.color_ramp.elements[0].position = edge
    ramp.color_ramp.elements[1].position = edge + 0.03
    links.new(coord.outputs["Object"], noise.inputs["Vector"])
    links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
    darken = nodes.new("ShaderNodeMixRGB")
    darken.inputs["Color2"].default_value = (0.4, 0.4, 0.4, 1)
    darken.blend_type = "MULTIPLY"
    links.new(ramp.outputs["Color"], darken.inputs["Fac"])
    links.new(hsv.outputs["Color"], darken.inputs["Color1"])
    links.new(darken.outputs["Color"], bsdf.inputs["Base Color"])
    rough = nodes.new("ShaderNodeMath")
    rough.operation = "MULTIPLY_ADD"
    rough.inputs[1].default_value = wet_rough - dry
    rough.inputs[2].default_value = dry
    links.new(ramp.outputs["Color"], rough.inputs[0])
    links.new(rough.outputs[0], bsdf.inputs["Roughness"])
    record["materials"][m.name].update(wet=share, dry=dry, wet_roughness=wet_rough,
                                       puddle_scale=scale)


class Parts:
    """Boxes and cylinders gathered into one mesh, each part with its material."""

    def __init__(self):
        self.verts, self.faces, self.mats, self.slots = [], [], [], []

    def _slot(self, mat):
        if mat not in self.slots:
            self.slots.append(mat)
        return self.slots.index(mat)

    def box(self, mat, lo, hi):
        """An axis-aligned box from corner `lo` to corner `hi`."""
        n, k = len(self.verts), self._slot(mat)
        self.verts += [(x, y, z) for z in (lo[2], hi[2]) for y in (lo[1], hi[1])
                       for x in (lo[0], hi[0])]
        for f in ((0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2),
                  (1, 3, 7, 5)):
            self.faces.append(tuple(n + i for i in f))
            self.mats.append(k)

    def wheel(self, mat, centre, radius, width, sides=16):
        """A cylinder along x (a wheel) at `centre`."""
        n, k = len(self.verts), self._slot(mat)
        cx, cy, cz = centre
        for x in (cx - width / 2, cx + width / 2):
            self.verts += [(x, cy + radius * math.cos(2 * math.pi * i / sides),
                            cz + radius * math.sin(2 * math.pi * i / sides)) for i in range(sides)]
        for i in range(sides):
            j = (i + 1) % sides
            self.faces.append((n + i, n + j, n + sides + j, n + sides + i))
            self.mats.append(k)
        self.faces += [tuple(n + i for i in reversed(range(sides))),
                       tuple(n + sides + i for i in range(sides))]
        self.mats += [k, k]

    def build(self, name, location=(0, 0, 0), bevel=0.0, parent=None):
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(self.verts, [], self.faces)
        mesh.validate()
        for mat in self.slots:
            mesh.materials.append(mat)
        mesh.polygons.foreach_set("material_index", self.mats)
        obj = bpy.data.objects.new(name, mesh)
        obj.location = location
        obj.parent = parent
        if bevel > 0:
            mod = obj.modifiers.new("bevel", "BEVEL")
            mod.width, mod.segments, mod.limit_method = bevel, 2, "ANGLE"
        bpy.context.collection.objects.link(obj)
        return obj


def spot(name, location, rotation, power, rgb, size, blend, radius, parent=None):
    """A spot lamp (none by day: its arguments are still drawn)."""
    if DAY:
        return None
    light = bpy.data.lights.new(name, "SPOT")
    light.energy, light.color = power, rgb
    light.spot_size, light.spot_blend, light.shadow_soft_size = size, blend, radius
    obj = bpy.data.objects.new(name, light)
    obj.location, obj.rotation_euler, obj.parent = location, rotation, parent
    bpy.context.collection.objects.link(obj)
    return obj


# ---- the street: road, lines, kerbs, pavements

rng = stream("street")
road_w = rng.uniform(6.5, 12)
park = 2.0 if road_w > 9.5 else 0.0
lane_w = (road_w - 2 * park) / 2
keep = rng.choice(["right", "left"])
kerb_h, pave_w = rng.uniform(0.1, 0.16), (rng.uniform(2, 4.5), rng.uniform(2, 4.5))
hw = road_w / 2
record["street"] = {"road_width": road_w, "parking": park, "lane_width": lane_w, "keep": keep,
                    "kerb": kerb_h, "pavements": list(pave_w)}

rng = stream("materials")
asphalt, bsdf, hsv = photo_material("asphalt", rng, pool, (1.5, 4), (0.15, 0.4), (0.12, 0.3),
                                    (0.05, 0.3))
wet(asphalt, bsdf, hsv, rng, rng.uniform(0.15, 0.45), rng.uniform(0.35, 0.7))
paving, bsdf, hsv = photo_material("paving", rng, pool, (0.8, 2), (0.15, 0.4), (0.25, 0.55),
                                   (0.1, 0.5))
wet(paving, bsdf, hsv, rng, rng.uniform(0.08, 0.3), rng.uniform(0.45, 0.75))
kerb_m = plain("kerb", (0.22, 0.22, 0.21), 0.6)
paint_line = plain("line", (0.65, 0.65, 0.6), 0.45)

street = Parts()
street.box(asphalt, (-hw, -30, -0.05), (hw, FAR, 0))
for y in range(-30, int(FAR), 6):  # the dashed centre line and the solid edge lines
    street.box(paint_line, (-0.06, y, 0), (0.06, y + 3, 0.003))
for s in (-1, 1):
    x = s * (hw - park - 0.15)
    street.box(paint_line, (min(x, x + s * 0.1), -30, 0), (max(x, x + s * 0.1), FAR, 0.003))
    k0, k1 = sorted((s * hw, s * (hw + 0.15)))
    street.box(kerb_m, (k0, -30, -0.05), (k1, FAR, kerb_h))
    # the paving runs on 40 m beyond the building line: under set-back blocks, in alleys and
    # behind a low wall the ground is paved, not open to the sky below the horizon
    p0, p1 = sorted((s * (hw + 0.15), s * (hw + 0.15 + pave_w[(s + 1) // 2] + 40)))
    street.box(paving, (p0, -30, -0.05), (p1, FAR, kerb_h))
street.build("street")


def pavement_edge(s):
    """x of the building line on side s (-1 left, +1 right)."""
    return s * (hw + 0.15 + pave_w[(s + 1) // 2])


# ---- buildings: blocks with facades, windows and shop fronts

rng = stream("buildings")
sides = rng.choice([(-1, 1)] * 7 + [(-1,)] * 3 + [(1,)] * 3)
record["buildings"] = []
tones = [rng.uniform(2400, 4200) for _ in range(4)]
lit = [glow(f"window-{i}", kelvin(t), rng.uniform(2, 7), patchy=rng.uniform(0.3, 0.7))
       for i, t in enumerate(tones)]
dark_glass = plain("window-dark", (0.015, 0.017, 0.02), 0.05)
frame_m = plain("frame", (0.05, 0.05, 0.05), 0.5)
signs = {}
block = Parts()  # every block, window and shop front of the street: one mesh
for s in (-1, 1):
    edge = pavement_edge(s)
    if s not in sides:  # an open side: a wall, the dark beyond
        w0, w1 = sorted((edge, edge + s * 0.3))
        wall_h = rng.uniform(0.4, 1.1)
        block.box(kerb_m, (w0, -30, 0), (w1, FAR, wall_h))
        record["buildings"].append({"side": s, "wall": wall_h})
        continue
    facades = [photo_material(f"facade-{s}-{i}", rng, facade_pool, (3, 8), (0.15, 0.4),
                              (0.35, 0.9), (0.4, 1.0), upright=True)[0]
               for i in range(rng.randint(2, 3))]
    p_lit = rng.uniform(0.2, 0.6)
    y = -25.0
    while y < FAR:
        width, storeys = rng.uniform(6, 16), rng.randint(2, 6)
        storey_h, back = rng.uniform(2.9, 3.6), rng.uniform(0, 0.6)
        front = edge + s * back
        height = storeys * storey_h
        facade = rng.choice(facades)
        x0, x1 = sorted((front, front + s * 12))
        block.box(facade, (x0, y, 0), (x1, y + width, height))
        bays = max(1, int(width // rng.uniform(2.4, 3.6)))
        win_w, win_h = rng.uniform(1.0, 1.6), rng.uniform(1.3, 1.9)
        shop = rng.random() < 0.55
        n_lit = 0
        for f in range(1 if shop else 0, storeys):
            for b in range(bays):
                cy = y + (b + 0.5) * width / bays
                z = f * storey_h + rng.uniform(0.85, 1.0)
                on = rng.random() < p_lit
                mat = rng.choice(lit) if on else dark_glass
                mat = dark_glass if DAY else mat  # by day no window is lit (the draw is kept)
                n_lit += on
                a0, a1 = sorted((front, front - s * 0.04))
                block.box(frame_m, (a0, cy - win_w / 2 - 0.08, z - 0.08),
                          (a1, cy + win_w / 2 + 0.08, z + win_h + 0.08))
                a0, a1 = sorted((front, front - s * 0.06))
                block.box(mat, (a0, cy - win_w / 2, z), (a1, cy + win_w / 2, z + win_h))
        entry = {"side": s, "y": y, "width": width, "storeys": storeys, "storey": storey_h,
                 "setback": back, "facade": facade.name, "bays": bays, "lit": n_lit,
                 "lit_chance": p_lit}
        if shop:
            t, strength = rng.uniform(2800, 5500), rng.uniform(1, 3.5)
            name = f"shop-{len(record['buildings'])}"
            size = rng.uniform(0.3, 0.6)  # the window: a crop of a pool photograph, lit
            inside = (rng.choice(facade_pool), size, rng.uniform(0, 1 - size),
                      rng.uniform(0, 1 - size), rng.uniform(2.5, 5))
            a0, a1 = sorted((front, front - s * 0.05))
            block.box(glow(name, kelvin(t), strength, patchy=0.5, photo=inside),
                      (a0, y + 0.8, 0.05), (a1, y + width - 0.8, min(2.8, storey_h - 0.4)))
            entry["shop"] = {"kelvin": t, "strength": strength}
            if rng.random() < 0.5:
                colour = rng.choice(["red", "blue", "cyan", "magenta", "green", "amber"])
                if colour not in signs:
                    rgb = {"red": (1, 0.05, 0.05), "blue": (0.1, 0.2, 1), "cyan": (0.1, 0.9, 1),
                           "magenta": (1, 0.1, 0.8), "green": (0.15, 1, 0.2),
                           "amber": (1, 0.5, 0.05)}[colour]
                    signs[colour] = glow(f"sign-{colour}", rgb, rng.uniform(4, 12))
                a0, a1 = sorted((front, front - s * 0.15))
                sign_z = min(2.8, storey_h - 0.4) + 0.1
                block.box(signs[colour], (a0, y + 1.2, sign_z), (a1, y + width - 1.2,
                                                                 sign_z + rng.uniform(0.4, 0.7)))
                entry["shop"]["sign"] = colour
        record["buildings"].append(entry)
        y += width + rng.choice([0, 0, 0, rng.uniform(1, 4)])  # now and then an alley
block.build("buildings")


# ---- street lamps

rng = stream("lamps")
lamp_sides = rng.choice([(-1, 1), (-1, 1), (-1,), (1,)])
spacing, kelvins = rng.uniform(18, 32), rng.uniform(2000, 4000)
pole_h, power = rng.uniform(5, 8), rng.uniform(400, 1400)
metal = plain("lamp-metal", (0.08, 0.085, 0.09), 0.4, metallic=1.0)
head_glow = glow("lamp-head", kelvin(kelvins), rng.uniform(20, 60))
poles = Parts()
record["lamps"] = []
for s in lamp_sides:
    y = rng.uniform(-15, 5) + (spacing / 2 if s == 1 and len(lamp_sides) == 2 else 0)
    while y < 95:  # farther lamps light little and cost samples
        x = s * (hw + 0.6)
        reach = rng.uniform(0.8, 2.0)
        t = kelvins + rng.uniform(-100, 100)
        poles.box(metal, (x - 0.07, y - 0.07, 0), (x + 0.07, y + 0.07, pole_h))
        hx = x - s * reach
        a0, a1 = sorted((x, hx))
        poles.box(metal, (a0, y - 0.05, pole_h - 0.1), (a1, y + 0.05, pole_h))
        poles.box(metal, (hx - 0.35, y - 0.17, pole_h - 0.2), (hx + 0.35, y + 0.17, pole_h))
        poles.box(head_glow, (hx - 0.3, y - 0.13, pole_h - 0.24),
                  (hx + 0.3, y + 0.13, pole_h - 0.2))
        spot(f"lamp-{len(record['lamps'])}", (hx, y, pole_h - 0.3), (0, 0, 0), power,
             kelvin(t), rng.uniform(2.2, 2.6), rng.uniform(0.3, 0.7), 0.25)
        record["lamps"].append({"side": s, "y": y, "height": pole_h, "reach": reach, "kelvin": t,
                                "power": power})
        y += spacing
poles.build("lamps")


# ---- the camera's kind first (a chase camera needs a car ahead of it in the near lane)

cam_rng = stream("camera")
view = cam_rng.choice(["driver", "driver", "pedestrian", "pedestrian", "chase"])
near = 1 if keep == "right" else -1  # the side of the lane going away from the camera


# ---- vehicles

rng = stream("cars")
n_cars = rng.randint(1, 5)
PAINTS = {"black": (0.01, 0.01, 0.012), "white": (0.7, 0.7, 0.7), "silver": (0.45, 0.46, 0.48),
          "grey": (0.12, 0.12, 0.13), "blue": (0.02, 0.05, 0.2), "red": (0.35, 0.02, 0.02),
          "green": (0.02, 0.1, 0.05), "beige": (0.4, 0.33, 0.22)}
glass = plain("car-glass", (0.01, 0.012, 0.015), 0.03, coat=1.0)
tyre = plain("tyre", (0.02, 0.02, 0.02), 0.8)
head_on = glow("headlight", kelvin(rng.uniform(5000, 6500)), rng.uniform(40, 90))
tail_on = glow("taillight", (1, 0.02, 0.01), rng.uniform(8, 20))
lamp_off = plain("light-off", (0.3, 0.3, 0.3), 0.1)
motion = cam_rng.random() < 0.6
shutter = cam_rng.uniform(0.25, 0.6)
record["cars"], taken, cones = [], [], 0
for i in range(n_cars):
    van = rng.random() < 0.25
    if i == 0 and view == "chase":
        lane = "near"
    else:
        lanes = ["near", "near", "oncoming", "oncoming"] + (["parked"] * 2 if park else [])
        lane = rng.choice(lanes)
    length = rng.uniform(4.8, 5.6) if van else rng.uniform(3.9, 4.8)
    width = rng.uniform(1.9, 2.05) if van else rng.uniform(1.7, 1.9)
    y = rng.uniform(6, 10) if (i == 0 and view == "chase") else rng.uniform(4, 55)
    paint_name = rng.choice(list(PAINTS))
    metallic, rough = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.4)
    speed = 0.0 if lane == "parked" else rng.uniform(5, 16)
    cast = lane != "parked" and rng.random() < 0.5
    side = near if lane == "near" else -near
    x = side * (lane_w / 2 if lane != "parked" else hw - park / 2)
    if any(t[0] == x and abs(t[1] - y) < 7 for t in taken):
        continue  # a car already stands there
    taken.append((x, y))
    heading = 1 if (lane == "near" or (lane == "parked" and side == near)) else -1
    paint = plain(f"paint-{i}", PAINTS[paint_name], rough, metallic, coat=1.0)
    car = bpy.data.objects.new(f"car-{i}", None)
    car.location = (x, y, 0)
    car.rotation_euler = (0, 0, 0 if heading == 1 else math.pi)
    bpy.context.collection.objects.link(car)
    body, glazing, lights = Parts(), Parts(), Parts()
    L, W, moving = length, width, lane != "parked"
    if van:
        body.box(paint, (-W / 2, -L / 2, 0.35), (W / 2, L / 2 - 0.9, 2.3))
        body.box(paint, (-W / 2, L / 2 - 0.9, 0.35), (W / 2, L / 2, 1.15))
        glazing.box(glass, (-W / 2 + 0.08, L / 2 - 0.95, 1.15), (W / 2 - 0.08, L / 2 - 0.35, 2.1))
        glazing.box(glass, (-W / 2 - 0.01, L / 2 - 1.9, 1.3), (W / 2 + 0.01, L / 2 - 0.9, 2.0))
        glazing.box(glass, (-W / 2 + 0.15, -L / 2 - 0.01, 1.45), (W / 2 - 0.15, -L / 2 + 0.2, 2.1))
    else:
        body.box(paint, (-W / 2, -L / 2, 0.3), (W / 2, L / 2, 0.95))
        glazing.box(glass, (-W / 2 + 0.1, -L * 0.32, 0.95), (W / 2 - 0.1, L * 0.18, 1.38))
        body.box(paint, (-W / 2 + 0.14, -L * 0.28, 1.38), (W / 2 - 0.14, L * 0.12, 1.45))
    for wx in (-1, 1):
        for wy in (-1, 1):
            body.wheel(tyre, (wx * (W / 2 - 0.12), wy * (L / 2 - 0.85), 0.33), 0.33, 0.24)
        lz = 0.75 if not van else 0.85
        lights.box(head_on if moving else lamp_off, (wx * (W / 2 - 0.2) - 0.17, L / 2 - 0.02,
                   lz), (wx * (W / 2 - 0.2) + 0.17, L / 2 + 0.03, lz + 0.1))
        lights.box(tail_on if moving else lamp_off, (wx * (W / 2 - 0.15) - 0.15, -L / 2 - 0.03,
                   lz + 0.05), (wx * (W / 2 - 0.15) + 0.15, -L / 2 + 0.02, lz + 0.18))
    body.build(f"car-{i}-body", bevel=rng.uniform(0.06, 0.12), parent=car)
    glazing.build(f"car-{i}-glass", bevel=0.1, parent=car)
    lights.build(f"car-{i}-lights", parent=car)
    cast = cast and cones < 6
    if cast:
        cones += 2
        t = rng.uniform(5000, 6000)
        for wx in (-1, 1):
            spot(f"car-{i}-cone-{wx}", (wx * (W / 2 - 0.2), L / 2 + 0.1, lz + 0.05),
                 (math.radians(86), 0, 0), rng.uniform(100, 300), kelvin(t),
                 rng.uniform(0.6, 0.9), 0.4, 0.05, parent=car)
    step = heading * speed / FPS
    if moving and motion:  # frames 0 and 2 either side of the rendered frame 1
        for frame, dy in ((0, -step), (2, step)):
            car.location = (x, y + dy, 0)
            car.keyframe_insert("location", frame=frame)
        car.location = (x, y, 0)
    record["cars"].append({"kind": "van" if van else "car", "lane": lane, "x": x, "y": y,
                           "heading": heading, "length": L, "width": W, "paint": paint_name,
                           "metallic": metallic, "roughness": rough, "speed": speed,
                           "cones": cast})


# ---- the camera

rng = cam_rng
cam_data = bpy.data.cameras.new("camera")
cam = bpy.data.objects.new("camera", cam_data)
bpy.context.collection.objects.link(cam)
scene.camera = cam
cam_data.sensor_width = 36
lead = record["cars"][0] if view == "chase" else None
if view == "driver":
    lens = rng.uniform(18, 35)
    loc = (near * lane_w / 2 + rng.uniform(-0.3, 0.3), rng.uniform(-2, 0), rng.uniform(1.1, 1.35))
    yaw, pitch = rng.uniform(-4, 4), rng.uniform(-3, 2)
elif view == "pedestrian":
    lens = rng.uniform(24, 50)
    s = rng.choice([-1, 1])
    loc = (s * (hw + 0.15 + rng.uniform(1.0, pave_w[(s + 1) // 2] - 0.4)), rng.uniform(-4, 2),
           rng.uniform(1.55, 1.8))
    # turned to a vehicle ahead, or to a point of the road 15-40 m ahead
    ahead = [c for c in record["cars"] if c["y"] > loc[1] + 5]
    if ahead and rng.random() < 0.7:
        target = rng.choice(ahead)
        tx, ty = target["x"], target["y"]
    else:
        tx, ty = rng.uniform(-hw, hw), loc[1] + rng.uniform(15, 40)
    turn = math.degrees(math.atan2(tx - loc[0], ty - loc[1]))
    yaw, pitch = -turn + rng.uniform(-5, 5), rng.uniform(-4, 5)
else:
    lens = rng.uniform(24, 40)
    loc = (lead["x"] + rng.uniform(-0.6, 0.6), lead["y"] - lead["length"] / 2 - rng.uniform(5, 8),
           rng.uniform(1.6, 2.6))
    yaw, pitch = rng.uniform(-5, 5), -rng.uniform(5, 12)
cam_data.lens = lens
cam.location = loc
cam.rotation_euler = (math.radians(90 + pitch), 0, math.radians(yaw))
if view == "chase" and motion:  # the camera follows its car: the car sharp, the street blurred
    step = lead["speed"] / FPS
    for frame, dy in ((0, -step), (2, step)):
        cam.location = (loc[0], loc[1] + dy, loc[2])
        cam.keyframe_insert("location", frame=frame)
    cam.location = loc
dof = rng.random() < 0.45
record["camera"] = {"view": view, "lens": lens, "location": list(loc), "yaw": yaw, "pitch": pitch,
                    "rotation": list(cam.rotation_euler), "dof": dof}
if dof:
    cam_data.dof.use_dof = True
    ahead = [c for c in record["cars"] if c["y"] > loc[1] + 3]
    if ahead and rng.random() < 0.7:
        target = rng.choice(ahead)
        focus = math.dist((target["x"], target["y"]), loc[:2])
    else:
        focus = rng.uniform(5, 30)
    cam_data.dof.focus_distance = focus
    cam_data.dof.aperture_fstop = rng.uniform(1.4, 5.6)
    record["camera"].update(focus=focus, fstop=cam_data.dof.aperture_fstop)
scene.render.fps = FPS
scene.render.use_motion_blur = motion
scene.render.motion_blur_shutter = shutter
for obj in bpy.data.objects:  # keyframed motion is linear between frames 0 and 2
    if obj.animation_data and obj.animation_data.action:
        for fc in obj.animation_data.action.fcurves:
            for k in fc.keyframe_points:
                k.interpolation = "LINEAR"
scene.frame_start = scene.frame_end = 1
scene.frame_set(1)
record["motion_blur"] = {"on": motion, "shutter": shutter, "fps": FPS}


# ---- the sky and the look

rng = stream("world")
hdri = os.path.join("/usr/share/blender/datafiles/studiolights/world", "night.exr")
kind = rng.choice(["hdri", "gradient"])
strength, turn = rng.uniform(0.02, 0.12), rng.uniform(0, 2 * math.pi)
if kind == "hdri" and not os.path.exists(hdri):
    kind = "gradient"
if kind == "hdri":
    _blender.world(scene, strength, hdri, turn)
    record["world"] = {"kind": kind, "file": hdri, "strength": strength, "turn": turn,
                       "photo": None}
else:
    w = _blender.world(scene, 1.0)
    nodes, links = w.node_tree.nodes, w.node_tree.links
    nodes.remove([n for n in nodes if n.bl_idname == "ShaderNodeTexSky"][0])
    coord, xyz = nodes.new("ShaderNodeTexCoord"), nodes.new("ShaderNodeSeparateXYZ")
    ramp = nodes.new("ShaderNodeValToRGB")
    horizon = (rng.uniform(0.006, 0.02), rng.uniform(0.008, 0.02), rng.uniform(0.015, 0.04))
    ramp.color_ramp.elements[0].color = (*horizon, 1)
    ramp.color_ramp.elements[1].position = 0.5
    ramp.color_ramp.elements[1].color = (0.001, 0.0012, 0.002, 1)
    links.new(coord.outputs["Generated"], xyz.inputs["Vector"])
    links.new(xyz.outputs["Z"], ramp.inputs["Fac"])
    links.new(ramp.outputs["Color"], nodes["Background"].inputs["Color"])
    record["world"] = {"kind": kind, "horizon": list(horizon), "photo": None}
scene.view_settings.view_transform = "Filmic"
look = rng.choice(["Medium High Contrast", "High Contrast"])
scene.view_settings.look = f"Filmic - {look}" if bpy.app.version >= (4, 0) else look
scene.view_settings.exposure = rng.uniform(-0.3, 0.9)
record["look"] = {"look": look, "exposure": scene.view_settings.exposure}

if DAY:  # every draw of the night is made: the day replaces its sky, lights and exposure
    rng = stream("day")
    file = os.path.join(os.path.dirname(hdri), rng.choice(["city.exr", "forest.exr"]))
    sky, sky_turn = rng.uniform(0.8, 1.5), rng.uniform(0, 2 * math.pi)
    _blender.world(scene, sky, file, sky_turn)
    elevation, azimuth = rng.uniform(15, 60), rng.uniform(0, 360)
    sun_data = bpy.data.lights.new("sun", "SUN")
    sun_data.energy, sun_data.angle = rng.uniform(2.5, 4.5), math.radians(rng.uniform(0.5, 2))
    sun_data.color = kelvin(rng.uniform(5200, 6200))
    sun = bpy.data.objects.new("sun", sun_data)
    sun.rotation_euler = (math.radians(90 - elevation), 0, math.radians(azimuth))
    bpy.context.collection.objects.link(sun)
    scene.view_settings.exposure -= 0.6
    record["world"] = {"kind": "day", "file": file, "strength": sky, "turn": sky_turn,
                       "photo": None}
    record["sun"] = {"elevation": elevation, "azimuth": azimuth, "energy": sun_data.energy}
    record["look"]["exposure"] = scene.view_settings.exposure

_blender.finish(scene, args, record)
