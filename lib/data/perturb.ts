/**
 * Image perturbations: JPEG (or WebP) re-compression, Gaussian blur, resizing and additive noise.
 * The same kernels serve four purposes:
 *
 * - **matching compression** (`--match-compression Q`): every image of every class is re-encoded
 *   once as JPEG quality Q before anything else, so "has JPEG history" no longer tells the
 *   classes apart (cgbench's photographs went through JPEG, its renders never did);
 * - **augmentation** while training the map (`--augment jpeg,blur,resize,noise`), applied to
 *   both classes alike;
 * - **the robustness grid** (`deno task robustness`): every test image perturbed the same way;
 * - **processed copies** of the photographs in leave-one-source-out (`loso --set
 *   natural-copies=SPEC`), strengths drawn per image from ranges (`long:400..1600+jpeg:50..95`).
 *
 * The JPEG round trip is libjpeg-turbo's (baseline, 4:4:4, the standard tables scaled to the
 * quality, its default `islow` DCT): libvips does it where it loads, `_jpeg.ts` reproduces it
 * bit for bit without the bytes elsewhere, so a re-encoded image is exactly what the toolkit
 * would read from a file libjpeg-turbo saved at that quality, on either decoding path. WebP
 * (`webp:Q`) is libwebp's through libvips only: the strict sandbox has no WebP encoder.
 *
 * Blur and resize are separable: a 1-D kernel along rows, then along columns, with edges
 * clamped. Resizing is antialiased: when shrinking, the triangle (bilinear) kernel is widened by
 * the shrink factor, as Pillow's `BILINEAR` filter does.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import { jpegRoundTrip444 } from "./_jpeg.ts";
import { loadSharp, vipsJpegRoundTrip, vipsUnavailable, vipsWebpRoundTrip } from "./_vips.ts";
import { activeDecoder, type DecoderName } from "./decode.ts";
import type { RgbImage } from "./image.ts";

/**
 * Re-encodes an image as JPEG at `quality` (1..100) and decodes it again (libjpeg-turbo's
 * pixels on either decoding path; `decoder` as in `decodeImage`).
 *
 * @example An image as saved at JPEG quality 75
 * ```ts
 * import { jpegRoundTrip, readImage } from "./mod.ts";
 * const img = await readImage("dataset/Cycles/cycles_00000.png");
 * const jpeg = await jpegRoundTrip(img, 75);
 * console.log(jpeg.width === img.width, jpeg.data.some((v, i) => v !== img.data[i])); // true true
 * ```
 */
export async function jpegRoundTrip(
  img: RgbImage,
  quality: number,
  decoder?: DecoderName,
): Promise<RgbImage> {
  const q = Math.round(quality);
  if ((await activeDecoder(decoder)) === "libvips") return await vipsJpegRoundTrip(img, q);
  return {
    width: img.width,
    height: img.height,
    data: jpegRoundTrip444(img.data, img.width, img.height, q),
  };
}

/**
 * Re-encodes an image as lossy WebP at `quality` (1..100; libwebp through libvips, its other
 * settings libvips' defaults) and decodes it again. Needs libvips: the strict sandbox's
 * WebAssembly path has no WebP encoder, and says so.
 *
 * @example An image as a web page would serve it
 * ```ts
 * import { readImage, webpRoundTrip } from "./mod.ts";
 * const img = await readImage("dataset/Cycles/cycles_00000.png");
 * const webp = await webpRoundTrip(img, 75);
 * console.log(webp.width === img.width, webp.data.some((v, i) => v !== img.data[i])); // true true
 * ```
 */
export async function webpRoundTrip(
  img: RgbImage,
  quality: number,
  decoder?: DecoderName,
): Promise<RgbImage> {
  await checkPerturbation([{ kind: "webp", quality }], decoder);
  return await vipsWebpRoundTrip(img, Math.round(quality));
}

/**
 * Throws before any work when a perturbation cannot run here: a `webp` step without libvips (the
 * WebAssembly path, the strict sandbox's, has no WebP encoder). Every other step runs anywhere.
 *
 * @example Checked up front
 * ```ts
 * import { checkPerturbation, parsePerturbation } from "./mod.ts";
 * await checkPerturbation(parsePerturbation("long:400..1600+jpeg:50..95"), "wasm"); // runs anywhere
 * await checkPerturbation(parsePerturbation("webp:75"), "wasm").catch((e) => console.log(e.name));
 * ```
 */
export async function checkPerturbation(p: Perturbation, decoder?: DecoderName): Promise<void> {
  if (!p.some((s) => s.kind === "webp")) return;
  if ((await activeDecoder(decoder)) === "libvips") return;
  const why = (await loadSharp()) ? "the WebAssembly decoder was chosen" : vipsUnavailable();
  throw new UsageError(
    `webp:Q re-encodes with libvips, which is not in use here (${why}): the WebAssembly path ` +
      "(the strict sandbox's) has no WebP encoder",
  );
}

/** Applies a 1-D kernel (centred, odd length) along rows or columns, edges clamped. */
function convolve1d(img: RgbImage, k: Float32Array, alongRows: boolean): RgbImage {
  const { width: w, height: h } = img;
  const r = (k.length - 1) / 2;
  const src = img.data, out = new Float32Array(src.length);
  const stepIn = alongRows ? 3 : 3 * w, len = alongRows ? w : h, lines = alongRows ? h : w;
  for (let line = 0; line < lines; line++) {
    const base = alongRows ? line * w * 3 : line * 3;
    for (let i = 0; i < len; i++) {
      let a = 0, b = 0, c = 0;
      for (let t = -r; t <= r; t++) {
        const j = Math.min(len - 1, Math.max(0, i + t));
        const o = base + j * stepIn, wt = k[t + r];
        a += wt * src[o];
        b += wt * src[o + 1];
        c += wt * src[o + 2];
      }
      const o = base + i * stepIn;
      out[o] = a;
      out[o + 1] = b;
      out[o + 2] = c;
    }
  }
  return { width: w, height: h, data: toBytes(out) };
}

function toBytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(x[i])));
  return out;
}

/** The normalised Gaussian kernel of standard deviation `sigma`, radius ⌈3σ⌉. */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / s);
}

/**
 * Gaussian blur of standard deviation `sigma` pixels (σ = 0: an unchanged copy).
 *
 * @example Blur by 1.5 pixels
 * ```ts
 * import { gaussianBlur, readImage } from "./mod.ts";
 * const blurred = gaussianBlur(await readImage("dataset/Photos/photo_00001.png"), 1.5);
 * console.log(blurred.width, blurred.height);
 * ```
 */
export function gaussianBlur(img: RgbImage, sigma: number): RgbImage {
  if (!(sigma > 0)) return { ...img, data: img.data.slice() };
  const k = gaussianKernel(sigma);
  return convolve1d(convolve1d(img, k, true), k, false);
}

/** Resamples one axis to `out` samples with the antialiased triangle kernel. */
function resample(img: RgbImage, out: number, alongRows: boolean): RgbImage {
  const { width: w, height: h } = img;
  const len = alongRows ? w : h, lines = alongRows ? h : w;
  const scale = len / out, support = Math.max(1, scale);
  const dst = new Float32Array((alongRows ? out * h : w * out) * 3);
  const stepIn = alongRows ? 3 : 3 * w, stepOut = stepIn;
  for (let i = 0; i < out; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support)),
      hi = Math.min(len, Math.ceil(centre + support));
    const weights: number[] = [];
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const wt = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weights.push(wt);
      total += wt;
    }
    for (let line = 0; line < lines; line++) {
      const inBase = alongRows ? line * w * 3 : line * 3;
      const o = (alongRows ? line * out * 3 : line * 3) + i * stepOut;
      let a = 0, b = 0, c = 0;
      for (let j = lo; j < hi; j++) {
        const wt = weights[j - lo] / total, p = inBase + j * stepIn;
        a += wt * img.data[p];
        b += wt * img.data[p + 1];
        c += wt * img.data[p + 2];
      }
      dst[o] = a;
      dst[o + 1] = b;
      dst[o + 2] = c;
    }
  }
  return alongRows
    ? { width: out, height: h, data: toBytes(dst) }
    : { width: w, height: out, data: toBytes(dst) };
}

/**
 * Resizes by `factor` (× 1: an unchanged copy), antialiased; sizes are rounded, at least 1.
 *
 * @example Halve an image, antialiased
 * ```ts
 * import { readImage, resize } from "./mod.ts";
 * const half = resize(await readImage("dataset/Photos/photo_00001.png"), 0.5);
 * console.log(half.width, half.height); // 128 128
 * ```
 */
export function resize(img: RgbImage, factor: number): RgbImage {
  if (factor === 1) return { ...img, data: img.data.slice() };
  const w = Math.max(1, Math.round(img.width * factor));
  const h = Math.max(1, Math.round(img.height * factor));
  return resample(resample(img, w, true), h, false);
}

/**
 * Downscales, antialiased as {@link resize}, so that the short side is `side` pixels (the long
 * side rounded, the aspect ratio kept); an image whose short side is at most `side` is returned
 * as it is. Whole-image features read every image at one scale this way (`shortSide` of
 * {@link ImageStore}), so that the size a photograph was stored at does not become a feature.
 *
 * @example A 256-pixel photograph at short side 128, and one already small enough
 * ```ts
 * import { fitShortSide, readImage } from "./mod.ts";
 * const img = await readImage("dataset/Photos/photo_00001.png");
 * console.log(fitShortSide(img, 128).width, fitShortSide(img, 512) === img); // 128 true
 * ```
 */
export function fitShortSide(img: RgbImage, side: number): RgbImage {
  const short = Math.min(img.width, img.height);
  if (short <= side) return img;
  const f = side / short;
  const w = img.width === short ? side : Math.max(1, Math.round(img.width * f));
  const h = img.height === short ? side : Math.max(1, Math.round(img.height * f));
  return resample(resample(img, w, true), h, false);
}

/**
 * Adds Gaussian noise of standard deviation `sigma` (on the 0–255 scale), rounded and clipped.
 *
 * @example Gaussian noise, seeded
 * ```ts
 * import { addNoise, readImage } from "./mod.ts";
 * import { Rng } from "../core/rng.ts";
 * const noisy = addNoise(await readImage("dataset/Photos/photo_00001.png"), 2, new Rng(0));
 * console.log(noisy.width);
 * ```
 */
export function addNoise(img: RgbImage, sigma: number, rng: Rng): RgbImage {
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.min(255, Math.max(0, Math.round(img.data[i] + sigma * rng.normal())));
  }
  return { width: img.width, height: img.height, data };
}

/**
 * One perturbation step. `to`, when given, makes the strength a range: each image draws its own
 * value uniformly in [value, to] (an integer for `jpeg`, `webp` and `long`) from the generator
 * that seeds its noise, so one spec describes a family of processings, the same for one image.
 */
export type Step =
  | { kind: "jpeg"; quality: number; to?: number }
  | { kind: "webp"; quality: number; to?: number }
  | { kind: "blur"; sigma: number; to?: number }
  | { kind: "resize"; factor: number; to?: number }
  | { kind: "long"; side: number; to?: number }
  | { kind: "noise"; sigma: number; to?: number };

/** A perturbation: steps applied in order (`resize:0.5+jpeg:75`, `long:400..1200+jpeg:50..95`). */
export type Perturbation = Step[];

/** Each step's strength: the number its spec gives. */
function strength(s: Step): number {
  return s.kind === "jpeg" || s.kind === "webp"
    ? s.quality
    : s.kind === "resize"
    ? s.factor
    : s.kind === "long"
    ? s.side
    : s.sigma;
}

/** Checks one strength of a step, naming the part of the spec it came from. */
function checkStrength(kind: Step["kind"], v: number, part: string) {
  const bad = (why: string) => new UsageError(`bad perturbation "${part}": ${why}`);
  if ((kind === "jpeg" || kind === "webp") && !(Number.isInteger(v) && v >= 1 && v <= 100)) {
    throw bad(`${kind === "jpeg" ? "JPEG" : "WebP"} quality must be an integer in 1..100`);
  }
  if ((kind === "blur" || kind === "noise") && !(v >= 0 && v <= 50)) {
    throw bad("sigma must be in [0, 50]");
  }
  if (kind === "resize" && !(v > 0.05 && v <= 8)) throw bad("resize factor must be in (0.05, 8]");
  if (kind === "long" && !(Number.isInteger(v) && v >= 16 && v <= 65536)) {
    throw bad("the long side must be an integer number of pixels in 16..65536");
  }
}

/**
 * Parses `jpeg:75`, `webp:75`, `blur:1.5`, `resize:0.5`, `long:800` (bring the long side down to
 * 800 pixels; never up), `noise:2`, or several joined with `+`; `A..B` in place of a strength
 * draws it per image (`jpeg:50..95`).
 *
 * @example A perturbation spec, and a family of them
 * ```ts
 * import { parsePerturbation } from "./mod.ts";
 * console.log(parsePerturbation("resize:0.5+jpeg:75"));
 * console.log(parsePerturbation("long:400..1200+jpeg:50..95")); // drawn per image
 * ```
 */
export function parsePerturbation(spec: string): Perturbation {
  return spec.split("+").map((part) => {
    const num = "(-?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE]-?[0-9]+)?)"; // no "+": it joins steps
    const m = new RegExp(`^(jpeg|webp|blur|resize|long|noise):${num}(?:\\.\\.${num})?$`)
      .exec(part.trim());
    const v = m ? Number(m[2]) : NaN, to = m?.[3] === undefined ? undefined : Number(m[3]);
    if (!m || !Number.isFinite(v) || (to !== undefined && !Number.isFinite(to))) {
      throw new UsageError(
        `bad perturbation "${part}": use jpeg:Q (1-100), webp:Q (1-100), blur:SIGMA, resize:FACTOR, long:PIXELS or noise:SIGMA, a strength A..B to draw it per image, joined with +`,
      );
    }
    const kind = m[1] as Step["kind"];
    checkStrength(kind, v, part);
    if (to !== undefined) {
      checkStrength(kind, to, part);
      if (!(to >= v)) throw new UsageError(`bad perturbation "${part}": a range A..B needs A <= B`);
    }
    const range = to === undefined ? {} : { to };
    return kind === "jpeg" || kind === "webp"
      ? { kind, quality: v, ...range }
      : kind === "resize"
      ? { kind, factor: v, ...range }
      : kind === "long"
      ? { kind, side: v, ...range }
      : { kind, sigma: v, ...range };
  });
}

/** The spec text of a perturbation (inverse of {@link parsePerturbation}). */
export function formatPerturbation(p: Perturbation): string {
  return p.map((s) => `${s.kind}:${strength(s)}${s.to === undefined ? "" : `..${s.to}`}`)
    .join("+") || "none";
}

/** Brings an image's long side down to `side` pixels (antialiased); a smaller one is kept. */
function fitLongSide(img: RgbImage, side: number): RgbImage {
  const long = Math.max(img.width, img.height);
  return long <= side ? img : resize(img, side / long);
}

/**
 * Applies a perturbation; `rng` draws the strengths given as ranges, then seeds the noise.
 *
 * @example Apply a spec
 * ```ts
 * import { parsePerturbation, perturb, readImage } from "./mod.ts";
 * import { Rng } from "../core/rng.ts";
 * const img = await readImage("dataset/Photos/photo_00001.png");
 * const out = await perturb(img, parsePerturbation("resize:0.5+jpeg:75"), new Rng(0));
 * console.log(out.width); // 128
 * ```
 */
export async function perturb(img: RgbImage, p: Perturbation, rng: Rng): Promise<RgbImage> {
  for (const s of p) {
    let v = strength(s);
    if (s.to !== undefined && s.to !== v) { // a range of one value draws nothing
      v = s.kind === "jpeg" || s.kind === "webp" || s.kind === "long"
        ? v + rng.int(s.to - v + 1) // each integer in [value, to] alike
        : v + (s.to - v) * rng.next();
    }
    img = s.kind === "jpeg"
      ? await jpegRoundTrip(img, v)
      : s.kind === "webp"
      ? await webpRoundTrip(img, v)
      : s.kind === "blur"
      ? gaussianBlur(img, v)
      : s.kind === "resize"
      ? resize(img, v)
      : s.kind === "long"
      ? fitLongSide(img, v)
      : addNoise(img, v, rng);
  }
  return img;
}
