"""The steps after the render (issue 27): a denoiser, lens and film effects, camera-like output.

    /usr/bin/python3 tasks/production/post.py JOBS.json

JOBS.json is a list of jobs, each {"in": an image, "out": where to write it, "seed": an integer,
"steps": the steps to apply}. A step is applied at a random strength drawn from its own seeded
stream (the same draw whichever other steps run, so that an ablation changes only its step).
"steps" is either a list of step names (each applied), "production": the denoiser and the camera
step always, each lens and film effect with probability one half (drawn from its own stream too),
"interior": the finish of render_interior.py's renders, whose denoiser and lens effects ran in
Blender's compositor: `sharpen` with probability one half, then `camera-pil`; or "studio": the
finish of render_studio.py's renders: `smooth` always, `ca`, `vignette` and `grain` each with
probability one half, then `camera`; or "exterior" (render_exterior.py's): `denoise` always,
`glare` and `vignette` each with probability one half, then `camera-pil`; or "landscape"
(render_landscape.py's): `bilateral` always, `distortion`, `glare` and `grain` each with
probability one half, then `camera-cubic`; or "archviz" (render_archviz.py's): `guided` always,
`ca`, `vignette` and `glare` each with probability one half, then `camera-sharp`; or "night"
(render_night.py's, a film's or a game's frame at night): `denoise` and `glare` always (the
lights' bloom), `distortion`, `ca`, `vignette` and `grain` each with probability one half, then
`camera`; or "campsite" (render_campsite.py's, a campfire at night as a phone or a camera at high
ISO takes it): `guided` always, `glare`, `grain`, `vignette` and `distortion` each with
probability one half, then `camera-pil`.
Beside each output, `<out>.json` records what was applied and at which strength.

The steps, in the order they run:

- `denoise`: OpenCV's non-local means (`fastNlMeansDenoisingColored`, h 3-10). It stands in for
  OpenImageDenoise, which Debian's Blender does not have: a classical denoiser, not a learned one;
- `smooth`: another classical denoiser, for render_studio.py's renders: OpenCV's domain-transform
  edge-preserving filter (`edgePreservingFilter`, recursive; sigma_s 5-30, sigma_r 0.04-0.12);
- `bilateral`: a third classical denoiser, for render_landscape.py's renders: OpenCV's bilateral
  filter (`bilateralFilter`; diameter 5-9 px, sigma colour 12-40 levels, sigma space 2-6 px);
- `guided`: a fourth classical denoiser, for render_archviz.py's renders, standing in for
  OpenImageDenoise as the others do (not a learned denoiser): fireflies first (a pixel whose
  luminance exceeds its 3x3 median's by more than 20-50 levels takes the median's colour), then
  He et al.'s guided filter on each channel, guided by the luminance of a median-filtered copy
  (3x3 or 5x5: the image's edges without its noise; box radius 2-4 px, eps 0.001-0.008 on 0-1
  values): edges kept, flat areas and colour noise smoothed (OpenCV's box filters, float64);
- `distortion`: radial lens distortion (barrel or pincushion, k1 in +-0.08, bilinear remap);
- `ca`: lateral chromatic aberration (red and blue scaled about the centre by 1 +- 0.1-0.4 %);
- `glare`: bloom: the highlights above a threshold (0.7-0.9), blurred (sigma 1-3 % of the width)
  and added back (strength 0.15-0.6);
- `vignette`: the corners darkened by 10-40 % (a cos^4-like falloff);
- `grain`: film grain: Gaussian noise (sigma 1.5-5 levels), slightly blurred, stronger in the
  shadows, shared by the channels up to a random share of colour noise;
- `sharpen`: an unsharp mask (PIL's: radius 0.6-1.5 px, 40-120 %, threshold 0-3 levels);
- `camera`: resizing to 55-100 % (area filter) and JPEG at quality 70-95 (4:2:0, OpenCV's
  libjpeg-turbo); the camera steps are the only ones with lossy output, so the output is `.jpg`
  when one runs (one at most), and a camera step ends the chain.
  Photographs go through the same step (same draws) when a protocol asks both classes to;
- `camera-pil`: another camera's output, by another library: resizing to 50-100 % with PIL's
  Lanczos filter and JPEG by PIL at quality 72-96 with chroma subsampling 4:4:4, 4:2:2 or 4:2:0
  (one third each), optimised Huffman tables;
- `camera-cubic`: a third camera: resizing to 40-95 % with OpenCV's bicubic filter, then a
  progressive JPEG by PIL at quality 75-95, 4:2:0;
- `camera-sharp`: a fourth camera, one that sharpens in the camera: a Gaussian anti-alias blur
  (sigma 0.35/scale px) and resizing to 45-90 % with OpenCV's bilinear filter, an unsharp mask
  (sigma 0.7-1.4 px, amount 0.2-0.7), then JPEG by OpenCV at quality 80-97 (4:2:0, optimised
  Huffman tables).

Pixels are floats from 8-bit sRGB input (float64; the remaps in float32), rounded to 8 bits for
the denoisers that take 8 bits (`denoise`, `smooth`, `bilateral`, `guided`'s medians) and at the
end; OpenCV runs on one thread. The same job gives the same bytes on the same machine (tested).
"""

import json
import random
import sys

import io

import cv2
import numpy as np
from PIL import Image, ImageFilter

cv2.setNumThreads(1)

EFFECTS = ["distortion", "ca", "glare", "vignette", "grain"]
STEPS = ["denoise", "smooth", "bilateral", "guided", *EFFECTS, "sharpen", "camera", "camera-pil",
         "camera-cubic", "camera-sharp"]
# The recipes a job may name as its "steps": the steps that always run first, the effects each
# applied with probability one half (drawn from its own stream, "<prefix><effect>:on"), and the
# camera step that ends it.
CHAINS = {
    "production": (["denoise"], EFFECTS, "", "camera"),
    "interior": ([], ["sharpen"], "", "camera-pil"),
    "studio": (["smooth"], ["ca", "vignette", "grain"], "studio:", "camera"),
    "exterior": (["denoise"], ["glare", "vignette"], "exterior:", "camera-pil"),
    "landscape": (["bilateral"], ["distortion", "glare", "grain"], "landscape:", "camera-cubic"),
    "archviz": (["guided"], ["ca", "vignette", "glare"], "archviz:", "camera-sharp"),
    "night": (["denoise", "glare"], ["distortion", "ca", "vignette", "grain"], "night:", "camera"),
    "campsite": (["guided"], ["glare", "grain", "vignette", "distortion"], "campsite:",
                 "camera-pil"),
}
CAMERAS = {"camera", "camera-pil", "camera-cubic", "camera-sharp"}


def to_u8(img):
    """Float pixels rounded and clipped to 8 bits."""
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def scaled_size(w, h, scale):
    """(width, height) of an image of w x h resized by `scale`, at least one pixel each."""
    return max(1, round(w * scale)), max(1, round(h * scale))


def stream(seed, step):
    """The seeded random stream of one step ("post:" keeps them apart from render.py's streams of
    the same seed, such as its "camera")."""
    return random.Random(f"post:{seed}:{step}")


def denoise(img, rng):
    h = rng.uniform(3, 10)
    u8 = to_u8(img)
    out = cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21)
    return out.astype(np.float64), {"h": h}


def smooth(img, rng):
    sigma_s, sigma_r = rng.uniform(5, 30), rng.uniform(0.04, 0.12)
    u8 = to_u8(img)
    out = cv2.edgePreservingFilter(u8, flags=cv2.RECURS_FILTER, sigma_s=sigma_s, sigma_r=sigma_r)
    return out.astype(np.float64), {"sigma_s": sigma_s, "sigma_r": sigma_r}


def bilateral(img, rng):
    d, sigma_colour, sigma_space = rng.choice([5, 7, 9]), rng.uniform(12, 40), rng.uniform(2, 6)
    u8 = to_u8(img)
    out = cv2.bilateralFilter(u8, d, sigma_colour, sigma_space)
    return out.astype(np.float64), {"d": d, "sigma_colour": sigma_colour,
                                    "sigma_space": sigma_space}


def guided(img, rng):
    threshold, radius, eps = rng.uniform(20, 50), rng.randint(2, 4), rng.uniform(0.001, 0.008)
    window = rng.choice([3, 5])
    weights = np.array([0.114, 0.587, 0.299])  # OpenCV's order: B, G, R
    u8 = to_u8(img)
    median = cv2.medianBlur(u8, 3).astype(np.float64)
    hot = img @ weights - median @ weights > threshold
    x = np.where(hot[..., None], median, img) / 255
    # the guide: the luminance of a wider median, whose edges are the image's and not its noise
    smooth_u8 = to_u8(255 * x)
    guide = cv2.medianBlur(smooth_u8, window).astype(np.float64) @ weights / 255
    size = (2 * radius + 1, 2 * radius + 1)

    def box(a):
        return cv2.boxFilter(a, cv2.CV_64F, size, normalize=True, borderType=cv2.BORDER_REFLECT)

    mean_i = box(guide)
    var_i = box(guide * guide) - mean_i * mean_i
    out = np.empty_like(x)
    for c in range(3):
        p = x[..., c]
        mean_p = box(p)
        a = (box(guide * p) - mean_i * mean_p) / (var_i + eps)
        b = mean_p - a * mean_i
        out[..., c] = box(a) * guide + box(b)
    return 255 * out, {"threshold": threshold, "radius": radius, "eps": eps, "median": window,
                       "fireflies": int(hot.sum())}


def remap(img, fx, fy):
    return cv2.remap(img.astype(np.float32), fx.astype(np.float32), fy.astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(np.float64)


def grid(img):
    h, w = img.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    cx, cy, r = (w - 1) / 2, (h - 1) / 2, np.hypot(w, h) / 2
    return (x - cx) / r, (y - cy) / r, cx, cy, r


def distortion(img, rng):
    k1 = rng.uniform(-0.08, 0.08)
    u, v, cx, cy, r = grid(img)
    f = 1 + k1 * (u * u + v * v)
    return remap(img, cx + u * f * r, cy + v * f * r), {"k1": k1}


def ca(img, rng):
    s = rng.uniform(0.001, 0.004) * rng.choice([-1, 1])
    u, v, cx, cy, r = grid(img)
    out = img.copy()
    for c, k in ((2, 1 + s), (0, 1 - s)):  # OpenCV's order: B, G, R
        out[..., c] = remap(img[..., c], cx + u * k * r, cy + v * k * r)
    return out, {"scale": s}


def glare(img, rng):
    t, strength, sigma = rng.uniform(0.7, 0.9), rng.uniform(0.15, 0.6), rng.uniform(0.01, 0.03)
    bright = np.clip(img / 255 - t, 0, None) / (1 - t)
    halo = cv2.GaussianBlur(bright, (0, 0), sigma * img.shape[1])
    return img + 255 * strength * halo, {"threshold": t, "strength": strength, "sigma": sigma}


def vignette(img, rng):
    amount = rng.uniform(0.1, 0.4)
    u, v, *_ = grid(img)
    fall = 1 - amount * np.clip(u * u + v * v, 0, 1) ** 1.5
    return img * fall[..., None], {"amount": amount}


def grain(img, rng):
    sigma, colour = rng.uniform(1.5, 5), rng.uniform(0, 0.5)
    gen = np.random.default_rng(rng.getrandbits(64))
    h, w = img.shape[:2]
    mono = gen.standard_normal((h, w))
    rgb = gen.standard_normal((h, w, 3))
    noise = (1 - colour) * mono[..., None] + colour * rgb
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
    noise /= noise.std() + 1e-12
    shadows = 1.5 - img.mean(axis=2, keepdims=True) / 255
    return img + sigma * shadows * noise, {"sigma": sigma, "colour": colour}


def camera(img, rng):
    scale, quality = rng.uniform(0.55, 1.0), rng.randint(70, 95)
    h, w = img.shape[:2]
    size = scaled_size(w, h, scale)
    u8 = to_u8(img)
    if size != (w, h):
        u8 = cv2.resize(u8, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf, {"scale": scale, "quality": quality, "size": list(size)}


def pil(img):
    """8-bit BGR floats as a PIL image (RGB)."""
    return Image.fromarray(to_u8(img)[..., ::-1].copy())


def sharpen(img, rng):
    radius, percent, threshold = rng.uniform(0.6, 1.5), rng.randint(40, 120), rng.randint(0, 3)
    out = pil(img).filter(ImageFilter.UnsharpMask(radius, percent, threshold))
    return np.asarray(out)[..., ::-1].astype(np.float64), {
        "radius": radius, "percent": percent, "threshold": threshold}


def camera_pil(img, rng):
    scale, quality = rng.uniform(0.5, 1.0), rng.randint(72, 96)
    subsampling = rng.choice([0, 1, 2])  # PIL's 4:4:4, 4:2:2, 4:2:0
    im = pil(img)
    size = scaled_size(im.width, im.height, scale)
    if size != im.size:
        im = im.resize(size, Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, subsampling=subsampling, optimize=True)
    return np.frombuffer(buf.getvalue(), np.uint8), {
        "scale": scale, "quality": quality, "subsampling": subsampling, "size": list(size)}


def camera_cubic(img, rng):
    scale, quality = rng.uniform(0.4, 0.95), rng.randint(75, 95)
    h, w = img.shape[:2]
    size = scaled_size(w, h, scale)
    u8 = to_u8(img)
    u8 = cv2.resize(u8, size, interpolation=cv2.INTER_CUBIC)
    buf = io.BytesIO()
    pil(u8.astype(np.float64)).save(buf, "JPEG", quality=quality, subsampling=2, progressive=True)
    return np.frombuffer(buf.getvalue(), np.uint8), {
        "scale": scale, "quality": quality, "size": list(size)}


def camera_sharp(img, rng):
    scale, quality = rng.uniform(0.45, 0.9), rng.randint(80, 97)
    sigma, amount = rng.uniform(0.7, 1.4), rng.uniform(0.2, 0.7)
    h, w = img.shape[:2]
    size = scaled_size(w, h, scale)
    small = cv2.GaussianBlur(img, (0, 0), 0.35 / scale)
    small = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    small = small + amount * (small - cv2.GaussianBlur(small, (0, 0), sigma))
    u8 = to_u8(small)
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, quality,
                                        cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    assert ok
    return buf, {"scale": scale, "quality": quality, "sigma": sigma, "amount": amount,
                 "size": list(size)}


CAMERA = {"camera": camera, "camera-pil": camera_pil, "camera-cubic": camera_cubic,
          "camera-sharp": camera_sharp}
EFFECT = {"denoise": denoise, "smooth": smooth, "bilateral": bilateral, "guided": guided,
          "sharpen": sharpen, "distortion": distortion, "ca": ca, "glare": glare,
          "vignette": vignette, "grain": grain}


def chosen(job):
    """The steps a job applies, in order."""
    steps = job["steps"]
    if isinstance(steps, str):
        if steps not in CHAINS:
            raise SystemExit(f"{job['out']}: unknown recipe {steps} (known: {list(CHAINS)})")
        first, effects, prefix, camera = CHAINS[steps]
        on = [s for s in effects if stream(job["seed"], f"{prefix}{s}:on").random() < 0.5]
        return [*first, *on, camera]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise SystemExit(f"{job['out']}: unknown steps {unknown} (known: {STEPS})")
    if len(CAMERAS & set(steps)) > 1:
        raise SystemExit(f"{job['out']}: one camera step at most, not {sorted(CAMERAS & set(steps))}")
    return [s for s in STEPS if s in steps]


def run(job):
    img = cv2.imread(job["in"], cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"{job['in']}: cannot read this image")
    img = img.astype(np.float64)
    steps = chosen(job)
    record = {"in": job["in"], "seed": job["seed"], "order": steps, "steps": {}}
    wants_jpeg = job["out"].lower().endswith((".jpg", ".jpeg"))
    if bool(CAMERAS & set(steps)) != wants_jpeg:
        raise SystemExit(f"{job['out']}: JPEG output exactly when a camera step runs")
    for step in steps:
        if step in CAMERAS:
            buf, params = CAMERA[step](img, stream(job["seed"], step))
            record["steps"][step] = params
            with open(job["out"], "wb") as f:
                f.write(buf.tobytes())
            break
        img, params = EFFECT[step](img, stream(job["seed"], step))
        record["steps"][step] = params
    else:
        u8 = to_u8(img)
        if not cv2.imwrite(job["out"], u8, [cv2.IMWRITE_PNG_COMPRESSION, 6]):
            raise SystemExit(f"{job['out']}: cannot write")
    with open(job["out"] + ".json", "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for i, job in enumerate(jobs):
        run(job)
        if (i + 1) % 50 == 0:
            print(f"post: {i + 1}/{len(jobs)}", file=sys.stderr, flush=True)
