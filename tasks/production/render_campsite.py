"""A campsite in a forest clearing at night (the `campsite` generator): tents round a campfire,
camping chairs, lanterns and a pile of firewood, ringed by trees under a dim night sky, lit by
the fire and the lanterns, in Cycles.

    blender -b --factory-startup -noaudio -t 1 --python-exit-code 1 \
        -P tasks/production/render_campsite.py -- '<json>'

The JSON is run.ts's `SceneArgs` (seed, out, width, height, samples, pool, threads, engine).
Every draw comes from its own stream ("campsite:<seed>:<aspect>"), so one seed on one thread
gives one image; `<out>.json` records what was drawn. The fire stands at the origin; z is up.

What is drawn:

- the ground: a 160 m grid, flat within the clearing (radius 7-13 m) and rising beyond it in
  gentle swells (0.2-0.9 m, slope 2-8 %); two crops (15-40 %, from the lower left of the
  photograph) of pool photographs of nature (sunhays80's forests, fields, marshes... where the
  pool has them), tiled every 3-7 and 2.5-6 m, one tinted as bare earth, one as grass or needle
  litter, mixed by a 2-6 m noise, with bump; ash and trampled earth darken a disc of 1.2-2.5 m
  round the fire;
- the fire: 8-14 stones (displaced icospheres, a pool photograph as rock) in a ring of
  0.45-0.7 m, 3-7 logs laid as a tipi or crossed (bark photographs, charred and glowing in
  patches, casting no shadow of the fire's lamps), a bed of embers (Blackbody 900-1400 K, a
  noise mask), 5-10 flame tongues (thin ragged cones, Blackbody 1900-2300 K at the base to
  1200-1500 K at the tip, torn into transparency by a noise stretched upwards, seen by the
  camera only), lit by 3-4 point lamps among the flames sharing 150-800 W (1700-2300 K, radius
  0.08-0.2 m, 0.35-0.75 m high; the lowest, at 0.25 m, 400 K redder);
- 1-3 tents 3.2-6.5 m from the fire, their doors to it: domes (half ellipsoids) or ridge tents
  (triangular prisms), in one of eight fabric colours, a crop of a photograph overlaid (20-40 %)
  and a darker door panel, translucent (25-45 %); each lit from inside (a point lamp of
  8-40 W, 2400-4500 K) with probability 0.4; four guy ropes each;
- 1-4 camping chairs 1.5-2.4 m from the fire, turned to it (give or take 25 degrees): tube frames,
  fabric seat and back in a colour of their own; a cool box (one in two) beside one of them;
- 0-3 lanterns (a base, a glowing glass or diffuser, a cap and handle; kerosene 1900-2400 K or LED
  2700-6000 K, 4-25 W point lamps), by a tent door, a chair or on the cool box;
- a pile of 4-9 split logs (one in two) at the edge of the clearing;
- 100-190 trees in two rings (the clearing's edge to 32 m, then to 60 m), instances of three to
  five prototypes: conifers (a trunk and 4-6 stacked ragged cones) and, in some seeds, broadleaves
  (a trunk and 3-6 ragged spheres), bark and foliage from pool photographs, darkened;
- the sky: Blender's own night HDRI (a photograph of trees under stars) at 0.008-0.04, or a dark
  gradient with stars (a Voronoi field); a moon (a sun lamp, bluish, 0.004-0.03 W/m^2) in two
  of three frames;
- the camera: a camper's eye (1.0-1.2 or 1.5-1.75 m high, seated or standing) 3.2-8.5 m from
  the fire (within the clearing) in the widest gap between the tents, 2 m from the chairs, the
  cool box and the firewood, aimed at the fire or between it and a tent (give or take a
  few degrees), 20-50 mm; depth of field in 40 % of the frames (f/1.8-4, focused on the fire);
- the look: Filmic, medium to high contrast, exposure -0.2 to +1.2.

Cycles at `samples`, 3 bounces (diffuse 1, glossy 1, transparent 6), indirect light clamped at 4,
the flames, embers and glowing glass not sampled as lights and seen by camera rays only (their
lamps light the scene): small bright glows met by bounces were fireflies at these sample counts.
The fire is 3-4 lamps, not one, because Blender 3.4's Cycles picks a lamp per sample by count
(no light tree): the fire then gets most samples even with lanterns and lit tents about. The
finishing is post.py's `campsite` chain (guided filter, then glare, vignette, grain and lens
distortion each by a draw, then PIL's camera).

Known faults: the flames are surfaces, not a volume, and do not move (no motion blur, no smoke);
the logs cast no shadow of the fire (their shadows were a speckle at 16-32 samples);
photographic tiles can show as faint bands on the ground and squares on the tents;
the trees are cones and blobs (no branches or needles; at night mostly silhouettes); tents have
no seams, zips or pegs, the ropes are straight; chairs are tubes and slabs; no grass blades; the
ground is a texture, no fallen branches; nothing casts light on the canopy but the fire.
"""

import math
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402

args = _blender.arguments()
stream = _blender.streams("campsite:", args["seed"])
pool = list(args["pool"])
scene = _blender.new_scene(args, bounces=3, clamp_indirect=4, cycles={
    "diffuse_bounces": 1, "glossy_bounces": 1, "transmission_bounces": 1,
    "transparent_max_bounces": 6, "caustics_reflective": False, "caustics_refractive": False,
    "blur_glossy": 1.0})
record = {"args": args, "materials": {}}
TAU = 2 * math.pi


# ---- colours and materials

def kelvin(t):
    """Linear RGB of a black body at t kelvin (Tanner Helland's fit, sRGB decoded), max 1."""
    t = t / 100
    r = 255 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    g = 99.47 * math.log(t) - 161.12 if t <= 66 else 288.12 * (t - 60) ** -0.0755
    b = 255 if t >= 66 else (0 if t <= 19 else 138.52 * math.log(t - 10) - 305.04)
    rgb = [(min(max(c, 0), 255) / 255) ** 2.2 for c in (r, g, b)]
    return tuple(max(c / max(rgb), 0.0) for c in rgb)


def node(m, kind, **inputs):
    """A new node of material (or world) `m`, its inputs set by name (numbers or sockets)."""
    n = m.node_tree.nodes.new(kind)
    for name, value in inputs.items():
        key = name.replace("_", " ")
        if hasattr(value, "is_output"):
            m.node_tree.links.new(value, n.inputs[key])
        else:
            n.inputs[key].default_value = value
    return n


def maths(m, op, a, b=None, clamp=False):
    """A Math node `op` of a and b (numbers or sockets); its output."""
    n = m.node_tree.nodes.new("ShaderNodeMath")
    n.operation, n.use_clamp = op, clamp
    for i, x in enumerate((a, b)):
        if x is None:
            continue
        if isinstance(x, (int, float)):
            n.inputs[i].default_value = x
        else:
            m.node_tree.links.new(x, n.inputs[i])
    return n.outputs[0]


def mix(m, fac, a, b, blend="MIX"):
    """A MixRGB node: `a` and `b` (colours or sockets) by `fac` (number or socket); its output."""
    n = m.node_tree.nodes.new("ShaderNodeMixRGB")
    n.blend_type = blend
    for i, x in enumerate((fac, a, b)):
        if hasattr(x, "is_output"):
            m.node_tree.links.new(x, n.inputs[i])
        elif i == 0:
            n.inputs[0].default_value = x
        else:
            n.inputs[i].default_value = (*x[:3], 1)
    return n.outputs["Color"]


def quiet(m):
    """Cycles does not sample this material's emission as a light (it still glows and reflects)."""
    if hasattr(m.cycles, "sample_as_light"):
        m.cycles.sample_as_light = False
    elif hasattr(m, "emission_sampling"):
        m.emission_sampling = "NONE"


def seen(m, strength):
    """`strength` (a socket) for camera rays, nothing for the others: a small bright glow met by
    a bounce is a firefly at these sample counts (the lamps beside it light the scene)."""
    path = node(m, "ShaderNodeLightPath")
    return maths(m, "MULTIPLY", strength, path.outputs["Is Camera Ray"])


# the pool's photographs of nature, preferred for the ground, rock, bark and leaves (the names
# of sunhays80's scene classes; a pool without any gives the whole pool)
NATURE = ("forest", "campsite", "field", "marsh", "pasture", "hayfield", "swamp", "yard",
          "creek", "valley", "wheat", "vineyard", "badlands", "desert")
ROCKY = ("cliff", "canyon", "badlands", "butte", "mountain", "volcano", "ruin", "cavern", "creek")
WOODS = ("forest", "campsite", "swamp", "marsh", "creek", "yard")


def prefer(words):
    """The pool's photographs whose names hold one of `words`, or the whole pool."""
    return [p for p in pool if any(w in os.path.basename(p) for w in words)] or pool


def crop(rng, photos=None, low=False):
    """A photograph of the pool and a square of it (15-40 % of a side): (path, size, u, v); with
    `low` from its lower half, where a photograph's ground is (and from its left half: box
    projection reads the ground's x and y as either of the image's axes)."""
    photo = rng.choice(photos or pool)
    size = rng.uniform(0.15, 0.4)
    top = 0.55 if low else 1
    return photo, size, rng.uniform(0, top - size), rng.uniform(0, top - size)


def photo(name, rng, tint, tile, value, saturation, roughness, bump=(0.1, 0.4), turn=True,
          photos=None, low=False):
    """A Principled material coloured by a crop of a pool photograph tiled every `tile` metres
    (a range), desaturated (`saturation`), darkened (`value`) and multiplied by `tint` (RGB), with
    a bump from the same crop. Returns the material, its BSDF and its colour socket."""
    m, bsdf = _blender.principled(name)
    file, size, u, v = crop(rng, photos, low)
    metres, sat, val = rng.uniform(*tile), rng.uniform(*saturation), rng.uniform(*value)
    angle = rng.choice([0.0, math.pi / 2]) if turn else 0.0
    tex = _blender.photo_texture(m, file, 1 / metres, angle, 0.3, crop=(size, u, v),
                                 upright=not turn)
    hsv = node(m, "ShaderNodeHueSaturation", Saturation=sat, Value=val, Color=tex.outputs["Color"])
    colour = mix(m, 1.0, hsv.outputs["Color"], tint, "MULTIPLY")
    m.node_tree.links.new(colour, bsdf.inputs["Base Color"])
    rough, strength = rng.uniform(*roughness), rng.uniform(*bump)
    bsdf.inputs["Roughness"].default_value = rough
    _blender.bump(m, tex.outputs["Color"], strength, 0.004)
    record["materials"][name] = {"photo": file, "crop": [size, u, v], "tile": metres,
                                 "turn": angle, "saturation": sat, "value": val,
                                 "tint": list(tint), "roughness": rough, "bump": strength}
    return m, bsdf, colour


def plain(name, rgb, roughness, metallic=0.0, specular=0.5):
    """A Principled material of one colour."""
    m, bsdf = _blender.principled(name)
    bsdf.inputs["Base Color"].default_value = (*rgb, 1)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    bsdf.inputs["Specular"].default_value = specular
    record["materials"][name] = {"rgb": list(rgb), "roughness": roughness, "metallic": metallic,
                                 "photo": None}
    return m


def glow(name, rgb, strength):
    """An emissive material that is not sampled as a light (a lamp beside it lights the scene)."""
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    nodes = m.node_tree.nodes
    nodes.remove(nodes["Principled BSDF"])
    emit = node(m, "ShaderNodeEmission", Color=(*rgb, 1), Strength=strength)
    m.node_tree.links.new(emit.outputs[0], nodes["Material Output"].inputs["Surface"])
    quiet(m)
    record["materials"][name] = {"rgb": list(rgb), "strength": strength, "photo": None}
    return m


def fabric(name, rng, rgb, translucent, tile=(0.6, 1.6)):
    """Tent or chair fabric: `rgb` with a crop of a pool photograph overlaid (its folds and
    stains), soft sheen, mixed with a translucent BSDF of its colour (`translucent`: a share)."""
    m, bsdf = _blender.principled(name)
    file, size, u, v = crop(rng)
    metres, share = rng.uniform(*tile), rng.uniform(0.2, 0.4)
    tex = _blender.photo_texture(m, file, 1 / metres, 0.0, 0.3, crop=(size, u, v))
    grey = node(m, "ShaderNodeHueSaturation", Saturation=0.0, Value=1.6, Color=tex.outputs["Color"])
    colour = mix(m, share, rgb, grey.outputs["Color"], "OVERLAY")
    m.node_tree.links.new(colour, bsdf.inputs["Base Color"])
    rough = rng.uniform(0.45, 0.8)
    bsdf.inputs["Roughness"].default_value = rough
    bsdf.inputs["Sheen"].default_value = 0.4
    _blender.bump(m, tex.outputs["Color"], 0.15, 0.003)
    entry = {"photo": file, "crop": [size, u, v], "tile": metres, "overlay": share,
             "rgb": list(rgb), "roughness": rough, "translucent": translucent}
    record["materials"][name] = entry
    if translucent > 0:
        out = m.node_tree.nodes["Material Output"]
        trans = node(m, "ShaderNodeBsdfTranslucent", Color=colour)
        both = node(m, "ShaderNodeMixShader", Fac=translucent)
        m.node_tree.links.new(bsdf.outputs[0], both.inputs[1])
        m.node_tree.links.new(trans.outputs[0], both.inputs[2])
        m.node_tree.links.new(both.outputs[0], out.inputs["Surface"])
    return m, colour


# ---- meshes

class Geo:
    """Boxes, slabs, tubes and domes gathered into one mesh, each part with its material."""

    def __init__(self):
        self.verts, self.faces, self.mats, self.smooth, self.slots = [], [], [], [], []

    def _add(self, mat, verts, faces, smooth=False):
        if mat not in self.slots:
            self.slots.append(mat)
        n, k = len(self.verts), self.slots.index(mat)
        self.verts += [tuple(v) for v in verts]
        for f in faces:
            self.faces.append(tuple(n + i for i in f))
            self.mats.append(k)
            self.smooth.append(smooth)

    def hexa(self, mat, c):
        """Eight corners: the bottom four (counter-clockwise from above), then the top four."""
        self._add(mat, c, [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6),
                           (3, 0, 4, 7)])

    def box(self, mat, lo, hi):
        (x0, y0, z0), (x1, y1, z1) = lo, hi
        self.hexa(mat, [(x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0),
                        (x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)])

    def slab(self, mat, a, b, c, d, thick):
        """A quad a-b-c-d (counter-clockwise seen from its top) thickened by `thick` along its
        normal."""
        ux, uy, uz = (b[i] - a[i] for i in range(3))
        vx, vy, vz = (d[i] - a[i] for i in range(3))
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        k = thick / max(math.sqrt(nx * nx + ny * ny + nz * nz), 1e-9)
        top = [(p[0] + nx * k, p[1] + ny * k, p[2] + nz * k) for p in (a, b, c, d)]
        self.hexa(mat, [a, b, c, d, *top])

    def tube(self, mat, p, q, r, r2=None, sides=8, caps=True):
        """A cylinder (or a cone's frustum, radius r2 at q) from point p to point q."""
        r2 = r if r2 is None else r2
        d = [q[i] - p[i] for i in range(3)]
        length = math.sqrt(sum(x * x for x in d)) or 1e-9
        w = [x / length for x in d]
        a = (1, 0, 0) if abs(w[0]) < 0.9 else (0, 1, 0)
        u = [a[1] * w[2] - a[2] * w[1], a[2] * w[0] - a[0] * w[2], a[0] * w[1] - a[1] * w[0]]
        nu = math.sqrt(sum(x * x for x in u))
        u = [x / nu for x in u]
        v = [w[1] * u[2] - w[2] * u[1], w[2] * u[0] - w[0] * u[2], w[0] * u[1] - w[1] * u[0]]
        verts = []
        for c, rad in ((p, r), (q, r2)):
            for i in range(sides):
                t = TAU * i / sides
                verts.append([c[j] + rad * (math.cos(t) * u[j] + math.sin(t) * v[j])
                              for j in range(3)])
        faces = [(i, (i + 1) % sides, sides + (i + 1) % sides, sides + i) for i in range(sides)]
        self._add(mat, verts, faces, smooth=True)
        if caps:
            self._add(mat, verts[:sides], [tuple(reversed(range(sides)))])
            self._add(mat, verts[sides:], [tuple(range(sides))])

    def dome(self, mat, a, b, c, rings=10, sides=28):
        """Half an ellipsoid of semi-axes a (x), b (y), c (z) standing on z = 0."""
        verts = [(a * math.cos(ph) * math.cos(th), b * math.cos(ph) * math.sin(th),
                  c * math.sin(ph))
                 for k in range(rings) for ph in [math.pi / 2 * k / rings]
                 for i in range(sides) for th in [TAU * i / sides]]
        verts.append((0, 0, c))
        faces = [(k * sides + i, k * sides + (i + 1) % sides, (k + 1) * sides + (i + 1) % sides,
                  (k + 1) * sides + i) for k in range(rings - 1) for i in range(sides)]
        top = rings * sides
        faces += [((rings - 1) * sides + i, (rings - 1) * sides + (i + 1) % sides, top)
                  for i in range(sides)]
        self._add(mat, verts, faces, smooth=True)

    def build(self, name, location=(0, 0, 0), turn=0.0):
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(self.verts, [], self.faces)
        mesh.validate()
        for mat in self.slots:
            mesh.materials.append(mat)
        mesh.polygons.foreach_set("material_index", self.mats)
        mesh.polygons.foreach_set("use_smooth", self.smooth)
        obj = bpy.data.objects.new(name, mesh)
        obj.location, obj.rotation_euler = location, (0, 0, turn)
        bpy.context.collection.objects.link(obj)
        return obj


def ragged(obj, name, size, strength, levels=2, apply=False):
    """A subdivision and Blender's cloud noise along the normals: a lumpy, uneven surface,
    applied to the mesh with `apply` (its copies then share one mesh: Cycles instances it)."""
    sub = obj.modifiers.new("sub", "SUBSURF")
    sub.subdivision_type, sub.levels, sub.render_levels = "SIMPLE", levels, levels
    tex = bpy.data.textures.get(name) or bpy.data.textures.new(name, "CLOUDS")
    tex.noise_scale, tex.noise_depth = size, 2
    mod = obj.modifiers.new("lumps", "DISPLACE")
    mod.texture, mod.strength, mod.texture_coords = tex, strength, "LOCAL"
    mod.mid_level = 0.5
    if apply:
        bpy.context.view_layer.objects.active = obj
        for name in ("sub", "lumps"):
            bpy.ops.object.modifier_apply(modifier=name)


def lamp(name, kind, location, power, rgb, radius):
    """A lamp (POINT or SUN) at `location`."""
    data = bpy.data.lights.new(name, kind)
    data.energy, data.color = power, rgb
    if kind == "POINT":
        data.shadow_soft_size = radius
    else:
        data.angle = radius
    obj = bpy.data.objects.new(name, data)
    obj.location = location
    bpy.context.collection.objects.link(obj)
    return obj


def seen_only(obj):
    """The object glows to the camera only: it casts no shadow (flames and glass round a lamp
    would otherwise hide it) and no bounce meets it (a firefly at these sample counts)."""
    obj.visible_shadow = False
    obj.visible_diffuse = False
    obj.visible_glossy = False
    obj.visible_transmission = False


# ---- the clearing and the ground

rng = stream("ground")
clear_r = rng.uniform(7, 13)
swell, slope = rng.uniform(0.2, 0.9), rng.uniform(0.02, 0.08)
phases = [(rng.uniform(0.04, 0.15), rng.uniform(0, TAU), rng.uniform(0, TAU)) for _ in range(4)]
ash_r = rng.uniform(1.2, 2.5)
record["ground"] = {"clearing": clear_r, "swell": swell, "slope": slope, "ash": ash_r}


def height(x, y):
    """The ground's height at (x, y): flat in the clearing, swelling and rising beyond it."""
    r = math.hypot(x, y)
    t = min(max((r - clear_r * 0.8) / (clear_r * 0.5), 0), 1)
    t = t * t * (3 - 2 * t)
    waves = sum(math.sin(f * x * math.cos(a) + f * y * math.sin(a) + p) for f, a, p in phases) / 2
    return t * (swell * waves + slope * max(r - clear_r * 0.8, 0))


N, SIZE = 120, 160.0
verts = []
for j in range(N + 1):
    for i in range(N + 1):
        # cells finer near the middle: x = sign * |s|^1.6 spreads them outwards
        sx, sy = 2 * i / N - 1, 2 * j / N - 1
        x = math.copysign(abs(sx) ** 1.6, sx) * SIZE / 2
        y = math.copysign(abs(sy) ** 1.6, sy) * SIZE / 2
        verts.append((x, y, height(x, y)))
faces = [(j * (N + 1) + i, j * (N + 1) + i + 1, (j + 1) * (N + 1) + i + 1, (j + 1) * (N + 1) + i)
         for j in range(N) for i in range(N)]
mesh = bpy.data.meshes.new("ground")
mesh.from_pydata(verts, [], faces)
mesh.polygons.foreach_set("use_smooth", [True] * len(faces))
ground = bpy.data.objects.new("ground", mesh)
bpy.context.collection.objects.link(ground)

rng = stream("ground-materials")
EARTH = [(0.55, 0.42, 0.3), (0.45, 0.38, 0.3), (0.6, 0.5, 0.38)]
LITTER = [(0.35, 0.42, 0.2), (0.5, 0.4, 0.25), (0.3, 0.38, 0.22), (0.55, 0.45, 0.3)]
g, g_bsdf, earth = photo("ground", rng, rng.choice(EARTH), (3.0, 7.0), (0.3, 0.6), (0.1, 0.4),
                         (0.75, 0.95), photos=prefer(NATURE), low=True)
# the second photograph (grass or needle litter) in the same material, mixed by a noise
file, size, u, v = crop(rng, prefer(NATURE), low=True)
metres, sat = rng.uniform(2.5, 6.0), rng.uniform(0.3, 0.8)
litter_tint, litter_scale = rng.choice(LITTER), rng.uniform(2, 6)
tex = _blender.photo_texture(g, file, 1 / metres, 0.0, 0.3, crop=(size, u, v))
hsv = node(g, "ShaderNodeHueSaturation", Saturation=sat, Value=0.6, Color=tex.outputs["Color"])
litter = mix(g, 1.0, hsv.outputs["Color"], litter_tint, "MULTIPLY")
coord = node(g, "ShaderNodeTexCoord")
patches = node(g, "ShaderNodeTexNoise", Vector=coord.outputs["Object"], Scale=1 / litter_scale,
               Detail=4.0)
edge = node(g, "ShaderNodeMapRange", Value=patches.outputs["Fac"], From_Min=0.42, From_Max=0.58)
# round the fire, ash and trampled earth: the litter gone, the colour darker
xyz = node(g, "ShaderNodeVectorMath", Vector=coord.outputs["Object"])
xyz.operation = "LENGTH"
near = node(g, "ShaderNodeMapRange", Value=xyz.outputs["Value"], From_Min=ash_r * 0.4,
            From_Max=ash_r, To_Min=0.0, To_Max=1.0)
amount = maths(g, "MULTIPLY", edge.outputs["Result"], near.outputs["Result"])
colour = mix(g, amount, earth, litter)
ash = mix(g, near.outputs["Result"], (0.04, 0.037, 0.035), colour)
ash = mix(g, 0.5, ash, colour)
g.node_tree.links.new(ash, g_bsdf.inputs["Base Color"])
# recorded as a material of its own (make.ts lists the photographs of the materials' "photo")
record["materials"]["ground-litter"] = {"photo": file, "crop": [size, u, v], "tile": metres,
                                        "saturation": sat, "tint": list(litter_tint),
                                        "patches": litter_scale}
ground.data.materials.append(g)


# ---- the fire: a ring of stones, logs, embers, flames and its lamps

rng = stream("fire")
rock, _, _ = photo("rock", rng, (0.75, 0.73, 0.7), (0.3, 0.8), (0.2, 0.45), (0.05, 0.3),
                   (0.55, 0.85), photos=prefer(ROCKY))
ring_r, n_stones = rng.uniform(0.45, 0.7), rng.randint(8, 14)
protos = []
for i in range(3):
    bpy.ops.mesh.primitive_ico_sphere_add(subdivisions=2, radius=1.0)
    o = bpy.context.object
    o.name = f"stone-{i}"
    o.data.materials.append(rock)
    ragged(o, f"stone-noise-{i}", rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.4), levels=1,
           apply=True)
    protos.append(o)
stones = []
for i in range(n_stones):
    a = TAU * i / n_stones + rng.uniform(-0.15, 0.15)
    s = rng.uniform(0.1, 0.19)
    o = protos[i % 3] if i < 3 else protos[i % 3].copy()
    if i >= 3:
        bpy.context.collection.objects.link(o)
    o.location = (ring_r * math.cos(a), ring_r * math.sin(a), s * 0.25)
    o.scale = (s * rng.uniform(1.0, 1.5), s * rng.uniform(0.8, 1.2), s * rng.uniform(0.6, 0.9))
    o.rotation_euler = (0, 0, a + rng.uniform(-0.5, 0.5))
    stones.append({"angle": a, "size": s})

# charred bark: a bark photograph darkened, glowing Blackbody orange where a noise is high
bark_fire, bark_bsdf, _ = photo("fire-logs", rng, (0.5, 0.42, 0.35), (0.3, 0.6),
                                       (0.15, 0.35), (0.1, 0.4), (0.7, 0.95),
                                       photos=prefer(WOODS))
nt = bark_fire.node_tree
char_scale, char_glow = rng.uniform(8, 20), rng.uniform(2, 8)
n = node(bark_fire, "ShaderNodeTexNoise", Scale=char_scale, Detail=3.0)
hot = node(bark_fire, "ShaderNodeMapRange", Value=n.outputs["Fac"], From_Min=0.55, From_Max=0.7)
pos = node(bark_fire, "ShaderNodeTexCoord")
zz = node(bark_fire, "ShaderNodeSeparateXYZ", Vector=pos.outputs["Object"])
low = node(bark_fire, "ShaderNodeMapRange", Value=zz.outputs["Z"], From_Min=0.35, From_Max=0.05)
hot_low = maths(bark_fire, "MULTIPLY", hot.outputs["Result"], low.outputs["Result"])
body = node(bark_fire, "ShaderNodeBlackbody", Temperature=rng.uniform(1000, 1300))
nt.links.new(body.outputs[0], bark_bsdf.inputs["Emission"])
nt.links.new(seen(bark_fire, maths(bark_fire, "MULTIPLY", hot_low, char_glow)),
             bark_bsdf.inputs["Emission Strength"])
quiet(bark_fire)
record["materials"]["fire-logs"].update(char_scale=char_scale, glow=char_glow)

logs = Geo()
build = rng.choice(["tipi", "crossed"])
n_logs = rng.randint(3, 7)
spin = rng.uniform(0, TAU)
for i in range(n_logs):
    a = spin + TAU * i / n_logs + rng.uniform(-0.2, 0.2)
    r = rng.uniform(0.035, 0.07)
    if build == "tipi":
        foot = rng.uniform(0.3, 0.42)
        p = (foot * math.cos(a), foot * math.sin(a), r)
        q = (0.05 * math.cos(a + 2), 0.05 * math.sin(a + 2), rng.uniform(0.45, 0.7))
    else:
        half = rng.uniform(0.3, 0.45)
        off = rng.uniform(-0.08, 0.08)
        cz = r + (i // 2) * 0.09
        b = spin + (math.pi / 2) * (i % 2)
        p = (-half * math.cos(b) - off * math.sin(b), -half * math.sin(b) + off * math.cos(b), cz)
        q = (half * math.cos(b) - off * math.sin(b), half * math.sin(b) + off * math.cos(b), cz)
    logs.tube(bark_fire, p, q, r, r * rng.uniform(0.7, 1.0), sides=9)
# the logs cast no shadow of the fire's lamps (they stand among them, where the flames would light
# them from every side; their shadows were a speckle at these sample counts)
logs.build("fire-logs").visible_shadow = False

# embers: a low mound of ash and glowing coals
ember_t, ember_s = rng.uniform(900, 1400), rng.uniform(3, 12)
em = bpy.data.materials.new("embers")
em.use_nodes = True
ash_bsdf = em.node_tree.nodes["Principled BSDF"]
ash_bsdf.inputs["Base Color"].default_value = (0.03, 0.028, 0.026, 1)
ash_bsdf.inputs["Roughness"].default_value = 0.95
vor = node(em, "ShaderNodeTexVoronoi", Scale=rng.uniform(18, 35))
noi = node(em, "ShaderNodeTexNoise", Scale=rng.uniform(4, 9), Detail=3.0)
coals = node(em, "ShaderNodeMapRange", Value=maths(em, "MULTIPLY", vor.outputs["Distance"],
                                                   noi.outputs["Fac"]),
             From_Min=0.25, From_Max=0.05)
ember_body = node(em, "ShaderNodeBlackbody", Temperature=ember_t)
em.node_tree.links.new(ember_body.outputs[0], ash_bsdf.inputs["Emission"])
em.node_tree.links.new(seen(em, maths(em, "MULTIPLY", coals.outputs["Result"], ember_s)),
                       ash_bsdf.inputs["Emission Strength"])
quiet(em)
record["materials"]["embers"] = {"kelvin": ember_t, "strength": ember_s, "photo": None}
bed = Geo()
bed.dome(em, ring_r * 0.85, ring_r * 0.85, 0.06, rings=4, sides=20)
bed.build("embers", (0, 0, -0.01))

# flames: thin cones, Blackbody colour from the base (hot) to the tip, torn into transparency by
# a noise stretched upwards (licks), each tongue its own part of the noise (Object Info's random)
flame_hot, flame_cool = rng.uniform(1900, 2300), rng.uniform(1200, 1500)
flame_s, lick = rng.uniform(8, 25), rng.uniform(0.25, 0.45)
fm = bpy.data.materials.new("flames")
fm.use_nodes = True
fm.node_tree.nodes.remove(fm.node_tree.nodes["Principled BSDF"])
gen = node(fm, "ShaderNodeTexCoord")
info = node(fm, "ShaderNodeObjectInfo")
obj_z = node(fm, "ShaderNodeSeparateXYZ", Vector=gen.outputs["Generated"])
stretch = node(fm, "ShaderNodeMapping", Vector=gen.outputs["Object"])
stretch.inputs["Scale"].default_value = (1.0, 1.0, lick)
wisp = fm.node_tree.nodes.new("ShaderNodeTexNoise")
wisp.noise_dimensions = "4D"
fm.node_tree.links.new(stretch.outputs["Vector"], wisp.inputs["Vector"])
fm.node_tree.links.new(maths(fm, "MULTIPLY", info.outputs["Random"], 50.0), wisp.inputs["W"])
wisp.inputs["Scale"].default_value = rng.uniform(6, 12)
wisp.inputs["Detail"].default_value = 3.0
wisp.inputs["Distortion"].default_value = rng.uniform(0.3, 1.0)
up = obj_z.outputs["Z"]
temp = node(fm, "ShaderNodeMapRange", Value=up, To_Min=flame_hot, To_Max=flame_cool)
bb = node(fm, "ShaderNodeBlackbody", Temperature=temp.outputs["Result"])
# opacity: whole at the base, none at the tip, torn between by the noise (edges of a few cm)
fall = maths(fm, "SUBTRACT", 1.1, maths(fm, "MULTIPLY", up, 1.25))
torn = maths(fm, "ADD", fall, maths(fm, "MULTIPLY", maths(fm, "SUBTRACT", wisp.outputs["Fac"],
                                                          0.5), 2.0))
alpha = node(fm, "ShaderNodeMapRange", Value=torn, From_Min=0.3, From_Max=0.45).outputs[0]
emit = node(fm, "ShaderNodeEmission", Color=bb.outputs["Color"],
            Strength=maths(fm, "MULTIPLY", maths(fm, "SUBTRACT", 1.3, up), flame_s))
clear = node(fm, "ShaderNodeBsdfTransparent")
both = node(fm, "ShaderNodeMixShader", Fac=alpha)
fm.node_tree.links.new(clear.outputs[0], both.inputs[1])
fm.node_tree.links.new(emit.outputs[0], both.inputs[2])
fm.node_tree.links.new(both.outputs[0], fm.node_tree.nodes["Material Output"].inputs["Surface"])
fm.blend_method = "BLEND"
quiet(fm)
record["materials"]["flames"] = {"hot": flame_hot, "cool": flame_cool, "strength": flame_s,
                                 "lick": lick, "photo": None}
n_flames = rng.randint(5, 10)
flames = []
for i in range(n_flames):
    h, r = rng.uniform(0.25, 0.9), rng.uniform(0.04, 0.12)
    a, d = rng.uniform(0, TAU), rng.uniform(0, 0.18)
    bpy.ops.mesh.primitive_cone_add(vertices=12, radius1=r, radius2=0.0, depth=h)
    o = bpy.context.object
    o.name = f"flame-{i}"
    o.location = (d * math.cos(a), d * math.sin(a), 0.05 + h / 2)
    o.rotation_euler = (rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.uniform(0, TAU))
    o.data.materials.append(fm)
    ragged(o, "flame-noise", rng.uniform(0.06, 0.15), r * 0.6, levels=2)
    seen_only(o)
    bpy.ops.object.shade_smooth()
    flames.append({"height": h, "radius": r, "at": [d * math.cos(a), d * math.sin(a)]})

# the fire's light: 3-4 point lamps among the flames (a fire is no point, and Cycles here picks
# a lamp per sample by count: more lamps, more of the samples go to the fire), the lowest redder
fire_t, fire_w = rng.uniform(1700, 2300), rng.uniform(150, 800)
fire_z, fire_rad = rng.uniform(0.35, 0.6), rng.uniform(0.08, 0.2)
fire_lamps = []
n_lamps = rng.randint(3, 4)
for k in range(n_lamps):
    a, d = rng.uniform(0, TAU), rng.uniform(0, 0.15)
    z = 0.25 if k == 0 else fire_z * rng.uniform(0.8, 1.25)
    t = fire_t - (400 if k == 0 else rng.uniform(-100, 100))
    at = (d * math.cos(a), d * math.sin(a), z)
    lamp(f"fire-light-{k}", "POINT", at, fire_w / n_lamps, kelvin(t), fire_rad)
    fire_lamps.append({"at": list(at), "kelvin": t, "power": fire_w / n_lamps})
record["fire"] = {"ring": ring_r, "stones": stones, "build": build, "logs": n_logs,
                  "flames": flames, "kelvin": fire_t, "power": fire_w, "height": fire_z,
                  "radius": fire_rad, "lamps": fire_lamps}


# ---- tents, round the fire, doors to it

rng = stream("tents")
FABRICS = {"orange": (0.6, 0.16, 0.02), "green": (0.08, 0.2, 0.06), "olive": (0.17, 0.18, 0.07),
           "blue": (0.03, 0.09, 0.3), "red": (0.45, 0.03, 0.02), "yellow": (0.7, 0.45, 0.03),
           "grey": (0.2, 0.21, 0.22), "sand": (0.45, 0.36, 0.22)}
rope = plain("rope", (0.6, 0.58, 0.5), 0.7)
pole = plain("tent-pole", (0.3, 0.3, 0.32), 0.35, metallic=1.0)
n_tents = rng.randint(1, 3)
start = rng.uniform(0, TAU)
record["tents"] = []
for i in range(n_tents):
    a = start + TAU * i / n_tents + rng.uniform(-0.35, 0.35) * (1 if n_tents > 1 else 3)
    dist = rng.uniform(3.2, 6.5)
    kind = rng.choice(["dome", "dome", "ridge"])
    colour = rng.choice(list(FABRICS))
    lit = rng.random() < 0.4
    if kind == "dome":
        L, W, H = rng.uniform(2.0, 2.8), rng.uniform(1.6, 2.3), rng.uniform(1.05, 1.4)
    else:
        L, W, H = rng.uniform(2.0, 2.6), rng.uniform(1.4, 1.9), rng.uniform(1.0, 1.3)
    mat, fcol = fabric(f"tent-{i}", rng, FABRICS[colour], rng.uniform(0.25, 0.45))
    coord = node(mat, "ShaderNodeTexCoord")
    loc = node(mat, "ShaderNodeSeparateXYZ", Vector=coord.outputs["Object"])
    # the door panel, darker: the front (local +x), within 0.4 m of the middle, below 85 % of the
    # height (a dome's front half, a ridge tent's front end)
    x0 = L / 2 * 0.45 if kind == "dome" else L / 2 - 0.08
    front = node(mat, "ShaderNodeMapRange", Value=loc.outputs["X"], From_Min=x0,
                 From_Max=x0 + 0.05)
    mid = node(mat, "ShaderNodeMapRange", Value=maths(mat, "ABSOLUTE", loc.outputs["Y"]),
               From_Min=0.42, From_Max=0.38)
    below = node(mat, "ShaderNodeMapRange", Value=loc.outputs["Z"], From_Min=0.85 * H,
                 From_Max=0.8 * H)
    panel = maths(mat, "MULTIPLY", maths(mat, "MULTIPLY", front.outputs["Result"],
                                         mid.outputs["Result"]), below.outputs["Result"])
    darker = mix(mat, panel, fcol, mix(mat, 1.0, fcol, (0.4, 0.4, 0.4), "MULTIPLY"))
    mat.node_tree.links.new(darker, mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"])
    x, y = dist * math.cos(a), dist * math.sin(a)
    turn = math.atan2(-y, -x)  # local +x, the door, to the fire
    tent = Geo()
    if kind == "dome":
        tent.dome(mat, L / 2, W / 2, H)
        for s in (-1, 1):  # the poles' sleeves as seams over the dome
            pts = [(L / 2 * math.cos(t) * s * 0.7071, W / 2 * math.cos(t) * 0.7071 * 1,
                    H * math.sin(t)) for t in [k * math.pi / 12 for k in range(13)]]
            for p, q in zip(pts, pts[1:]):
                tent.tube(pole, (p[0] * 1.01, p[1] * 1.01, p[2] * 1.01),
                          (q[0] * 1.01, q[1] * 1.01, q[2] * 1.01), 0.012, sides=6, caps=False)
        # guy ropes from the dome's diagonals at half its height
        ropes = [((s * 0.612 * L / 2, t * 0.612 * W / 2, 0.5 * H), rng.uniform(2.2, 2.9))
                 for s in (-1, 1) for t in (-1, 1)]
    else:
        a0, a1 = (-L / 2, -W / 2, 0), (L / 2, -W / 2, 0)
        b0, b1 = (L / 2, W / 2, 0), (-L / 2, W / 2, 0)
        r0, r1 = (-L / 2, 0, H), (L / 2, 0, H)
        tent._add(mat, [a0, a1, b0, b1, r0, r1], [(0, 1, 5, 4), (2, 3, 4, 5), (1, 2, 5),
                                                  (3, 0, 4)])
        for px in (-L / 2 - 0.03, L / 2 + 0.03):
            tent.tube(pole, (px, 0, 0), (px, 0, H + 0.12), 0.012, sides=6)
        # from each pole's top, two ropes out and aside
        ropes = [((s * (L / 2 + 0.03), 0, H + 0.1), None) for s in (-1, 1) for _ in (0, 1)]
    for k, ((cx, cy, cz), out) in enumerate(ropes):
        if out is None:  # a ridge tent's: out along its length, half a metre aside
            end = (cx + math.copysign(rng.uniform(0.8, 1.3), cx), (k % 2 - 0.5) * 1.2, 0.0)
        else:
            end = (cx * out, cy * out, 0.0)
        tent.tube(rope, (cx, cy, cz), end, 0.004, sides=4, caps=False)
    tent.build(f"tent-{i}", (x, y, 0.0), turn)
    entry = {"kind": kind, "angle": a, "distance": dist, "length": L, "width": W, "height": H,
             "colour": colour, "lit": lit}
    if lit:
        t, w = rng.uniform(2400, 4500), rng.uniform(8, 40)
        lamp(f"tent-{i}-light", "POINT", (x, y, H * 0.45), w, kelvin(t), 0.05)
        entry.update(kelvin=t, power=w)
    record["tents"].append(entry)


def clear_of_tents(x, y, margin):
    """Whether (x, y) stands clear of every tent (its footprint and ropes) by `margin`."""
    for t in record["tents"]:
        tx, ty = t["distance"] * math.cos(t["angle"]), t["distance"] * math.sin(t["angle"])
        if math.hypot(x - tx, y - ty) < t["length"] / 2 + 0.9 + margin:
            return False
    return True


# ---- camping chairs, a cool box

rng = stream("chairs")
frame_rgb = rng.choice([(0.02, 0.02, 0.02), (0.5, 0.5, 0.52), (0.05, 0.12, 0.05)])
frame = plain("chair-frame", frame_rgb, 0.35, metallic=0.8 if frame_rgb[0] > 0.3 else 0.2)
CHAIRS = {"navy": (0.02, 0.04, 0.12), "green": (0.05, 0.14, 0.05), "red": (0.3, 0.03, 0.02),
          "black": (0.02, 0.02, 0.02), "khaki": (0.25, 0.22, 0.12), "teal": (0.02, 0.15, 0.15),
          "grey": (0.12, 0.12, 0.13)}
n_chairs = rng.randint(1, 4)
record["chairs"] = []
props = []  # (x, y, top z): where a lantern may stand
for i in range(n_chairs):
    for _ in range(20):
        a, d = rng.uniform(0, TAU), rng.uniform(1.5, 2.4)
        x, y = d * math.cos(a), d * math.sin(a)
        if clear_of_tents(x, y, 0.3) and all(math.hypot(x - c["x"], y - c["y"]) > 1.0
                                             for c in record["chairs"]):
            break
    else:
        continue
    colour = rng.choice(list(CHAIRS))
    cloth, _ = fabric(f"chair-{i}", rng, CHAIRS[colour], 0.0, tile=(0.3, 0.8))
    turn = math.atan2(x, -y) + math.radians(rng.uniform(-25, 25))  # local +y to the fire
    sh, recline = rng.uniform(0.38, 0.46), math.radians(rng.uniform(12, 25))
    w, dp, back = 0.27, 0.24, rng.uniform(0.5, 0.65)
    ch = Geo()
    for sx in (-1, 1):  # the legs (crossed at the sides and the front) and the arms
        ch.tube(frame, (sx * w, -dp, 0), (sx * w, dp, sh), 0.011, sides=6)
        ch.tube(frame, (sx * w, dp, 0), (sx * w, -dp, sh), 0.011, sides=6)
        ch.tube(frame, (sx * w, -dp, 0), (sx * w, -dp, sh), 0.011, sides=6)
        ch.tube(frame, (sx * w, dp, 0), (sx * w, dp, sh + 0.2), 0.011, sides=6)
        ch.box(frame, (sx * w - 0.04, -dp - 0.02, sh + 0.19), (sx * w + 0.04, dp + 0.03,
                                                               sh + 0.22))
    for sy in (-1, 1):
        ch.tube(frame, (-w, sy * dp, 0.02), (w, sy * dp, sh * 0.55), 0.009, sides=6)
        ch.tube(frame, (w, sy * dp, 0.02), (-w, sy * dp, sh * 0.55), 0.009, sides=6)
    sag = rng.uniform(0.02, 0.06)
    ch.slab(cloth, (-w, dp, sh), (-w, -dp, sh - sag), (w, -dp, sh - sag), (w, dp, sh), -0.01)
    top = (-dp - back * math.sin(recline), sh - sag + back * math.cos(recline))
    ch.slab(cloth, (-w, -dp, sh - sag), (-w, top[0], top[1]), (w, top[0], top[1]),
            (w, -dp, sh - sag), -0.01)
    ch.tube(frame, (-w, -dp, sh - sag), (-w, top[0], top[1]), 0.011, sides=6)
    ch.tube(frame, (w, -dp, sh - sag), (w, top[0], top[1]), 0.011, sides=6)
    ch.build(f"chair-{i}", (x, y, 0), turn)
    record["chairs"].append({"x": x, "y": y, "turn": turn, "colour": colour, "seat": sh,
                             "recline": recline})
    props.append((x + 0.45 * math.cos(turn), y + 0.45 * math.sin(turn), 0.0))

cool = rng.random() < 0.5 and record["chairs"]
if cool:
    c = rng.choice(record["chairs"])
    side = rng.choice([-1, 1])
    cx = c["x"] + side * 0.65 * math.cos(c["turn"])
    cy = c["y"] + side * 0.65 * math.sin(c["turn"])
    shell = plain("coolbox", rng.choice([(0.02, 0.08, 0.35), (0.4, 0.03, 0.02),
                                         (0.6, 0.6, 0.58), (0.05, 0.25, 0.2)]), 0.4)
    lid = plain("coolbox-lid", (0.7, 0.7, 0.68), 0.35)
    box = Geo()
    box.box(shell, (-0.3, -0.2, 0), (0.3, 0.2, 0.32))
    box.box(lid, (-0.31, -0.21, 0.32), (0.31, 0.21, 0.38))
    box.box(lid, (-0.2, -0.03, 0.38), (0.2, 0.03, 0.41))
    box.build("coolbox", (cx, cy, 0), c["turn"] + rng.uniform(-0.4, 0.4))
    props.append((cx, cy, 0.41))
    record["coolbox"] = {"x": cx, "y": cy}


# ---- lanterns

rng = stream("lanterns")
metal = plain("lantern-metal", rng.choice([(0.02, 0.02, 0.02), (0.15, 0.03, 0.02),
                                           (0.08, 0.14, 0.08)]), 0.35, metallic=0.9)
for t in record["tents"]:  # by each tent's door
    tx, ty = (t["distance"] - t["length"] / 2 - 0.35) * math.cos(t["angle"]), \
        (t["distance"] - t["length"] / 2 - 0.35) * math.sin(t["angle"])
    props.append((tx + rng.uniform(-0.3, 0.3), ty + rng.uniform(-0.3, 0.3), 0.0))
n_lanterns = min(rng.randint(0, 3), len(props))
record["lanterns"] = []
places = list(props)
for i in range(n_lanterns):
    px, py, pz = places.pop(rng.randrange(len(places)))
    kind = rng.choice(["kerosene", "led"])
    t = rng.uniform(1900, 2400) if kind == "kerosene" else rng.uniform(2700, 6000)
    w = rng.uniform(4, 25)
    s = rng.uniform(0.8, 1.2)
    glass = glow(f"lantern-{i}-glass", kelvin(t), rng.uniform(3, 10))
    lan, pane = Geo(), Geo()
    lan.tube(metal, (0, 0, 0), (0, 0, 0.05 * s), 0.07 * s, sides=14)
    if kind == "kerosene":
        pane.tube(glass, (0, 0, 0.05 * s), (0, 0, 0.18 * s), 0.045 * s, 0.035 * s, sides=14)
        for k in range(4):
            b = TAU * k / 4 + 0.4
            lan.tube(metal, (0.055 * s * math.cos(b), 0.055 * s * math.sin(b), 0.05 * s),
                     (0.055 * s * math.cos(b), 0.055 * s * math.sin(b), 0.19 * s), 0.004,
                     sides=4)
        lan.tube(metal, (0, 0, 0.19 * s), (0, 0, 0.24 * s), 0.06 * s, 0.02 * s, sides=14)
        top = 0.24 * s
    else:
        pane.tube(glass, (0, 0, 0.05 * s), (0, 0, 0.2 * s), 0.055 * s, sides=14)
        lan.tube(metal, (0, 0, 0.2 * s), (0, 0, 0.23 * s), 0.065 * s, sides=14)
        top = 0.23 * s
    for k in range(7):  # the handle, a half ring
        b0, b1 = math.pi * k / 7, math.pi * (k + 1) / 7
        lan.tube(metal, (0.06 * s * math.cos(b0), 0, top + 0.06 * s * math.sin(b0)),
                 (0.06 * s * math.cos(b1), 0, top + 0.06 * s * math.sin(b1)), 0.003, sides=4,
                 caps=False)
    spin = rng.uniform(0, TAU)
    lan.build(f"lantern-{i}", (px, py, pz), spin)
    seen_only(pane.build(f"lantern-{i}-glass", (px, py, pz), spin))
    lamp(f"lantern-{i}-light", "POINT", (px, py, pz + 0.12 * s), w, kelvin(t), 0.03)
    record["lanterns"].append({"kind": kind, "x": px, "y": py, "z": pz, "kelvin": t, "power": w,
                               "size": s})


# ---- firewood and the trees

rng = stream("trees")
bark, _, _ = photo("bark", rng, (0.55, 0.45, 0.36), (0.4, 1.2), (0.25, 0.55), (0.2, 0.6),
                   (0.8, 0.95), bump=(0.3, 0.8), turn=False, photos=prefer(WOODS))
GREENS = [(0.25, 0.4, 0.2), (0.2, 0.33, 0.22), (0.3, 0.42, 0.18), (0.35, 0.4, 0.25)]
leaves, _, _ = photo("foliage", rng, rng.choice(GREENS), (0.3, 1.0), (0.2, 0.45),
                             (0.3, 0.8), (0.6, 0.85), bump=(0.4, 0.9), photos=prefer(WOODS))
record["firewood"] = None
if rng.random() < 0.5:
    a, d = rng.uniform(0, TAU), clear_r * rng.uniform(0.55, 0.8)
    x, y = d * math.cos(a), d * math.sin(a)
    if clear_of_tents(x, y, 0.5):
        pile = Geo()
        n_wood = rng.randint(4, 9)
        for k in range(n_wood):
            row, col = divmod(k, 4)
            r = rng.uniform(0.05, 0.08)
            yy = (col - 1.5) * 0.16 + row * 0.08
            pile.tube(bark, (-0.4 + rng.uniform(-0.05, 0.05), yy, r + row * 0.13),
                      (0.4 + rng.uniform(-0.05, 0.05), yy, r + row * 0.13), r, sides=7)
        pile.build("firewood", (x, y, 0), a + math.pi / 2)
        record["firewood"] = {"x": x, "y": y, "logs": n_wood}

protos = []
mixed = rng.random() < 0.4
for i in range(rng.randint(3, 5)):
    kind = "broadleaf" if mixed and i % 2 else "conifer"
    t = Geo()
    h = rng.uniform(9, 18) if kind == "conifer" else rng.uniform(7, 13)
    t.tube(bark, (0, 0, -0.3), (0, 0, h * 0.9), h * 0.018, h * 0.006, sides=10)
    crown = Geo()
    if kind == "conifer":
        n = rng.randint(4, 6)
        base, spread = rng.uniform(0.12, 0.3) * h, rng.uniform(0.2, 0.3) * h
        for k in range(n):
            z0 = base + (h - base) * k / n * 0.85
            r = spread * (1 - k / n * 0.85)
            crown.tube(leaves, (0, 0, z0), (0, 0, z0 + (h - base) / n * 1.9), r, 0.02,
                       sides=14)
    else:
        for k in range(rng.randint(3, 6)):
            a, d = rng.uniform(0, TAU), rng.uniform(0, h * 0.15)
            r = rng.uniform(0.18, 0.28) * h
            crown.dome(leaves, r, r, r, rings=5, sides=12)
            c0 = len(crown.verts) - (5 * 12 + 1)
            for j in range(c0, len(crown.verts)):  # move the dome into place, mirrored below
                vx, vy, vz = crown.verts[j]
                crown.verts[j] = (vx + d * math.cos(a), vy + d * math.sin(a),
                                  h * 0.62 + vz * 0.9)
            crown.dome(leaves, r, r, r * 0.6, rings=4, sides=12)
            c1 = len(crown.verts) - (4 * 12 + 1)
            for j in range(c1, len(crown.verts)):
                vx, vy, vz = crown.verts[j]
                crown.verts[j] = (vx + d * math.cos(a), vy + d * math.sin(a),
                                  h * 0.62 - vz)
    trunk = t.build(f"tree-{i}-trunk")
    top = crown.build(f"tree-{i}-crown")
    ragged(top, f"crown-noise-{i}", rng.uniform(0.6, 1.4), h * 0.06, levels=2, apply=True)
    top.parent = trunk
    protos.append((trunk, top, kind, h))

trees = []
for r0, r1, n in ((clear_r, 32.0, rng.randint(60, 110)), (32.0, 60.0, rng.randint(40, 80))):
    for _ in range(n):
        for _ in range(10):
            a = rng.uniform(0, TAU)
            d = math.sqrt(rng.uniform(r0 * r0, r1 * r1))
            x, y = d * math.cos(a), d * math.sin(a)
            if all(math.hypot(x - t[0], y - t[1]) > 1.6 for t in trees):
                break
        else:
            continue
        k = rng.randrange(len(protos))
        s, turn = rng.uniform(0.7, 1.25), rng.uniform(0, TAU)
        stretch, lean = rng.uniform(0.9, 1.1), (rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03))
        trees.append((x, y, k, s, turn, stretch, lean))
for j, (x, y, k, s, turn, stretch, lean) in enumerate(trees):
    trunk, top, kind, h = protos[k]
    t, c = trunk.copy(), top.copy()
    bpy.context.collection.objects.link(t)
    bpy.context.collection.objects.link(c)
    c.parent = t
    t.location = (x, y, height(x, y))
    t.scale = (s, s, s * stretch)
    t.rotation_euler = (*lean, turn)
for trunk, top, _, _ in protos:
    bpy.data.objects.remove(top)
    bpy.data.objects.remove(trunk)
record["trees"] = {"mixed": mixed, "prototypes": [{"kind": p[2], "height": p[3]} for p in protos],
                   "placed": [[x, y, protos[k][2], s] for x, y, k, s, *_ in trees]}

# ---- the sky and the moon

rng = stream("sky")
hdri = os.path.join("/usr/share/blender/datafiles/studiolights/world", "night.exr")
kind = rng.choice(["hdri", "stars"])
strength, turn = rng.uniform(0.008, 0.04), rng.uniform(0, TAU)
if kind == "hdri" and not os.path.exists(hdri):
    kind = "stars"
if kind == "hdri":
    _blender.world(scene, strength, hdri, turn)
    record["world"] = {"kind": kind, "file": hdri, "strength": strength, "turn": turn,
                       "photo": None}
else:
    w = _blender.world(scene, 1.0)
    nodes = w.node_tree.nodes
    nodes.remove([n for n in nodes if n.bl_idname == "ShaderNodeTexSky"][0])
    coord = node(w, "ShaderNodeTexCoord")
    xyz = node(w, "ShaderNodeSeparateXYZ", Vector=coord.outputs["Generated"])
    ramp = nodes.new("ShaderNodeValToRGB")
    horizon = (rng.uniform(0.004, 0.012), rng.uniform(0.005, 0.014), rng.uniform(0.01, 0.03))
    ramp.color_ramp.elements[0].color = (*horizon, 1)
    ramp.color_ramp.elements[1].position = 0.45
    ramp.color_ramp.elements[1].color = (0.0008, 0.001, 0.002, 1)
    w.node_tree.links.new(xyz.outputs["Z"], ramp.inputs["Fac"])
    density, shine = rng.uniform(250, 500), rng.uniform(0.3, 1.5)
    cells = node(w, "ShaderNodeTexVoronoi", Vector=coord.outputs["Generated"], Scale=density)
    star = node(w, "ShaderNodeMapRange", Value=cells.outputs["Distance"], From_Min=0.06,
                From_Max=0.02)
    bright = maths(w, "POWER", maths(w, "MULTIPLY", cells.outputs["Color"], 1.0), 6.0)
    sky = mix(w, maths(w, "MULTIPLY", maths(w, "MULTIPLY", star.outputs["Result"], bright),
                       shine, clamp=True),
              ramp.outputs["Color"], (0.9, 0.92, 1.0), "ADD")
    w.node_tree.links.new(sky, nodes["Background"].inputs["Color"])
    record["world"] = {"kind": kind, "horizon": list(horizon), "stars": density,
                       "shine": shine, "photo": None}
moon = rng.random() < 0.67
record["moon"] = None
if moon:
    elevation, azimuth = rng.uniform(20, 60), rng.uniform(0, 360)
    energy = rng.uniform(0.004, 0.03)
    sun = lamp("moon", "SUN", (0, 0, 50), energy, (0.6, 0.7, 1.0), math.radians(0.5))
    sun.rotation_euler = (math.radians(90 - elevation), 0, math.radians(azimuth))
    record["moon"] = {"elevation": elevation, "azimuth": azimuth, "energy": energy}


# ---- the camera: a camper's eye in the widest gap between the tents

rng = stream("camera")
angles = sorted(t["angle"] % TAU for t in record["tents"])
gaps = [((b - a) % TAU or TAU, a) for a, b in zip(angles, angles[1:] + angles[:1])]
width, after = max(gaps)
# the first place in the gap (of 30 tries) clear of the tents, the chairs and the firewood
for _ in range(30):
    a = after + width * rng.uniform(0.3, 0.7)
    dist = rng.uniform(3.2, min(8.5, clear_r - 1.2))
    cx, cy = dist * math.cos(a), dist * math.sin(a)
    things = record["chairs"] + ([record["firewood"]] if record["firewood"] else []) + \
        ([record["coolbox"]] if record.get("coolbox") else [])
    if clear_of_tents(cx, cy, 0.3) and all(math.hypot(cx - c["x"], cy - c["y"]) > 2.0
                                            for c in things):
        break
cam_h = rng.choice([rng.uniform(1.0, 1.2), rng.uniform(1.5, 1.75)])
loc = (cx, cy, height(cx, cy) + cam_h)
# aimed at the fire, or between it and one of the tents
target = [0.0, 0.0, rng.uniform(0.2, 0.6)]
if record["tents"] and rng.random() < 0.5:
    t = rng.choice(record["tents"])
    share = rng.uniform(0.2, 0.6)
    target[0] = share * t["distance"] * math.cos(t["angle"])
    target[1] = share * t["distance"] * math.sin(t["angle"])
    target[2] = rng.uniform(0.3, 0.9)
dx, dy, dz = (target[i] - loc[i] for i in range(3))
yaw = math.degrees(math.atan2(dy, dx)) - 90 + rng.uniform(-4, 4)
pitch = math.degrees(math.atan2(dz, math.hypot(dx, dy))) + rng.uniform(-3, 4)
lens, roll = rng.uniform(20, 50), rng.uniform(-1.5, 1.5)
cam_data = bpy.data.cameras.new("camera")
cam_data.sensor_width, cam_data.lens = 36, lens
cam = bpy.data.objects.new("camera", cam_data)
cam.location = loc
cam.rotation_euler = (math.radians(90 + pitch), math.radians(roll), math.radians(yaw))
bpy.context.collection.objects.link(cam)
scene.camera = cam
dof = rng.random() < 0.4
record["camera"] = {"angle": a, "distance": dist, "height": cam_h, "location": list(loc),
                    "target": target, "yaw": yaw, "pitch": pitch, "roll": roll, "lens": lens,
                    "dof": dof}
if dof:
    cam_data.dof.use_dof = True
    cam_data.dof.focus_distance = math.dist(loc, (0, 0, 0.3))
    cam_data.dof.aperture_fstop = rng.uniform(1.8, 4)
    record["camera"].update(focus=cam_data.dof.focus_distance,
                            fstop=cam_data.dof.aperture_fstop)


# ---- the look

rng = stream("look")
scene.view_settings.view_transform = "Filmic"
look = rng.choice(["Medium Contrast", "Medium High Contrast", "High Contrast"])
scene.view_settings.look = f"Filmic - {look}" if bpy.app.version >= (4, 0) else look
scene.view_settings.exposure = rng.uniform(-0.2, 1.2)
record["look"] = {"look": look, "exposure": scene.view_settings.exposure}

_blender.finish(scene, args, record)
