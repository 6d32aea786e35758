"""An architectural-visualisation exterior, as the Corona, V-Ray and Artlantis datasets show them:
a modern detached house on its plot, seen from its garden as archviz cameras see it.

    blender -b --factory-startup -t 1 -P tasks/production/render_archviz.py -- '<json>'

The JSON is run.ts `SceneArgs` (seed, out, width, height, samples, pool, threads; `texture` and
`environment` are ignored: this generator has no ablation). It writes `out` (8-bit PNG) and
`<out>.json`, the record of everything drawn. Every draw comes from a stream of its own
(`_blender.streams("archviz:", seed)`: "world", "sun", "look", "house", "house:details",
"windows:<volume>:<face>", "interior", "interior:floor", "camera", "site", "plants", "glass",
"water", "water:bump", "material:<name>"), so the same seed gives the same scene, and a change
to one aspect leaves the others' draws as they were. Blender's exact boolean orders its output
differently from run to run (it runs on several threads); its meshes are put in an order of
their coordinates (`canonical`), so that the same seed gives the same pixels too.

What is drawn (metres; z up; the house's front at y = 0, facing -y):

- the house: one or two boxy volumes with flat roofs. A main volume 8-16 wide, 6-11 deep, of
  one or two storeys (3.0-3.4 floor to floor); alone ("single", 35 %), with a second-storey
  volume on it (60-95 % as wide, 70-105 % as deep, shifted or cantilevered up to 2 beyond it;
  "stacked", 35 %), or with a one-storey wing 4-8 wide beside it, 0.3-0.6 lower ("wing",
  30 %). Each volume is a shell (walls 0.25-0.35, a floor and a roof) cut by Blender's exact
  boolean, so that its openings look into rooms: an interior floor (boards or stone),
  plastered walls and ceiling, a slab between storeys, one to three blocks of furniture per
  room. Its faces are glazed by a style drawn per face and storey: floor-to-ceiling glazing over
  45-92 % of the face, a ribbon window (sill 0.7-1.0), one to four punched windows (0.9-2.2
  wide, 1.2-2.2 high) or none (the front always has openings; a face against another volume
  none). Every opening has frames (5-9 cm; dark aluminium 60 %, light aluminium or wood) with
  mullions every 0.9-2.4, set 5-20 cm behind the face, and panes of real glass: 2 cm thick, IOR
  1.45-1.52, reflective and refractive, transparent to shadow rays (archviz glass: sunlight
  reaches the rooms); punched windows have a sill. A flat roof slab 0.25-0.45 thick overhangs
  0-0.6 (not over a neighbouring volume), covered with gravel;
- cladding: each volume one of render (plaster), concrete (in panels), wood boards (horizontal,
  or vertical 35 %), stone courses or dark fibre cement, the second volume's other than the
  main one's; the roof slab's edge render, concrete or dark;
- the site: a lawn to the horizon (1 km square), a terrace against the main volume's front
  (3-6 deep, 60-100 % of its width, stone paving or timber decking, 5-20 high); half the time
  a pool 0.5-3 in front of the terrace (6-12 by 3-5, 1.4 deep, tiled, a 0.3-0.5 paving surround,
  water 0.12 below it: refractive, IOR 1.33, rippled by a photograph's bump; left out when the
  camera would stand in it); a boundary on the plot's sides and back 4-10 beyond the house
  (hedge 1.2-2.0 high, a rendered or stone wall 0.6-1.2, or a slatted timber fence 1.2-1.8, in
  2 m pieces; each side runs from the back corner to 0-4 in front of the house, and stops at
  the first piece that would stand in the camera's view of the house or within 6 of it);
  2-6 trees on the plot and 3-8 behind it, 5-12 high (broadleaf, 70 %: a trunk and a crown of
  3-6 jittered spheres; or a conifer's cone), 3-10 shrubs (0.4-1.0 high) along the house's
  front and sides, each left out when 60 (shrubs 30) draws find it no place. Nothing stands
  between the camera and the house but shrubs under 0.8;
- materials: every opaque material's colour is a photograph of the pool (`args["pool"]`): a
  square crop (12-35 % of its side; 6-15 % for grass, leaves, bark and gravel, which need
  little structure), the first of eight drawn whose median is neither near black nor blown out
  (grass, leaves, bark and gravel: the one of those with the least mean gradient), tiled and
  mirrored at the tile edges by box projection of object coordinates (every mesh is built in
  world coordinates, so these are metres), twice: at a
  scale fitting the material (a tile of grass 0.8-2, concrete 1.5-3, gravel 0.4-0.9, wood grain
  stretched 8-20 times along its boards, ...) and at 2.2-3.3 times it, turned 0.4-1.2 rad about
  the vertical (boards: not turned) and moved, the two averaged so that no period shows. Then
  desaturated (0-60 % of its saturation kept), its contrast about its median scaled by 0.1-1
  (render 0.15-0.35, foliage 0.6-1, ...), tinted toward the material's colour (a hue and
  saturation per kind) and scaled so that its median is the material's albedo (grass
  0.06-0.14, render 0.5-0.78, ...; the median measured in the crop's pixels), clamped to 0-1.
  The table KINDS holds each kind's ranges. Boards, stone courses, concrete panels, paving
  slabs and pool tiles are multiplied by a brick pattern (joints, and a per-piece variation).
  The bump is the same photograph's luminance (its first lookup's, clamped to 0-1; a bump
  evaluates its height three times), joints sunken. Not photographs:
  the glass (clear, lightly tinted), the water's colour, and the lamps' emission;
- the light: the world is one of Debian's Blender CC0 HDRIs (Poly Haven's, 1024x512, in
  /usr/share/blender/datafiles/studiolights/world; see its license.txt), turned about the
  vertical at random, at a strength drawn in a range per HDRI (DAY, DUSK). "day" (60 %): city,
  forest or sunrise, and a sun lamp (2-5 W/m^2, angle 0.5-2 degrees, 5000-6200 K, or
  2500-3800 K when lower than 12 degrees) where that HDRI's own sun is once turned (its
  brightest 8x8 block in the upper half; its author checked it once by rendering toward it), so that the shadows
  agree with the sky. "dusk" (40 %): sunrise, sunset or night, a low sun (0-1.5 W/m^2,
  2500-3800 K) half the time but at night, and every room lit by warm (2700-3500 K, strength
  8-25) emissive ceiling panels, 1-4 a room, seen through the glass. Courtyard is left out (a
  covered porch: its background is a room), and so are interior and studio. The record names
  the HDRI, its file, turn and strength; its "photo" is null, the HDRI not being a photograph of
  the pool;
- the camera: 36 mm sensor, 20-35 mm lens. At eye level (85 %): 1.5-1.8 above the lawn, level
  (verticals vertical), frontal (within 15 degrees of the front's normal, 30 %) or
  three-quarter (20-60 degrees), where the house fills 55-85 % of the width, with a lens shift:
  horizontal to centre the house, vertical to put the horizon 28-45 % up the frame, or lower so
  that the house's top stays 8-25 % of the height below the frame's top, never so far that its
  foot leaves the frame (further back when both cannot hold). A high three-quarter view (15 %):
  5-12 up, tilted down at the house's middle, fitted in both directions, no vertical shift;
- colour management: Filmic with one of its eight looks (75 %) or Standard; exposure -0.3 to
  +0.4 by day, +0.2 to +1.2 at dusk.

Cycles at `args["samples"]` samples, no denoiser (post.py's `archviz` chain finishes the image),
8 bounces (2 diffuse, 3 glossy, 6 transmission), no caustics, indirect light clamped at 10.
About 20-32 s for 512x384 at 32 samples on one thread (3-4 s of it building the scene), as
measured on a 2-core machine busy with other work; dusk scenes are the slower.

Known faults, found by a review while the set of docs/production.md was being rendered (before
any of its scores; the set is scored as made, and this script is what made it):

- the crop checks and the albedo are exact on the faces that look along -y only. Cycles' box
  projection reads other coordinate pairs on the other faces (and mirrors some), so the lawn,
  the roof, the terrace, floors, side and back walls show other parts of the same photograph:
  still a photograph of the pool, but not the crop that was checked for black or blown-out
  pixels, picked as the least structured, or measured for the albedo gain;
- crops of the pool's city photographs can show their content on walls (facade lines, streaks),
  and the mirrored tiling can make symmetric patterns on large walls;
- the trees read as topiary; the HDRI backgrounds are soft (1024 x 512); dusk interiors seen
  through glass are noisy at 32 samples and the guided filter leaves blotches;
- the high view is drawn apart from the frontal / three-quarter choice, so it can be frontal;
  the crop is square in image coordinates, so a non-square photograph's texels are stretched; in
  a wing, a window of a 2.4-m storey can reach into the roof slab.
"""

import colorsys
import math
import os
import sys

import bmesh
import bpy
import numpy as np
from mathutils import Euler, Matrix, Vector

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _blender  # noqa: E402

HDRIS = "/usr/share/blender/datafiles/studiolights/world"
# the exterior HDRIs of Debian's Blender by light, with the strength range of each
DAY = {"city": (0.7, 1.3), "forest": (1.0, 2.0), "sunrise": (0.8, 1.5)}
DUSK = {"sunrise": (0.7, 1.4), "sunset": (0.7, 1.4), "night": (1.5, 3.5)}
LOOKS = ["None", "Very Low Contrast", "Low Contrast", "Medium Low Contrast", "Medium Contrast",
         "Medium High Contrast", "High Contrast", "Very High Contrast"]

args = _blender.arguments()
R = _blender.streams("archviz:", args["seed"])
PHOTOS = list(args["pool"])
scene = _blender.new_scene(args, bounces=8, clamp_indirect=10.0, cycles={
    "diffuse_bounces": 2, "glossy_bounces": 3, "transmission_bounces": 6,
    "transparent_max_bounces": 6, "volume_bounces": 0, "caustics_reflective": False,
    "caustics_refractive": False, "blur_glossy": 1.0})
record = {"args": args, "materials": {}}


# ---- materials: photographs as colour and bump
# per kind: tile (m; boards: along the grain), saturation kept, tint hue, tint saturation,
# albedo (the median's target), contrast (about the median), roughness, bump strength, pattern
KIND_FIELDS = ("tile", "keep", "hue", "sat", "albedo", "contrast", "rough", "bump")
KINDS = {name: dict(zip(KIND_FIELDS, ranges), pattern=pattern) for name, pattern, *ranges in [
    ("render", "none", (2, 4), (0, 0.15), (0.06, 0.14), (0, 0.12),
     (0.5, 0.78), (0.15, 0.35), (0.8, 0.95), (0.02, 0.06)),
    ("concrete", "panels", (1.5, 3), (0, 0.12), (0.05, 0.6), (0, 0.08),
     (0.25, 0.45), (0.3, 0.6), (0.7, 0.9), (0.03, 0.1)),
    ("wood", "boards", (1.5, 3.5), (0.2, 0.5), (0.05, 0.1), (0.35, 0.7),
     (0.12, 0.32), (0.4, 0.8), (0.5, 0.8), (0.03, 0.1)),
    ("stone", "courses", (1, 2.5), (0.1, 0.35), (0.06, 0.12), (0.05, 0.3),
     (0.25, 0.45), (0.4, 0.8), (0.7, 0.9), (0.08, 0.2)),
    ("dark", "none", (2, 4), (0, 0.1), (0, 1), (0, 0.1),
     (0.04, 0.09), (0.2, 0.5), (0.4, 0.7), (0.01, 0.04)),
    ("metal", "none", (2, 4), (0, 0.05), (0, 1), (0, 0.05),
     (0.04, 0.1), (0.1, 0.3), (0.3, 0.5), (0, 0.02)),
    ("light-metal", "none", (2, 4), (0, 0.05), (0, 1), (0, 0.05),
     (0.55, 0.75), (0.1, 0.3), (0.3, 0.5), (0, 0.02)),
    ("gravel", "none", (0.4, 0.9), (0, 0.2), (0.05, 0.12), (0, 0.15),
     (0.2, 0.35), (0.5, 0.9), (0.85, 1), (0.15, 0.35)),
    ("lawn", "none", (0.8, 2), (0.3, 0.6), (0.19, 0.28), (0.55, 0.85),
     (0.06, 0.14), (0.2, 0.4), (0.8, 1), (0.15, 0.35)),
    ("paving", "slabs", (1, 2.5), (0, 0.25), (0.05, 0.14), (0, 0.2),
     (0.25, 0.5), (0.3, 0.6), (0.7, 0.9), (0.05, 0.15)),
    ("deck", "boards", (1.5, 3.5), (0.2, 0.5), (0.05, 0.1), (0.35, 0.7),
     (0.12, 0.3), (0.4, 0.8), (0.5, 0.8), (0.04, 0.12)),
    ("tile", "tiles", (0.8, 1.6), (0, 0.1), (0.48, 0.58), (0.1, 0.5),
     (0.35, 0.6), (0.1, 0.3), (0.2, 0.4), (0.02, 0.06)),
    ("foliage", "none", (0.3, 0.8), (0.3, 0.6), (0.2, 0.32), (0.5, 0.85),
     (0.04, 0.11), (0.6, 1), (0.6, 0.9), (0.3, 0.6)),
    ("bark", "none", (0.4, 1), (0.1, 0.3), (0.05, 0.1), (0.2, 0.5),
     (0.06, 0.14), (0.5, 0.9), (0.8, 1), (0.2, 0.5)),
    ("fabric", "none", (0.5, 1.5), (0.1, 0.5), (0, 1), (0, 0.4),
     (0.1, 0.5), (0.2, 0.5), (0.8, 1), (0.02, 0.08)),
]}
# the patterns (brick textures): piece length and height ranges (m), mortar (m), darkening
# the crop's side (share of the photograph's) of the kinds that take smaller ones, and the
# least structured of eight: grass, leaves, bark and gravel read as such only where a photograph
# has little structure (no lines, no edges)
CROPS = {"lawn": (0.06, 0.15), "foliage": (0.06, 0.15), "bark": (0.06, 0.15),
         "gravel": (0.06, 0.15)}
PATTERNS = {
    "boards": ((1.5, 4.0), (0.1, 0.25), (0.004, 0.012), (0.3, 0.6)),
    "courses": ((0.3, 0.9), (0.15, 0.4), (0.008, 0.02), (0.3, 0.6)),
    "panels": ((1.2, 2.6), (0.6, 1.4), (0.004, 0.01), (0.15, 0.35)),
    "slabs": ((0.4, 1.0), (0.4, 1.0), (0.004, 0.012), (0.3, 0.5)),
    "tiles": ((0.1, 0.3), (0.1, 0.3), (0.003, 0.006), (0.2, 0.4)),
}
_pixels = {}


def pixels(photo):
    """A photograph's pixels (rows from the bottom, as Blender holds them), linear RGB."""
    if photo not in _pixels:
        img = _blender.image(photo)
        w, h = img.size
        px = np.empty(w * h * img.channels, np.float32)
        img.pixels.foreach_get(px)
        px = px.reshape(h, w, img.channels)[..., :3].astype(np.float64)
        if not img.is_float:  # 8-bit images come as their sRGB code values
            px = np.clip(px, 0, 1) ** 2.2
        _pixels[photo] = px
    return _pixels[photo]


def cropped(photo, crop):
    px = pixels(photo)
    h, w = px.shape[:2]
    side, u, v = crop
    x0, y0 = int(u * w), int(v * h)
    return px[y0:max(y0 + 2, int((v + side) * h)), x0:max(x0 + 2, int((u + side) * w))]


def median_luminance(photo, crop, keep):
    """The median linear luminance of a square crop (side, u, v in image coordinates) of a
    photograph once its saturation is scaled by `keep` as Blender's Hue/Saturation node does."""
    sub = cropped(photo, crop)
    top = sub.max(axis=2, keepdims=True)
    sub = top - keep * (top - sub)
    return float(np.median(sub @ np.array([0.2126, 0.7152, 0.0722])))


def structure(photo, crop):
    """How much a crop holds edges and lines: its luminance's mean absolute gradient (in sRGB
    code values, so that shadows count as they look) over its mean; and whether it is exposed
    well enough to stand for a material (its median code value 0.12-0.9: not a black sky or a
    blown-out one, which the gain to the albedo would turn into amplified noise)."""
    lum = np.clip(cropped(photo, crop) @ np.array([0.2126, 0.7152, 0.0722]), 0, None) ** (1 / 2.2)
    grad = np.abs(np.diff(lum, axis=0)).mean() + np.abs(np.diff(lum, axis=1)).mean()
    return float(grad / (lum.mean() + 0.05)), 0.12 <= float(np.median(lum)) <= 0.9


def pick_crop(photo, crops, smooth):
    """Of crops drawn, the first exposed well enough (`structure`), or with `smooth` the one of
    least structure of those; the first drawn when none is."""
    scored = [(structure(photo, c), c) for c in crops]
    fine = [(score, c) for (score, ok), c in scored if ok]
    if not fine:
        return crops[0]
    return min(fine, key=lambda x: x[0])[1] if smooth else fine[0][1]


def node(m, kind, **inputs):
    n = m.node_tree.nodes.new(kind)
    for k, x in inputs.items():
        n.inputs[k].default_value = x
    return n


def brick(m, vector, length, height, mortar, dark, offset, vary):
    """A brick texture (m) on `vector`: a multiplier of 1 on pieces (1 - `vary` on some), 1 -
    `dark` in the joints; its mortar factor."""
    b = node(m, "ShaderNodeTexBrick", Scale=1.0, **{"Mortar Size": mortar, "Brick Width": length,
                                                    "Row Height": height, "Bias": 0.0})
    b.offset = offset
    b.inputs["Color1"].default_value = (1, 1, 1, 1)
    b.inputs["Color2"].default_value = (1 - vary, 1 - vary, 1 - vary, 1)
    b.inputs["Mortar"].default_value = (1 - dark, 1 - dark, 1 - dark, 1)
    m.node_tree.links.new(vector, b.inputs["Vector"])
    return b


def lookup(m, coord, photo, scale, turn, offset, crop):
    """The photograph's crop (side, u, v) as an image node of `m`, tiled by box projection of
    object coordinates at `scale` tiles a metre, turned by `turn` about z and moved by
    `offset` (m), each tile mirrored (|2 fract(x/2) - 1|) so that no seam shows at its edges."""
    nodes, links = m.node_tree.nodes, m.node_tree.links
    side, u, v = crop
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Location"].default_value = (*offset, 0.0)
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, turn)
    mapping.inputs["Scale"].default_value = scale
    links.new(coord.outputs["Object"], mapping.inputs["Vector"])
    half = node(m, "ShaderNodeVectorMath", Scale=0.5)
    half.operation = "SCALE"
    frac = nodes.new("ShaderNodeVectorMath")
    frac.operation = "FRACTION"
    tri = node(m, "ShaderNodeVectorMath")
    tri.operation = "MULTIPLY_ADD"
    tri.inputs[1].default_value = (2, 2, 2)
    tri.inputs[2].default_value = (-1, -1, -1)
    absolute = nodes.new("ShaderNodeVectorMath")
    absolute.operation = "ABSOLUTE"
    into = nodes.new("ShaderNodeVectorMath")  # into the crop
    into.operation = "MULTIPLY_ADD"
    into.inputs[1].default_value = (side, side, side)
    into.inputs[2].default_value = (u, v, v)
    links.new(mapping.outputs["Vector"], half.inputs[0])
    links.new(half.outputs["Vector"], frac.inputs[0])
    links.new(frac.outputs["Vector"], tri.inputs[0])
    links.new(tri.outputs["Vector"], absolute.inputs[0])
    links.new(absolute.outputs["Vector"], into.inputs[0])
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = _blender.image(photo)
    tex.projection = "BOX"
    tex.projection_blend = 0.25
    links.new(into.outputs["Vector"], tex.inputs["Vector"])
    return tex


def photo_material(name, kind):
    """A material of `kind` (KINDS) whose colour and bump are a photograph of the pool; its
    record. Every draw is made whatever the kind, from the material's own stream."""
    rng = R(f"material:{name}")
    k = KINDS[kind]
    photo = rng.choice(PHOTOS)
    side = rng.uniform(*CROPS.get(kind, (0.12, 0.35)))
    crops = [(side, rng.uniform(0, 1 - side), rng.uniform(0, 1 - side)) for _ in range(8)]
    crop = pick_crop(photo, crops, kind in CROPS)
    tile = rng.uniform(*k["tile"])
    across = rng.uniform(0.05, 0.12) * tile  # the grain's stretch, boards only
    keep = rng.uniform(*k["keep"])
    tint = colorsys.hsv_to_rgb(rng.uniform(*k["hue"]), rng.uniform(*k["sat"]), 1.0)
    albedo, contrast = rng.uniform(*k["albedo"]), rng.uniform(*k["contrast"])
    rough, strength = rng.uniform(*k["rough"]), rng.uniform(*k["bump"])
    vertical = rng.random() < 0.35  # boards' direction on walls
    # the second lookup: 2.2-3.3 times larger tiles, turned (but for boards) and moved
    second = (rng.uniform(0.3, 0.45), rng.uniform(0.4, 1.2), rng.uniform(0, 10),
              rng.uniform(0, 10))
    lengths, heights, mortars, darks = PATTERNS.get(k["pattern"], PATTERNS["slabs"])
    piece = (rng.uniform(*lengths), rng.uniform(*heights), rng.uniform(*mortars),
             rng.uniform(*darks), rng.choice([0.0, 0.5]), rng.uniform(0.0, 0.25))
    if k["pattern"] == "tiles":
        piece = (piece[0], piece[0], *piece[2:4], 0.0, piece[5] * 0.3)
    lum_tint = 0.2126 * tint[0] + 0.7152 * tint[1] + 0.0722 * tint[2]
    median = max(median_luminance(photo, crop, keep), 0.01)
    gain = albedo / (median * max(lum_tint, 0.05))

    m, bsdf = _blender.principled(name)
    nodes, links = m.node_tree.nodes, m.node_tree.links
    coord = nodes.new("ShaderNodeTexCoord")
    if kind == "deck":  # floor boards along x: the grain along them
        scale = (1 / tile, 1 / across, 1 / across)
    elif k["pattern"] == "boards":  # wall boards, horizontal or vertical
        scale = ((1 / tile, 1 / tile, 1 / across) if not vertical
                 else (1 / across, 1 / across, 1 / tile))
    else:
        scale = (1 / tile,) * 3
    boards = k["pattern"] == "boards"
    looks = [lookup(m, coord, photo, scale, 0.0, (0, 0), crop),
             lookup(m, coord, photo, tuple(second[0] * x for x in scale),
                    0.0 if boards else second[1], second[2:], crop)]
    tex = node(m, "ShaderNodeMixRGB", Fac=0.5)  # the two lookups averaged: no visible period
    links.new(looks[0].outputs["Color"], tex.inputs["Color1"])
    links.new(looks[1].outputs["Color"], tex.inputs["Color2"])
    hsv = node(m, "ShaderNodeHueSaturation", Hue=0.5, Saturation=keep, Value=1.0, Fac=1.0)
    links.new(tex.outputs["Color"], hsv.inputs["Color"])
    flat = node(m, "ShaderNodeMixRGB", Fac=contrast, Color1=(median, median, median, 1))
    links.new(hsv.outputs["Color"], flat.inputs["Color2"])  # median + contrast (x - median)
    tinted = node(m, "ShaderNodeVectorMath")
    tinted.operation = "MULTIPLY"
    tinted.inputs[1].default_value = tuple(gain * c for c in tint)
    links.new(flat.outputs["Color"], tinted.inputs[0])
    colour = tinted.outputs["Vector"]
    bw = nodes.new("ShaderNodeRGBToBW")
    links.new(looks[0].outputs["Color"], bw.inputs["Color"])  # one lookup: the bump takes 3
    height = node(m, "ShaderNodeClamp", Min=0.0, Max=1.0)
    links.new(bw.outputs["Val"], height.inputs["Value"])
    height = height.outputs["Result"]
    rec = {"photo": photo, "kind": kind, "crop": list(crop), "tile": tile, "saturation": keep,
           "tint": list(tint), "albedo": albedo, "gain": gain, "contrast": contrast,
           "roughness": rough, "bump": strength}
    if k["pattern"] != "none":
        length, high, mortar, dark, offset, vary = piece
        rec["pattern"] = {"kind": k["pattern"], "length": length, "height": high,
                          "mortar": mortar, "dark": dark, "offset": offset, "vary": vary,
                          "vertical": vertical}
        sep = nodes.new("ShaderNodeSeparateXYZ")
        links.new(coord.outputs["Object"], sep.inputs["Vector"])
        along = node(m, "ShaderNodeMath")  # the horizontal coordinate of a wall, x or y
        along.operation = "ADD"
        links.new(sep.outputs["X"], along.inputs[0])
        links.new(sep.outputs["Y"], along.inputs[1])
        wall_vec = nodes.new("ShaderNodeCombineXYZ")
        if vertical and k["pattern"] == "boards":
            links.new(sep.outputs["Z"], wall_vec.inputs["X"])
            links.new(along.outputs["Value"], wall_vec.inputs["Y"])
        else:
            links.new(along.outputs["Value"], wall_vec.inputs["X"])
            links.new(sep.outputs["Z"], wall_vec.inputs["Y"])
        floor_vec = nodes.new("ShaderNodeCombineXYZ")
        links.new(sep.outputs["X"], floor_vec.inputs["X"])
        links.new(sep.outputs["Y"], floor_vec.inputs["Y"])
        wall = brick(m, wall_vec.outputs["Vector"], length, high, mortar, dark, offset, vary)
        floor = brick(m, floor_vec.outputs["Vector"], length, high, mortar, dark, offset, vary)
        geo = nodes.new("ShaderNodeNewGeometry")
        nsep = nodes.new("ShaderNodeSeparateXYZ")
        links.new(geo.outputs["Normal"], nsep.inputs["Vector"])
        up = nodes.new("ShaderNodeMath")
        up.operation = "ABSOLUTE"
        links.new(nsep.outputs["Z"], up.inputs[0])
        is_floor = node(m, "ShaderNodeMath")
        is_floor.operation = "GREATER_THAN"
        is_floor.inputs[1].default_value = 0.5
        links.new(up.outputs["Value"], is_floor.inputs[0])
        pick = node(m, "ShaderNodeMixRGB")
        links.new(is_floor.outputs["Value"], pick.inputs["Fac"])
        links.new(wall.outputs["Color"], pick.inputs["Color1"])
        links.new(floor.outputs["Color"], pick.inputs["Color2"])
        times = node(m, "ShaderNodeMixRGB", Fac=1.0)
        times.blend_type = "MULTIPLY"
        links.new(colour, times.inputs["Color1"])
        links.new(pick.outputs["Color"], times.inputs["Color2"])
        colour = times.outputs["Color"]
        # the joints sunk in the bump: the multiplier's grey added to the height
        joint = nodes.new("ShaderNodeRGBToBW")
        links.new(pick.outputs["Color"], joint.inputs["Color"])
        both = node(m, "ShaderNodeMath")
        both.operation = "ADD"
        links.new(height, both.inputs[0])
        links.new(joint.outputs["Val"], both.inputs[1])
        height = both.outputs["Value"]
    clamp = node(m, "ShaderNodeMixRGB", Fac=0.0)  # clamps the colour to 0-1
    clamp.use_clamp = True
    links.new(colour, clamp.inputs["Color1"])
    links.new(clamp.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = rough
    if kind in ("metal", "light-metal"):
        bsdf.inputs["Metallic"].default_value = 0.8
    _blender.bump(m, height, strength, 0.02)
    record["materials"][name] = rec
    return m


def glass_material(name, rng, ior_range, tint_range, shadow=0.92):
    """Clear glass (or water): Principled transmission, reflective and refractive; a shadow ray
    passes it as through a transparent surface (archviz glass). Its record."""
    m, bsdf = _blender.principled(name)
    nodes, links = m.node_tree.nodes, m.node_tree.links
    ior, t = rng.uniform(*ior_range), rng.uniform(*tint_range)
    hue = rng.uniform(0.35, 0.55)
    tint = colorsys.hsv_to_rgb(hue, t, 1.0)
    bsdf.inputs["Base Color"].default_value = (*tint, 1)
    bsdf.inputs["Transmission"].default_value = 1.0
    bsdf.inputs["Roughness"].default_value = 0.0
    bsdf.inputs["IOR"].default_value = ior
    path = nodes.new("ShaderNodeLightPath")
    clear = nodes.new("ShaderNodeBsdfTransparent")
    clear.inputs["Color"].default_value = (*(shadow * c for c in tint), 1)
    mix = nodes.new("ShaderNodeMixShader")
    links.new(path.outputs["Is Shadow Ray"], mix.inputs["Fac"])
    links.new(bsdf.outputs["BSDF"], mix.inputs[1])
    links.new(clear.outputs["BSDF"], mix.inputs[2])
    links.new(mix.outputs["Shader"], nodes["Material Output"].inputs["Surface"])
    rec = {"photo": None, "kind": "glass", "ior": ior, "tint": list(tint)}
    record["materials"][name] = rec
    return m, rec


def lamp_material(name, kelvin, strength):
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    nodes, links = m.node_tree.nodes, m.node_tree.links
    nodes.remove(nodes["Principled BSDF"])
    em = nodes.new("ShaderNodeEmission")
    em.inputs["Color"].default_value = (*blackbody(kelvin), 1)
    em.inputs["Strength"].default_value = strength
    links.new(em.outputs["Emission"], nodes["Material Output"].inputs["Surface"])
    record["materials"][name] = {"photo": None, "kind": "lamp", "kelvin": kelvin,
                                 "strength": strength}
    return m


def blackbody(kelvin):
    """An approximate linear RGB of a black body (Tanner Helland's fit), the largest channel 1."""
    t = kelvin / 100
    r = 255.0 if t <= 66 else 329.7 * (t - 60) ** -0.1332
    g = 99.47 * math.log(t) - 161.1 if t <= 66 else 288.1 * (t - 60) ** -0.0755
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5 * math.log(t - 10) - 305.0)
    rgb = [(min(max(c, 0.0), 255.0) / 255) ** 2.2 for c in (r, g, b)]
    return tuple(c / max(rgb) for c in rgb)


# ---- geometry: boxes, spheres and cones gathered into one mesh per material
class Parts:
    def __init__(self):
        self.meshes = {}

    def bm(self, material):
        return self.meshes.setdefault(material, bmesh.new())

    def box(self, material, x0, x1, y0, y1, z0, z1):
        bm = self.bm(material)
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        v = [bm.verts.new((x, y, z)) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
        for f in ((0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4),
                  (1, 5, 7, 3)):
            bm.faces.new([v[i] for i in f])

    def sphere(self, material, centre, radii, rng, jitter):
        bm = self.bm(material)
        mat = Matrix.Translation(centre) @ Matrix.Diagonal((*radii, 1.0))
        verts = bmesh.ops.create_icosphere(bm, subdivisions=3, radius=1.0, matrix=mat)["verts"]
        for vert in verts:  # a lumpy crown, not a ball
            d = vert.co - Vector(centre)
            vert.co = Vector(centre) + d * (1 + rng.uniform(-jitter, jitter))
        for f in {f for vert in verts for f in vert.link_faces}:
            f.smooth = True

    def cone(self, material, base, r0, r1, height, segments=10):
        bm = self.bm(material)
        mat = Matrix.Translation((base[0], base[1], base[2] + height / 2))
        verts = bmesh.ops.create_cone(bm, cap_ends=True, segments=segments, radius1=r0,
                                      radius2=r1, depth=height, matrix=mat)["verts"]
        for f in {f for vert in verts for f in vert.link_faces}:
            f.smooth = True

    def build(self, materials):
        for name in sorted(self.meshes):
            bm = self.meshes[name]
            bmesh.ops.recalc_face_normals(bm, faces=bm.faces)
            mesh = bpy.data.meshes.new(name)
            bm.to_mesh(mesh)
            bm.free()
            mesh.materials.append(materials[name])
            bpy.context.collection.objects.link(bpy.data.objects.new(name, mesh))


def canonical(mesh):
    """The mesh with its vertices and faces in an order of their coordinates alone. Blender's
    exact boolean runs on several threads and orders its output differently from run to run,
    which changes Cycles' triangles and so its samples; in this order the same seed gives the
    same mesh."""
    co = [tuple(round(c, 6) for c in v.co) for v in mesh.vertices]
    faces = []
    for poly in mesh.polygons:
        ring = [co[i] for i in poly.vertices]
        k = ring.index(min(ring))  # each face from its least vertex, its winding kept
        faces.append(tuple(ring[k:] + ring[:k]))
    faces.sort()
    verts = sorted(set(co))
    index = {v: i for i, v in enumerate(verts)}
    out = bpy.data.meshes.new(mesh.name)
    out.from_pydata(verts, [], [[index[v] for v in f] for f in faces])
    out.update()
    bpy.data.meshes.remove(mesh)
    return out


def shell(name, outer, inner, cutters, materials):
    """A box `outer` less the box `inner` and the boxes `cutters` (exact booleans, applied): a
    volume with its rooms and openings. Faces on the inner box are the interior's: its floor
    material 2, walls and ceiling 1; every other face is the cladding, 0."""
    def box_object(nm, boxes):
        p = Parts()
        for b in boxes:
            p.box("x", *b)
        bm = p.meshes["x"]
        bmesh.ops.recalc_face_normals(bm, faces=bm.faces)
        mesh = bpy.data.meshes.new(nm)
        bm.to_mesh(mesh)
        bm.free()
        obj = bpy.data.objects.new(nm, mesh)
        bpy.context.collection.objects.link(obj)
        return obj
    obj = box_object(name, [outer])
    helpers = [box_object(name + "-rooms", [inner])]
    if cutters:
        helpers.append(box_object(name + "-openings", cutters))
    for h in helpers:
        mod = obj.modifiers.new(h.name, "BOOLEAN")
        mod.operation, mod.solver, mod.object = "DIFFERENCE", "EXACT", h
    depsgraph = bpy.context.evaluated_depsgraph_get()
    mesh = canonical(bpy.data.meshes.new_from_object(obj.evaluated_get(depsgraph)))
    obj.modifiers.clear()
    old = obj.data
    obj.data = mesh
    bpy.data.meshes.remove(old)
    for h in helpers:
        data = h.data
        bpy.data.objects.remove(h)
        bpy.data.meshes.remove(data)
    for m in materials:
        mesh.materials.append(m)
    x0, x1, y0, y1, z0, z1 = inner
    e = 1e-3
    for poly in mesh.polygons:
        c = poly.center
        if x0 - e <= c.x <= x1 + e and y0 - e <= c.y <= y1 + e and z0 - e <= c.z <= z1 + e:
            poly.material_index = 2 if poly.normal.z > 0.5 and c.z < z0 + e else 1
    return obj


# ---- the world and the light
def hdri_peak(path):
    """The direction of an HDRI's brightest spot (its sun): azimuth and elevation (radians) in
    the environment texture's own frame, from its pixels averaged over 8x8 blocks."""
    img = _blender.image(path)
    w, h = img.size
    px = np.empty(w * h * img.channels, np.float32)
    img.pixels.foreach_get(px)
    px = px.reshape(h, w, img.channels)[..., :3].astype(np.float64)
    lum = px @ np.array([0.2126, 0.7152, 0.0722])
    blocks = lum[: h // 8 * 8, : w // 8 * 8].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))
    blocks[: blocks.shape[0] // 2] = 0  # the upper half only (Blender's rows start at the bottom)
    r, c = np.unravel_index(np.argmax(blocks), blocks.shape)
    u, v = (c + 0.5) / blocks.shape[1], (r + 0.5) / blocks.shape[0]
    return math.pi - 2 * math.pi * u, (v - 0.5) * math.pi


rng = R("world")
mode = "day" if rng.random() < 0.6 else "dusk"
table = DAY if mode == "day" else DUSK
hdri = rng.choice(sorted(table))
strength, turn = rng.uniform(*table[hdri]), rng.uniform(0, 2 * math.pi)
hdri_path = os.path.join(HDRIS, hdri + ".exr")
_blender.world(scene, strength, hdri_path, turn)
peak_az, peak_el = hdri_peak(hdri_path)
# the mapping turns the lookup direction by `turn`: what the texture holds at azimuth a shows
# at azimuth a - turn
sun_az = (peak_az - turn) % (2 * math.pi)
record["world"] = {"photo": None, "hdri": hdri, "file": hdri_path, "strength": strength,
                   "turn": turn, "peak": {"azimuth": peak_az, "elevation": peak_el}}
record["light"] = mode

rng = R("sun")
sun_strength = rng.uniform(2.0, 5.0) if mode == "day" else rng.uniform(0.0, 1.5)
warm = mode == "dusk" or peak_el < math.radians(12)  # a low sun is a warm one
sun_kelvin = rng.uniform(2500, 3800) if warm else rng.uniform(5000, 6200)
sun_angle = math.radians(rng.uniform(0.5, 2.0))
sun_on = mode == "day" or (hdri != "night" and rng.random() < 0.5)
if sun_on:
    elevation = max(peak_el, math.radians(2.0))
    lamp = bpy.data.lights.new("sun", "SUN")
    lamp.energy = sun_strength
    lamp.color = blackbody(sun_kelvin)
    lamp.angle = sun_angle
    sun = bpy.data.objects.new("sun", lamp)
    sun.rotation_euler = (0.0, math.pi / 2 - elevation, sun_az)
    bpy.context.collection.objects.link(sun)
    record["sun"] = {"strength": sun_strength, "kelvin": sun_kelvin,
                     "angle": math.degrees(sun_angle), "azimuth": math.degrees(sun_az),
                     "elevation": math.degrees(elevation)}
else:
    record["sun"] = None

rng = R("look")
if rng.random() < 0.75:
    scene.view_settings.view_transform = "Filmic"
    scene.view_settings.look = rng.choice(LOOKS)
else:
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
exposure = rng.uniform(-0.3, 0.4) if mode == "day" else rng.uniform(0.2, 1.2)
scene.view_settings.exposure = exposure
record["look"] = {"view": scene.view_settings.view_transform, "look": scene.view_settings.look,
                  "exposure": exposure}


# ---- the house
CLADDINGS = ["render", "concrete", "wood", "stone", "dark"]
rng = R("house")
layout = rng.choices(["single", "stacked", "wing"], weights=[0.35, 0.35, 0.3])[0]
W, D = rng.uniform(8, 16), rng.uniform(6, 11)
storey = rng.uniform(3.0, 3.4)
wall = rng.uniform(0.25, 0.35)
roof_thick, overhang = rng.uniform(0.25, 0.45), rng.uniform(0.0, 0.6)
claddings = rng.sample(CLADDINGS, 2)
main_storeys = 1 if layout == "stacked" else rng.choice([1, 2])
volumes = [{"name": "main", "x": (-W / 2, W / 2), "y": (0.0, D), "base": 0.0,
            "storeys": main_storeys, "storey": storey, "cladding": "cladding-1"}]
upper_w, upper_d = rng.uniform(0.6, 0.95) * W, rng.uniform(0.7, 1.05) * D
upper_dx = rng.uniform(-(W - upper_w) / 2 - 2, (W - upper_w) / 2 + 2)
upper_dy = rng.uniform(-1.5, 0.5)
wing_w, wing_d, wing_side = rng.uniform(4, 8), rng.uniform(0.6, 1.0) * D, rng.choice([-1, 1])
wing_dy, wing_drop = rng.uniform(-1.5, 2.0), rng.uniform(0.3, 0.6)
main_h = 0.25 + main_storeys * storey
if layout == "stacked":
    base = main_h + roof_thick
    volumes.append({"name": "upper", "x": (upper_dx - upper_w / 2, upper_dx + upper_w / 2),
                    "y": (upper_dy, upper_dy + upper_d), "base": base, "storeys": 1,
                    "storey": storey, "cladding": "cladding-2"})
elif layout == "wing":
    x = (W / 2, W / 2 + wing_w) if wing_side > 0 else (-W / 2 - wing_w, -W / 2)
    # lower than the main volume, so that the two roofs never meet in one plane
    volumes.append({"name": "wing", "x": x, "y": (wing_dy, wing_dy + wing_d), "base": 0.0,
                    "storeys": 1, "storey": storey - wing_drop, "cladding": "cladding-2"})
for vol in volumes:
    vol["height"] = 0.25 + vol["storeys"] * vol["storey"]
record["house"] = {"layout": layout, "storey": storey, "wall": wall, "roof": roof_thick,
                   "overhang": overhang, "claddings": claddings, "volumes": volumes}

mats = {}
mats["cladding-1"] = photo_material("cladding-1", claddings[0])
if len(volumes) > 1:
    mats["cladding-2"] = photo_material("cladding-2", claddings[1])
mats["interior-wall"] = photo_material("interior-wall", "render")
mats["interior-floor"] = photo_material("interior-floor",
                                         R("interior:floor").choice(["deck", "stone"]))
rng = R("house:details")
frame_kind = rng.choices(["metal", "light-metal", "wood"], weights=[0.6, 0.2, 0.2])[0]
fascia_kind = rng.choice(["render", "concrete", "dark"])
mats["frame"] = photo_material("frame", frame_kind)
mats["fascia"] = photo_material("fascia", fascia_kind)
mats["roof"] = photo_material("roof", "gravel")
mats["sill"] = photo_material("sill", rng.choice(["metal", "stone", "concrete"]))
mats["furniture"] = photo_material("furniture", "fabric")
mats["glass"], _ = glass_material("glass", R("glass"), (1.45, 1.52), (0.0, 0.08))
frame_w, frame_d = rng.uniform(0.05, 0.09), rng.uniform(0.07, 0.12)
recess, panel = rng.uniform(0.05, 0.2), rng.uniform(0.9, 2.4)
record["house"]["windows"] = {"frame": frame_kind, "frame_width": frame_w,
                              "frame_depth": frame_d, "recess": recess, "panel": panel,
                              "fascia": fascia_kind}

parts = Parts()


def faces_of(vol):
    """The four faces of a volume: name, origin (x, y), unit along, unit inward, length."""
    (x0, x1), (y0, y1) = vol["x"], vol["y"]
    return [("front", (x0, y0), (1, 0), (0, 1), x1 - x0),
            ("right", (x1, y0), (0, 1), (-1, 0), y1 - y0),
            ("back", (x1, y1), (-1, 0), (0, -1), x1 - x0),
            ("left", (x0, y1), (0, -1), (1, 0), y1 - y0)]


def face_box(face, s0, s1, d0, d1, z0, z1):
    """A box given along a face (s), into it (d) and up (z), in world coordinates."""
    _, (ox, oy), (ux, uy), (nx, ny), _ = face
    xs = [ox + ux * s + nx * d for s in (s0, s1) for d in (d0, d1)]
    ys = [oy + uy * s + ny * d for s in (s0, s1) for d in (d0, d1)]
    return (min(xs), max(xs), min(ys), max(ys), z0, z1)


def touches(vol, face_name):
    """Whether another volume stands against this face (same plane, overlapping)."""
    (x0, x1), (y0, y1) = vol["x"], vol["y"]
    for other in volumes:
        if other is vol or other["base"] != vol["base"]:
            continue
        (a0, a1), (b0, b1) = other["x"], other["y"]
        if face_name == "right" and abs(a0 - x1) < 1e-6 and b0 < y1 and b1 > y0:
            return True
        if face_name == "left" and abs(a1 - x0) < 1e-6 and b0 < y1 and b1 > y0:
            return True
    return False


STYLES = {"front": (["glazed", "ribbon", "punched"], [0.55, 0.2, 0.25]),
          "right": (["glazed", "ribbon", "punched", "none"], [0.15, 0.2, 0.4, 0.25]),
          "left": (["glazed", "ribbon", "punched", "none"], [0.15, 0.2, 0.4, 0.25]),
          "back": (["glazed", "punched", "none"], [0.2, 0.4, 0.4])}


def openings(rng, style, length, clear):
    """The openings of one face and storey: (s0, s1, z0, z1), z above the storey's floor."""
    margin = 0.5
    free = length - 2 * margin
    if style == "none" or free < 1.0:
        return []
    if style == "glazed":
        w = rng.uniform(0.45, 0.92) * free
        s0 = margin + rng.uniform(0, free - w)
        return [(s0, s0 + w, 0.0, clear - rng.uniform(0.0, 0.3))]
    if style == "ribbon":
        w = rng.uniform(0.5, 0.95) * free
        s0 = margin + rng.uniform(0, free - w)
        return [(s0, s0 + w, rng.uniform(0.7, 1.0), clear - rng.uniform(0.1, 0.4))]
    w, h = rng.uniform(0.9, 2.2), rng.uniform(1.2, min(2.2, clear - 0.2))
    sill = rng.uniform(0.3, max(0.35, min(1.0, clear - h - 0.1)))
    n = max(1, min(4, int(free // (w + 0.8))))
    gap = (free - n * w) / (n + 1)
    return [(margin + gap + i * (w + gap), margin + gap + i * (w + gap) + w, sill, sill + h)
            for i in range(n)]


def window(face, s0, s1, z0, z1, has_sill):
    """Frame, mullions and glass panes of one opening, set `recess` behind the face."""
    d0, d1 = recess, recess + frame_d
    fw = frame_w
    parts.box("frame", *face_box(face, s0, s1, d0, d1, z0, z0 + fw))
    parts.box("frame", *face_box(face, s0, s1, d0, d1, z1 - fw, z1))
    n = max(1, math.ceil((s1 - s0) / panel))
    edges = [s0 + i * (s1 - s0) / n for i in range(n + 1)]
    for i, s in enumerate(edges):  # the jambs and mullions
        a = s if i == 0 else (s - fw if i == n else s - fw / 2)
        parts.box("frame", *face_box(face, a, a + fw, d0, d1, z0 + fw, z1 - fw))
    mid = (d0 + d1) / 2
    for i in range(n):
        a = edges[i] + (fw if i == 0 else fw / 2)
        b = edges[i + 1] - (fw if i == n - 1 else fw / 2)
        # 2 mm into the frame: no face of the glass in the plane of one of the frame's
        parts.box("glass", *face_box(face, a - 0.002, b + 0.002, mid - 0.01, mid + 0.01,
                                     z0 + fw - 0.002, z1 - fw + 0.002))
    if has_sill:
        parts.box("sill", *face_box(face, s0 - 0.03, s1 + 0.03, -0.05, recess + 0.01,
                                    z0 - 0.04, z0))


rooms = []
for vol in volumes:
    (x0, x1), (y0, y1), base, h = vol["x"], vol["y"], vol["base"], vol["height"]
    inner = (x0 + wall, x1 - wall, y0 + wall, y1 - wall, base + 0.25, base + h - 0.3)
    cutters, vol["openings"] = [], []
    for face in faces_of(vol):
        name, length = face[0], face[4]
        rng = R(f"windows:{vol['name']}:{name}")
        for k in range(vol["storeys"]):
            floor = base + 0.25 + k * vol["storey"]
            clear = vol["storey"] - 0.3
            style = rng.choices(*STYLES[name])[0]
            if touches(vol, name):
                style = "none"
            for s0, s1, z0, z1 in openings(rng, style, length, clear):
                cutters.append(face_box(face, s0, s1, -0.1, wall + 0.1, floor + z0, floor + z1))
                window(face, s0, s1, floor + z0, floor + z1, z0 > 0.1)
                vol["openings"].append({"face": name, "storey": k, "style": style,
                                        "at": [s0, s1, z0, z1]})
    shell(vol["name"], (x0, x1, y0, y1, base, base + h), inner, cutters,
          [mats[vol["cladding"]], mats["interior-wall"], mats["interior-floor"]])
    # the roof slab, overhanging but where another volume stands against it, and its gravel
    ol, orr = (0.0 if touches(vol, "left") else overhang), (0.0 if touches(vol, "right") else
                                                           overhang)
    vol["roof"] = [x0 - ol, x1 + orr, y0 - overhang, y1 + overhang]
    parts.box("fascia", x0 - ol, x1 + orr, y0 - overhang, y1 + overhang, base + h,
              base + h + roof_thick)
    parts.box("roof", x0 - ol + 0.15, x1 + orr - 0.15, y0 - overhang + 0.15,
              y1 + overhang - 0.15, base + h + roof_thick, base + h + roof_thick + 0.03)
    for k in range(vol["storeys"]):
        floor = base + 0.25 + k * vol["storey"]
        if k > 0:  # the slab between storeys, and its floor
            parts.box("interior-wall", *inner[:4], floor - 0.3, floor - 0.01)
            parts.box("interior-floor", *inner[:4], floor - 0.01, floor)
        rooms.append({"volume": vol["name"], "storey": k, "x": inner[:2], "y": inner[2:4],
                      "floor": floor, "ceiling": floor + vol["storey"] - 0.3})

# the rooms: furniture along the back wall; lamps at dusk
rng = R("interior")
lamp_kelvin, lamp_strength = rng.uniform(2700, 3500), rng.uniform(8.0, 25.0)
if mode == "dusk":
    mats["lamp"] = lamp_material("lamp", lamp_kelvin, lamp_strength)
for room in rooms:
    (x0, x1), (y0, y1), floor, ceiling = room["x"], room["y"], room["floor"], room["ceiling"]
    room["furniture"] = []
    for _ in range(rng.randint(1, 3)):
        w, d, h = rng.uniform(0.8, 2.6), rng.uniform(0.4, 1.0), rng.uniform(0.4, 2.0)
        w = min(w, x1 - x0 - 0.4)
        cx = rng.uniform(x0 + 0.2 + w / 2, x1 - 0.2 - w / 2)
        against = rng.random() < 0.6  # against the back wall, or free in the room
        cy = y1 - 0.05 - d / 2 if against else rng.uniform(y0 + (y1 - y0) * 0.4, y1 - d)
        parts.box("furniture", cx - w / 2, cx + w / 2, cy - d / 2, cy + d / 2, floor, floor + h)
        room["furniture"].append([cx, cy, w, d, h])
    n = max(1, min(4, round((x1 - x0) * (y1 - y0) / 15)))
    size = rng.uniform(0.4, 1.2)
    room["lamps"] = []
    for i in range(n):
        cx = x0 + (i + 0.5) * (x1 - x0) / n
        cy = rng.uniform(y0 + 0.3 * (y1 - y0), y1 - 0.3 * (y1 - y0))
        room["lamps"].append([cx, cy, size])
        if mode == "dusk":
            parts.box("lamp", cx - size / 2, cx + size / 2, cy - size / 4, cy + size / 4,
                      ceiling - 0.03, ceiling - 0.005)
record["interior"] = {"rooms": rooms, "lamps_on": mode == "dusk", "kelvin": lamp_kelvin,
                      "strength": lamp_strength}

# the house's extent, for the camera and the site
bx0 = min(v["roof"][0] for v in volumes)
bx1 = max(v["roof"][1] for v in volumes)
by0 = min(v["roof"][2] for v in volumes)
by1 = max(v["roof"][3] for v in volumes)
btop = max(v["base"] + v["height"] for v in volumes) + roof_thick + 0.03
corners = [(x, y, z) for x in (bx0, bx1) for y in (by0, by1) for z in (0.0, btop)]


# ---- the camera
def project(points, loc, rot, lens):
    """Points in the image, in units of its width, from its centre (x right, y up); None when
    one is behind the camera."""
    mt = Euler(rot).to_matrix().transposed()
    out = []
    for p in points:
        q = mt @ (Vector(p) - Vector(loc))
        if -q.z < 0.2:
            return None
        out.append((lens / 36 * q.x / -q.z, lens / 36 * q.y / -q.z))
    return out


rng = R("camera")
W_img, H_img = args["width"], args["height"]
hh = 0.5 * H_img / W_img
high = rng.random() < 0.15
frontal = rng.random() < 0.3
theta = math.radians(rng.uniform(-15, 15) if frontal else rng.choice([-1, 1]) * rng.uniform(20, 60))
lens, fill = rng.uniform(20, 35), rng.uniform(0.55, 0.85)
eye = rng.uniform(5.0, 12.0) if high else rng.uniform(1.5, 1.8)
top_margin, horizon = rng.uniform(0.08, 0.25), rng.uniform(0.28, 0.45)
cx, cy, cz = (bx0 + bx1) / 2, (by0 + by1) / 2, btop / 2


def pose(dist):
    loc = (cx + dist * math.sin(theta), cy - dist * math.cos(theta), eye)
    tilt = math.atan2(eye - cz, dist) if high else 0.0
    return loc, (math.pi / 2 - tilt, 0.0, theta)


def extent(dist):
    pts = project(corners, *pose(dist), lens)
    if pts is None:
        return float("inf")
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return max(max(xs) - min(xs), (max(ys) - min(ys)) / (2 * hh) if high else 0.0)


lo, hi = 1.0, 400.0
for _ in range(60):  # the distance where the house fills `fill` of the frame
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if extent(mid) > fill else (lo, mid)
dist = hi
for _ in range(40):  # eye level: shift so that the top sits below the frame's top, foot in frame
    loc, rot = pose(dist)
    pts = project(corners, loc, rot, lens)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    shift_x = (min(xs) + max(xs)) / 2
    if high:  # tilted at the house's middle: no vertical shift
        shift_y = 0.0
        break
    # the horizon `horizon` of the way up, or lower to keep the top `top_margin` below the
    # frame's top; the house's foot in frame
    shift_y = max(hh * (1 - 2 * horizon), max(ys) - hh + top_margin * 2 * hh)
    shift_y = max(0.0, min(shift_y, min(ys) + hh - 0.1 * hh))
    if max(ys) <= shift_y + hh - 0.02 * hh:
        break
    dist *= 1.05
cam_data = bpy.data.cameras.new("camera")
cam_data.lens, cam_data.sensor_width, cam_data.sensor_fit = lens, 36.0, "HORIZONTAL"
cam_data.shift_x, cam_data.shift_y = shift_x, shift_y
cam_data.clip_start, cam_data.clip_end = 0.1, 3000.0
cam = bpy.data.objects.new("camera", cam_data)
cam.location, cam.rotation_euler = loc, rot
bpy.context.collection.objects.link(cam)
scene.camera = cam
record["camera"] = {"view": "high" if high else "eye", "location": list(loc),
                    "rotation": list(rot), "lens": lens, "shift": [shift_x, shift_y],
                    "azimuth": math.degrees(theta), "distance": dist, "fill": fill}


def hull(points):
    """The convex hull of 2-D points (monotone chain), anticlockwise."""
    pts = sorted(set(points))
    def half(seq):
        out = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1]) -
                                     (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out
    lower, upper = half(pts), half(reversed(pts))
    return lower[:-1] + upper[:-1]


VIEW = hull([(loc[0], loc[1])] + [(c[0], c[1]) for c in corners])


def in_view(x, y, margin):
    """Whether (x, y) lies within `margin` of the wedge from the camera to the house."""
    inside, near = True, False
    for (ax, ay), (bx, by) in zip(VIEW, VIEW[1:] + VIEW[:1]):
        ex, ey = bx - ax, by - ay
        if ex * (y - ay) - ey * (x - ax) < 0:
            inside = False
        t = max(0.0, min(1.0, ((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey)))
        if math.hypot(ax + t * ex - x, ay + t * ey - y) < margin:
            near = True
    return inside or near


# ---- the site
rng = R("site")
terrace_kind = rng.choice(["paving", "deck"])
terrace_depth, terrace_h = rng.uniform(3.0, 6.0), rng.uniform(0.05, 0.2)
mx0, mx1 = volumes[0]["x"]
t_len = rng.uniform(0.6, 1.0) * (mx1 - mx0)
t_x0 = rng.uniform(mx0, mx1 - t_len)
terrace = (t_x0, t_x0 + t_len, -terrace_depth, 0.0)
pool_wanted = rng.random() < 0.5
pool_l, pool_w, pool_gap = rng.uniform(6, 12), rng.uniform(3, 5), rng.uniform(0.5, 3.0)
pool_x = rng.uniform(-W / 2, W / 2)
coping = rng.uniform(0.3, 0.5)
boundary = rng.choice(["hedge", "wall", "fence"])
side_gap, back_gap = rng.uniform(4, 10), rng.uniform(4, 10)
hedge_h, wall_h, fence_h = rng.uniform(1.2, 2.0), rng.uniform(0.6, 1.2), rng.uniform(1.2, 1.8)
pool = None
if pool_wanted:
    y1 = -terrace_depth - pool_gap
    rect = (pool_x - pool_l / 2, pool_x + pool_l / 2, y1 - pool_w, y1)
    outer = (rect[0] - coping, rect[1] + coping, rect[2] - coping, rect[3] + coping)
    if not (outer[0] - 1 < loc[0] < outer[1] + 1 and outer[2] - 1 < loc[1] < outer[3] + 1):
        pool = {"rect": list(rect), "coping": coping, "depth": 1.4, "water": -0.12}
record["site"] = {"terrace": {"kind": terrace_kind, "rect": list(terrace), "height": terrace_h},
                  "pool": pool, "boundary": boundary}

mats["lawn"] = photo_material("lawn", "lawn")
mats["terrace"] = photo_material("terrace", terrace_kind)
EXTENT = 500.0
if pool is None:
    parts.box("lawn", -EXTENT, EXTENT, -EXTENT, EXTENT, -0.5, 0.0)
else:
    (px0, px1, py0, py1), c = pool["rect"], coping
    ox0, ox1, oy0, oy1 = px0 - c, px1 + c, py0 - c, py1 + c
    parts.box("lawn", -EXTENT, ox0, -EXTENT, EXTENT, -0.5, 0.0)
    parts.box("lawn", ox1, EXTENT, -EXTENT, EXTENT, -0.5, 0.0)
    parts.box("lawn", ox0, ox1, -EXTENT, oy0, -0.5, 0.0)
    parts.box("lawn", ox0, ox1, oy1, EXTENT, -0.5, 0.0)
    mats["coping"] = photo_material("coping", "paving")
    for b in ((ox0, px0, oy0, oy1), (px1, ox1, oy0, oy1), (px0, px1, oy0, py0),
              (px0, px1, py1, oy1)):
        parts.box("coping", *b, -0.2, 0.04)
    mats["pool-tile"] = photo_material("pool-tile", "tile")
    depth, t = pool["depth"], 0.2
    parts.box("pool-tile", px0, px1, py0, py1, -depth - t, -depth)
    for b in ((px0 - t, px0, py0 - t, py1 + t), (px1, px1 + t, py0 - t, py1 + t),
              (px0, px1, py0 - t, py0), (px0, px1, py1, py1 + t)):
        parts.box("pool-tile", *b, -depth - t, -0.2)
    water, water_rec = glass_material("water", R("water"), (1.33, 1.33), (0.05, 0.25))
    mats["water"] = water
    # the ripples: a photograph's luminance as the water's bump
    wr = R("water:bump")
    photo, wtile, wstrength = wr.choice(PHOTOS), wr.uniform(1.5, 4.0), wr.uniform(0.05, 0.2)
    tex = _blender.photo_texture(water, photo, 1 / wtile, wr.uniform(0, math.pi), 0.25)
    _blender.bump(water, tex.outputs["Color"], wstrength, 0.02)
    water_rec.update({"photo": photo, "tile": wtile, "bump": wstrength})
    # 1 mm into the basin's walls and floor: the tiles' faces lie in the water, none in its own
    parts.box("water", px0 - 0.001, px1 + 0.001, py0 - 0.001, py1 + 0.001, -depth - 0.001,
              pool["water"])
parts.box("terrace", terrace[0], terrace[1], terrace[2], terrace[3], -0.1, terrace_h)

# the boundary: 2 m pieces along the plot's back and sides, each side from the back corner
# forward to the first piece that would stand in the camera's view of the house (or near it)
Xb0, Xb1, Yb = bx0 - side_gap, bx1 + side_gap, by1 + back_gap
front_y = by0 - rng.uniform(0.0, 4.0)  # the sides run to beside the house's front
mats["boundary"] = photo_material("boundary", {"hedge": "foliage", "wall":
                                               rng.choice(["render", "stone"]),
                                               "fence": "wood"}[boundary])
# half the thickness: the sides start where the back's pieces end, so that no two overlap
half, high = {"hedge": (0.4, hedge_h), "wall": (0.12, wall_h), "fence": (0.02, fence_h)}[boundary]
pieces = []
for (ax, ay), (bx, by) in (((Xb0, Yb - half), (Xb0, front_y)), ((Xb0, Yb), (Xb1, Yb)),
                           ((Xb1, Yb - half), (Xb1, front_y))):
    n = max(1, round(math.hypot(bx - ax, by - ay) / 2.0))
    for i in range(n):
        x0, y0 = ax + (bx - ax) * i / n, ay + (by - ay) * i / n
        x1, y1 = ax + (bx - ax) * (i + 1) / n, ay + (by - ay) * (i + 1) / n
        mxp, myp = (x0 + x1) / 2, (y0 + y1) / 2
        if in_view(mxp, myp, 1.0) or math.hypot(mxp - loc[0], myp - loc[1]) < 6.0:
            break
        pieces.append((x0, y0, x1, y1))
for x0, y0, x1, y1 in pieces:
    tx, ty = (0.0, half) if abs(x1 - x0) > abs(y1 - y0) else (half, 0.0)
    if boundary != "fence":  # a hedge or a wall: one block a piece
        parts.box("boundary", x0 - tx, x1 + tx, y0 - ty, y1 + ty, 0.0, high)
        continue
    for j in range(13):  # a slatted fence: slats 9 cm wide every 15 cm along a 2 m piece
        a, b = j * 0.075, j * 0.075 + 0.045
        parts.box("boundary", x0 + (x1 - x0) * a - tx, x0 + (x1 - x0) * b + tx,
                  y0 + (y1 - y0) * a - ty, y0 + (y1 - y0) * b + ty, 0.0, high)
record["site"]["boundary_pieces"] = len(pieces)
record["site"]["plot"] = [Xb0, Xb1, front_y, Yb]

# ---- plants
rng = R("plants")
mats["foliage"] = photo_material("foliage", "foliage")
mats["bark"] = photo_material("bark", "bark")
mats["shrub"] = photo_material("shrub", "foliage")
flat = [terrace] + ([(pool["rect"][0] - coping, pool["rect"][1] + coping,
                      pool["rect"][2] - coping, pool["rect"][3] + coping)] if pool else [])


def clear_of(x, y, r):
    """Whether a plant of radius r at (x, y) keeps off the house, terrace, pool and camera."""
    if bx0 - r - 0.5 < x < bx1 + r + 0.5 and by0 - r - 0.5 < y < by1 + r + 0.5:
        return False
    if any(a - r < x < b + r and c - r < y < d + r for a, b, c, d in flat):
        return False
    return math.hypot(x - loc[0], y - loc[1]) > r + 3.0


trees = []
plot_n, beyond_n = rng.randint(2, 6), rng.randint(3, 8)
for i in range(plot_n + beyond_n):
    kind = "conifer" if rng.random() < 0.3 else "broadleaf"
    height, crown = rng.uniform(5, 12), rng.uniform(1.2, 3.0)
    for _ in range(60):
        if i < plot_n:
            x, y = rng.uniform(Xb0 + 1, Xb1 - 1), rng.uniform(front_y, Yb - 1)
        else:
            x, y = rng.uniform(Xb0 - 20, Xb1 + 20), rng.uniform(Yb + 2, Yb + 30)
        if clear_of(x, y, crown) and not in_view(x, y, crown + 0.5):
            break
    else:
        continue
    trunk_r = rng.uniform(0.1, 0.25)
    if kind == "conifer":
        parts.cone("bark", (x, y, 0.0), trunk_r, trunk_r * 0.6, height * 0.3)
        parts.cone("foliage", (x, y, height * 0.15), crown, 0.05, height * 0.85, segments=12)
    else:
        trunk = height * rng.uniform(0.35, 0.5)
        parts.cone("bark", (x, y, 0.0), trunk_r, trunk_r * 0.6, trunk + crown * 0.5)
        for _ in range(rng.randint(3, 6)):
            r = crown * rng.uniform(0.5, 0.8)
            c = (x + rng.uniform(-0.5, 0.5) * crown, y + rng.uniform(-0.5, 0.5) * crown,
                 trunk + rng.uniform(0.3, 1.0) * (height - trunk - r))
            parts.sphere("foliage", c, (r, r, r * rng.uniform(0.8, 1.1)), rng, 0.12)
    trees.append({"kind": kind, "at": [x, y], "height": height, "crown": crown})
shrubs = []
for _ in range(rng.randint(3, 10)):
    r, h = rng.uniform(0.3, 0.7), rng.uniform(0.4, 1.0)
    face = rng.choice(["front", "left", "right"])
    for _ in range(30):
        if face == "front":
            x, y = rng.uniform(bx0, bx1), by0 - rng.uniform(0.6, 1.5)
        else:
            x = (bx0 - rng.uniform(0.6, 1.5)) if face == "left" else (bx1 + rng.uniform(0.6, 1.5))
            y = rng.uniform(by0, by1)
        if clear_of(x, y, r) and (h < 0.8 or not in_view(x, y, r)):
            break
    else:
        continue
    parts.sphere("shrub", (x, y, h * 0.45), (r, r, h * 0.55), rng, 0.15)
    shrubs.append({"at": [x, y], "radius": r, "height": h})
record["plants"] = {"trees": trees, "shrubs": shrubs}

parts.build(mats)
_blender.finish(scene, args, record)
