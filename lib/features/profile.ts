/**
 * `profile`: how an image's fine-scale energy is spread across its patches and scales (no map, no
 * render seen). A camera's noise sits under everything it records, at a level tied to the signal;
 * a render's is where its light transport left it (Monte-Carlo noise in dim regions, none on flat
 * shading). `residual` averages over its most textured patches; this keeps the spread. Version 2
 * ({@link PROFILE_SPEC}), exactly:
 *
 * 1. the image brought down, antialiased, to a short side of at most 512 px (`fitShortSide`), so
 *    that the size a photograph was stored at is not a feature; luminance g = (R + G + B) / 3;
 * 2. three scales: g, its 2 x 2 means and its 4 x 4 means (each side floored);
 * 3. at each scale, every 32 x 32 patch on a grid of stride 16 (the whole plane when smaller),
 *    less those with half their values or more ≤ 5 or ≥ 250: clipped, no noise recorded (a white
 *    backdrop, a blown sky); every patch when all are clipped (version 1 kept them);
 * 4. per patch, its contrast C = ln(standard deviation + 0.001) and, for four residuals (first,
 *    second and third differences, each the mean of horizontal and vertical, and the 3 x 3 "KB"
 *    filter), the energy E = ln(mean |residual| + 0.001) and the energy relative to the contrast,
 *    E − C;
 * 5. per scale, the 10 %, 50 % and 90 % quantiles over the patches (linear between order
 *    statistics) of the four E, the four E − C, then of C: 27 numbers;
 * 6. 81 numbers: scale 1, then 2, then 4.
 *
 * What leave-one-source-out measured with it, and why version 2: docs/natural-corpus.md.
 *
 * @module
 */

import type { RgbImage } from "../data/image.ts";
import { fitShortSide } from "../data/perturb.ts";
import {
  boxMeans,
  CLIP_HIGH,
  CLIP_LOW,
  litPatches,
  PATCH,
  QUANTILES,
  sortedQuantile,
  STRIDE,
} from "./_patches.ts";

/** Short side the image is brought down to first. */
export const PROFILE_SIDE = 512;
/** Scales (box-mean factors). */
const SCALES = [1, 2, 4];
/** Added before each logarithm. */
const EPS = 1e-3;
/** Numbers per scale: quantiles x (4 energies + 4 relative energies + contrast). */
const PER_SCALE = QUANTILES.length * 9;
/** Length of the feature vector (81). */
export const PROFILE_DIM: number = SCALES.length * PER_SCALE;

/** What defines the features, saved with models fitted on them. */
export const PROFILE_SPEC = {
  version: 2,
  size: `short side at most ${PROFILE_SIDE} px (antialiased), luminance (R+G+B)/3`,
  scales: ["pixels", "2x2 means", "4x4 means"],
  patches: {
    size: PATCH,
    stride: STRIDE,
    which: `all but those with at least half their values <= ${CLIP_LOW} or >= ${CLIP_HIGH} ` +
      "(all if none is left)",
  },
  perPatch: "C = ln(sd + 0.001); E = ln(mean |r| + 0.001) for d1, d2, d3 (mean of h and v), kb",
  pooled: "10/50/90 % quantiles over patches of E (4), E - C (4), C, per scale",
} as const;

/** Mean |residual| of the four filters over a patch at (x0, y0) of size pw x ph. */
function energies(
  g: Float64Array,
  w: number,
  x0: number,
  y0: number,
  pw: number,
  ph: number,
): number[] {
  const at = (x: number, y: number) => g[(y0 + y) * w + x0 + x];
  // mean |d_k| along one direction: differences of order k inside the patch
  const diff = (k: number, horizontal: boolean) => {
    const c = k === 1 ? [1, -1] : k === 2 ? [1, -2, 1] : [1, -3, 3, -1];
    let t = 0, n = 0;
    const xs = horizontal ? pw - k : pw, ys = horizontal ? ph : ph - k;
    for (let y = 0; y < ys; y++) {
      for (let x = 0; x < xs; x++) {
        let r = 0;
        for (let i = 0; i <= k; i++) r += c[i] * (horizontal ? at(x + i, y) : at(x, y + i));
        t += Math.abs(r);
        n++;
      }
    }
    return n ? t / n : 0;
  };
  let kb = 0, nk = 0;
  for (let y = 1; y < ph - 1; y++) {
    for (let x = 1; x < pw - 1; x++) {
      const r = (-at(x - 1, y - 1) + 2 * at(x, y - 1) - at(x + 1, y - 1) + 2 * at(x - 1, y) -
        4 * at(x, y) + 2 * at(x + 1, y) - at(x - 1, y + 1) + 2 * at(x, y + 1) - at(x + 1, y + 1)) /
        4;
      kb += Math.abs(r);
      nk++;
    }
  }
  return [
    (diff(1, true) + diff(1, false)) / 2,
    (diff(2, true) + diff(2, false)) / 2,
    (diff(3, true) + diff(3, false)) / 2,
    nk ? kb / nk : 0,
  ];
}

/**
 * Each scale's patch table: per lit patch (see the module documentation), its nine numbers E(d1),
 * E(d2), E(d3), E(kb), the four E − C and C, as nine columns of equal length, patches in grid
 * order. `profile` is their quantiles; a model of the patches themselves reads them whole.
 *
 * @example A 64 x 64 image: at full scale a 3 x 3 grid of patches, nine numbers each
 * ```ts
 * import { profilePatches } from "./profile.ts";
 * const img = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(90) };
 * const [full] = profilePatches(img);
 * console.log(full.length, full[0].length); // 9 9
 * ```
 */
export function profilePatches(img: RgbImage): Float64Array[][] {
  const im = fitShortSide(img, PROFILE_SIDE);
  const w0 = im.width, h0 = im.height, g0 = new Float64Array(w0 * h0);
  for (let i = 0; i < g0.length; i++) {
    g0[i] = (im.data[3 * i] + im.data[3 * i + 1] + im.data[3 * i + 2]) / 3;
  }
  return SCALES.map((s) => {
    const [g, w, h] = boxMeans(g0, w0, h0, s);
    const origins = litPatches(g, w, h);
    const m = origins.length;
    // columns: E1..E4, (E − C)1..4, C
    const cols = Array.from({ length: 9 }, () => new Float64Array(m));
    origins.forEach(([x0, y0, pw, ph], p) => {
      let sum = 0, sq = 0;
      for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw; x++) {
          const v = g[(y0 + y) * w + x0 + x];
          sum += v;
          sq += v * v;
        }
      }
      const n = pw * ph, mean = sum / n;
      const c = Math.log(Math.sqrt(Math.max(0, sq / n - mean * mean)) + EPS);
      energies(g, w, x0, y0, pw, ph).forEach((e, f) => {
        const le = Math.log(e + EPS);
        cols[f][p] = le;
        cols[4 + f][p] = le - c;
      });
      cols[8][p] = c;
    });
    return cols;
  });
}

/**
 * The `profile` features of an image (see the module documentation).
 *
 * @example A flat grey image: no energy at any scale, the same in every patch
 * ```ts
 * import { profileFeatures, PROFILE_DIM } from "./profile.ts";
 * const img = { width: 96, height: 64, data: new Uint8Array(96 * 64 * 3).fill(90) };
 * const f = profileFeatures(img);
 * console.log(f.length === PROFILE_DIM, f[0].toFixed(2)); // true -6.91
 * ```
 */
export function profileFeatures(img: RgbImage): Float32Array {
  const out = new Float32Array(PROFILE_DIM);
  profilePatches(img).forEach((cols, si) => {
    for (const col of cols) col.sort();
    let k = si * PER_SCALE;
    for (const q of QUANTILES) for (const col of cols) out[k++] = sortedQuantile(col, q);
  });
  return out;
}
