/**
 * `chroma`: how a camera's colour channels move together (no map, no render seen). A camera records
 * one colour per pixel behind a colour filter array and interpolates the other two, and its lens
 * blurs colour edges: the fine detail of its channels is shared, and its colour differences carry
 * less of it than its luminance. A renderer computes each channel directly. Version 1
 * ({@link CHROMA_SPEC}), exactly:
 *
 * 1. the image brought down, antialiased, to a short side of at most 512 px as `profile`;
 * 2. two scales: the pixels and their 2 x 2 means (R, G and B each);
 * 3. `profile`'s 32 x 32 patches on a grid of stride 16, less those clipped in luminance
 *    (R + G + B) / 3;
 * 4. per patch, from the second differences d2 (horizontal and vertical, pooled) of R, G and B:
 *    the colour differences' fine energy relative to luminance's, ln(mean |d2(R − G)| / 2 +
 *    mean |d2(B − G)| / 2 + 0.001) − ln(mean |d2 Y| + 0.001); and the mean of the correlations
 *    of d2 R with d2 G and of d2 B with d2 G (a correlation is 0 where either is constant);
 * 5. per scale, the 10 %, 50 % and 90 % quantiles of the two over the patches: 12 numbers.
 *
 * A JPEG's 4:2:0 subsampling removes fine colour detail whatever made the image: what
 * leave-one-source-out measured, with renders saved that way too, is in docs/natural-corpus.md
 * ("Colour: the camera's channels").
 *
 * @module
 */

import type { RgbImage } from "../data/image.ts";
import { fitShortSide } from "../data/perturb.ts";
import { boxMeans, litPatches, type Patch, QUANTILES, sortedQuantile } from "./_patches.ts";
import { PROFILE_SIDE } from "./profile.ts";

/** Scales (box-mean factors). */
const SCALES = [1, 2];
/** Added before each logarithm. */
const EPS = 1e-3;
/** Numbers per scale: quantiles x (relative colour energy, channel correlation). */
const PER_SCALE = QUANTILES.length * 2;
/** Length of the feature vector (12). */
export const CHROMA_DIM: number = SCALES.length * PER_SCALE;

/** What defines the features, saved with models fitted on them. */
export const CHROMA_SPEC = {
  version: 1,
  size: `short side at most ${PROFILE_SIDE} px (antialiased), as profile`,
  scales: ["pixels", "2x2 means"],
  patches: "profile's, clipping judged on luminance (R+G+B)/3",
  perPatch: "ln(mean |d2(R-G)|/2 + mean |d2(B-G)|/2 + 0.001) - ln(mean |d2 Y| + 0.001); " +
    "(corr(d2 R, d2 G) + corr(d2 B, d2 G)) / 2, 0 where constant; d2 horizontal and vertical",
  pooled: "10/50/90 % quantiles over patches of the two, per scale",
} as const;

/** Pearson correlation from sums; 0 where either variable is constant. */
function correlation(n: number, sa: number, sb: number, saa: number, sbb: number, sab: number) {
  const va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  return va > 1e-12 && vb > 1e-12 ? (sab - sa * sb / n) / Math.sqrt(va * vb) : 0;
}

/** A patch's relative colour energy and channel correlation (see the module documentation). */
function patchNumbers(
  [r, g, b]: Float64Array[],
  w: number,
  [x0, y0, pw, ph]: Patch,
): [number, number] {
  let n = 0, ey = 0, ec = 0;
  let sr = 0, sg = 0, sb = 0, srr = 0, sgg = 0, sbb = 0, srg = 0, sbg = 0;
  const add = (i: number, step: number) => {
    const dr = r[i] - 2 * r[i + step] + r[i + 2 * step];
    const dg = g[i] - 2 * g[i + step] + g[i + 2 * step];
    const db = b[i] - 2 * b[i + step] + b[i + 2 * step];
    ey += Math.abs(dr + dg + db) / 3;
    ec += (Math.abs(dr - dg) + Math.abs(db - dg)) / 2;
    sr += dr, sg += dg, sb += db;
    srr += dr * dr, sgg += dg * dg, sbb += db * db, srg += dr * dg, sbg += db * dg;
    n++;
  };
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const i = (y0 + y) * w + x0 + x;
      if (x + 2 < pw) add(i, 1);
      if (y + 2 < ph) add(i, w);
    }
  }
  if (n === 0) return [0, 0];
  const rel = Math.log(ec / n + EPS) - Math.log(ey / n + EPS);
  const rho = (correlation(n, sr, sg, srr, sgg, srg) + correlation(n, sb, sg, sbb, sgg, sbg)) / 2;
  return [rel, rho];
}

/**
 * The `chroma` features of an image (see the module documentation).
 *
 * @example A grey image with the same noise in every channel: no colour detail, channels in step
 * ```ts
 * import { CHROMA_DIM, chromaFeatures } from "./chroma.ts";
 * const data = new Uint8Array(64 * 64 * 3);
 * for (let i = 0; i < 64 * 64; i++) data.fill(100 + ((i * 7919) % 23), 3 * i, 3 * i + 3);
 * const f = chromaFeatures({ width: 64, height: 64, data });
 * console.log(f.length === CHROMA_DIM, f[0] < -5, f[3].toFixed(2)); // true true 1.00
 * ```
 */
export function chromaFeatures(img: RgbImage): Float32Array {
  const im = fitShortSide(img, PROFILE_SIDE);
  const w0 = im.width, h0 = im.height, m = w0 * h0;
  const planes0 = [0, 1, 2].map((c) => {
    const p = new Float64Array(m);
    for (let i = 0; i < m; i++) p[i] = im.data[3 * i + c];
    return p;
  });
  const out = new Float32Array(CHROMA_DIM);
  SCALES.forEach((s, si) => {
    const scaled = planes0.map((p) => boxMeans(p, w0, h0, s));
    const [, w, h] = scaled[0];
    const planes = scaled.map(([p]) => p);
    const y = new Float64Array(w * h);
    for (let i = 0; i < y.length; i++) y[i] = (planes[0][i] + planes[1][i] + planes[2][i]) / 3;
    const patches = litPatches(y, w, h);
    const cols = [new Float64Array(patches.length), new Float64Array(patches.length)];
    patches.forEach((p, k) => {
      const [rel, rho] = patchNumbers(planes, w, p);
      cols[0][k] = rel;
      cols[1][k] = rho;
    });
    for (const col of cols) col.sort();
    let k = si * PER_SCALE;
    for (const q of QUANTILES) for (const col of cols) out[k++] = sortedQuantile(col, q);
  });
  return out;
}
