/**
 * `residual`: noise-residual statistics of an image, with no map and no render seen in training,
 * in the family of SPAM and the spatial rich model (Pevný et al. 2010; Fridrich & Kodovský 2012).
 * Version 5 ({@link RESIDUAL_SPEC}), exactly:
 *
 * 1. the patches: of the 64 x 64 patches on a grid of stride 32, the 64 whose luminance
 *    g = (R + G + B) / 3 has the largest standard deviation (ties in reading order; all of them
 *    when there are fewer; under 64 px, one patch the size of the short side);
 * 2. in each patch, eight residuals of g: first, second and third differences, horizontal and
 *    vertical, and the 3x3 "KB" filter [[−1, 2, −1], [2, −4, 2], [−1, 2, −1]] / 4 twice;
 * 3. each residual rounded to an integer and truncated to [−3, 3];
 * 4. for each, the co-occurrences of neighbouring pairs along its direction (the first KB copy
 *    horizontal, the second vertical): 7 x 7 = 49 bins, 392 numbers;
 * 5. steps 2–4 again at half scale (2 x 2 means of g) and quarter scale (4 x 4 means);
 * 6. every histogram normalised to sum 1 in each patch;
 * 7. the slopes: per filter (d1, d2, d3, KB) and scale, E = log(mean |residual| + 0.001) over
 *    both directions, unquantised; E(patch) − E(half) and E(half) − E(quarter): 8 numbers;
 * 8. everything averaged over the patches.
 *
 * 1184 numbers: 1176 co-occurrences ({@link RESIDUAL_PARTS}'s `texture`), then the 8 slopes
 * (`slope`). Why a fixed budget of textured patches, the extra scales and the slopes, and what
 * each version changed: docs/results-cgbench.md, "Residual features version 3" to "version 5".
 *
 * @module
 */

import type { RgbImage } from "../data/image.ts";

/** Truncation T of the quantised residuals (values in −T..T). */
export const RESIDUAL_T = 3;
/** Number of residuals (the KB filter twice, once per pair direction). */
export const RESIDUAL_FILTERS = 8;
/** Values of a quantised residual, 2T + 1. */
const LEVELS = 2 * RESIDUAL_T + 1;
/** Bins of one co-occurrence histogram (49). */
const COOC_BINS = LEVELS * LEVELS;
/** Numbers of one scale (392). */
const COOC_DIM = RESIDUAL_FILTERS * COOC_BINS;
/** Scales of the co-occurrences: the patch, its 2 x 2 means, its 4 x 4 means. */
const SCALES = 3;
/** Distinct filters whose energy gives the slope (first, second, third order, KB). */
const SLOPE_FILTERS = RESIDUAL_FILTERS / 2;
/** Added to the mean absolute residual before its logarithm. */
const SLOPE_EPS = 1e-3;
/**
 * The two parts of the feature vector, in order: the co-occurrences at three scales (1176) and
 * the slopes (8). A Gaussian model fits each part on its own (see `GaussOptions.parts`); the
 * toolkit's default makes the slopes a check (`GaussOptions.checks`).
 *
 * @example Where the slopes start in a feature vector
 * ```ts
 * import { RESIDUAL_DIM, RESIDUAL_PARTS } from "./residual.ts";
 * console.log(RESIDUAL_PARTS.texture, RESIDUAL_DIM - RESIDUAL_PARTS.slope); // 1176 1176
 * ```
 */
export const RESIDUAL_PARTS = {
  texture: SCALES * COOC_DIM,
  slope: (SCALES - 1) * SLOPE_FILTERS,
} as const;
/** Length of the feature vector (1184). */
export const RESIDUAL_DIM: number = RESIDUAL_PARTS.texture + RESIDUAL_PARTS.slope;
/** What defines the features, saved with models fitted on them. */
export const RESIDUAL_SPEC = {
  version: 5,
  luminance: "(R+G+B)/3",
  residuals: ["d1h", "d1v", "d2h", "d2v", "d3h", "d3v", "kb-h", "kb-v"],
  quantisation: 1,
  truncation: RESIDUAL_T,
  pairs: "along each residual's direction",
  scales: ["patch", "2x2 mean of the patch", "4x4 mean of the patch"],
  slope: "log(mean |residual| + 0.001) per filter (d1, d2, d3, kb), scale 1 - 2 and 2 - 4",
  patches: {
    size: 64,
    stride: 32,
    count: 64,
    chosen: "largest luminance standard deviation",
    histograms: "normalised per patch, averaged over the patches",
  },
};

/**
 * The 1184 residual statistics of an image (see the module documentation).
 *
 * @example The 1184 residual statistics of an image
 * ```ts
 * import { residualFeatures } from "./mod.ts";
 * import { readImage } from "../data/mod.ts";
 * const f = residualFeatures(await readImage("dataset/Photos/photo_00001.png"));
 * console.log(f.length); // 1184
 * ```
 */
export function residualFeatures(img: RgbImage): Float32Array {
  const sum = new Float64Array(RESIDUAL_DIM);
  const patches = texturedPatches(img);
  for (const [x, y, size] of patches) {
    const g = patchLuminance(img, x, y, size);
    const counts = new Float64Array(RESIDUAL_PARTS.texture);
    const energy: number[][] = []; // log mean |residual| per scale and filter
    let plane: Float32Array = g, side = size;
    for (let s = 0; s < SCALES; s++) {
      if (s > 0) {
        plane = halve(plane, side, side);
        side >>= 1;
      }
      energy.push(countResiduals(plane, side, side, counts, s * COOC_DIM));
    }
    // each histogram sums to 1 in each patch
    for (let start = 0; start < RESIDUAL_PARTS.texture; start += COOC_BINS) {
      let total = 0;
      for (let i = start; i < start + COOC_BINS; i++) total += counts[i];
      if (total === 0) continue;
      for (let i = start; i < start + COOC_BINS; i++) sum[i] += counts[i] / total;
    }
    for (let s = 0; s + 1 < SCALES; s++) {
      for (let f = 0; f < SLOPE_FILTERS; f++) {
        sum[RESIDUAL_PARTS.texture + s * SLOPE_FILTERS + f] += energy[s][f] - energy[s + 1][f];
      }
    }
  }
  return Float32Array.from(sum, (v) => v / patches.length);
}

/**
 * The patches of step 1, as `[x, y, size]`: of the patches on the grid,
 * the {@link RESIDUAL_SPEC} count with the largest luminance standard deviation, in decreasing
 * order (ties in reading order). `grid` changes the patch size, stride and count (the search
 * of `tasks/residual_variants.ts` does; the features never do).
 *
 * @example A flat image with one textured corner: its patches come first
 * ```ts
 * import { texturedPatches } from "./residual.ts";
 * const w = 256, data = new Uint8Array(w * w * 3).fill(128);
 * for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.fill((x * 37 + y * 11) % 256, (y * w + x) * 3, (y * w + x) * 3 + 3);
 * console.log(texturedPatches({ width: w, height: w, data })[0]); // [0, 0, 64]
 * ```
 */
export function texturedPatches(
  img: RgbImage,
  grid: { size: number; stride: number; count: number } = RESIDUAL_SPEC.patches,
): [number, number, number][] {
  const { width: w, height: h, data } = img;
  const { size: P, stride: S, count: K } = grid;
  if (w < P || h < P) {
    const s = Math.min(w, h);
    return [[Math.floor((w - s) / 2), Math.floor((h - s) / 2), s]];
  }
  // Sums of v = R + G + B and of v² over cells of c x c pixels (c divides the patch size and
  // the stride), in exact integer arithmetic: a patch's n² variance, n Σv² − (Σv)², from its
  // cells in O(1). One pass over the image, no copy of it.
  const c = gcd(P, S), cw = Math.floor(w / c), ch = Math.floor(h / c);
  const cs = new Float64Array(cw * ch), cq = new Float64Array(cw * ch);
  for (let y = 0; y < ch * c; y++) {
    const row = (y / c | 0) * cw;
    let i = 3 * y * w;
    for (let cx = 0; cx < cw; cx++) {
      let s = 0, q = 0;
      for (let k = 0; k < c; k++, i += 3) {
        const v = data[i] + data[i + 1] + data[i + 2];
        s += v;
        q += v * v;
      }
      cs[row + cx] += s;
      cq[row + cx] += q;
    }
  }
  const per = P / c, n = P * P;
  const box = (t: Float64Array, x0: number, y0: number) => {
    let a = 0;
    for (let y = y0; y < y0 + per; y++) for (let x = x0; x < x0 + per; x++) a += t[y * cw + x];
    return a;
  };
  const cands: [number, number, number][] = [];
  for (let y = 0; y + P <= h; y += S) {
    for (let x = 0; x + P <= w; x += S) {
      const sx = box(cs, x / c, y / c);
      cands.push([n * box(cq, x / c, y / c) - sx * sx, x, y]);
    }
  }
  // a stable sort keeps reading order among equal variances
  cands.sort((a, b) => b[0] - a[0]);
  return cands.slice(0, K).map(([, x, y]) => [x, y, P]);
}

function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}

/** Luminance (R + G + B) / 3 of the `size` x `size` patch at (`x`, `y`). */
function patchLuminance(
  { width: w, data }: RgbImage,
  x: number,
  y: number,
  size: number,
): Float32Array {
  const g = new Float32Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let k = 0, i = 3 * ((y + r) * w + x); k < size; k++, i += 3) {
      g[r * size + k] = (data[i] + data[i + 1] + data[i + 2]) / 3;
    }
  }
  return g;
}

/** The mean of each 2 x 2 block of `g` (`w` x `h`; an odd last row or column is dropped). */
function halve(g: Float32Array, w: number, h: number): Float32Array {
  const hw = w >> 1, hh = h >> 1, out = new Float32Array(hw * hh);
  for (let y = 0; y < hh; y++) {
    for (let x = 0; x < hw; x++) {
      const i = 2 * y * w + 2 * x;
      out[y * hw + x] = (g[i] + g[i + 1] + g[i + w] + g[i + w + 1]) / 4;
    }
  }
  return out;
}

/**
 * Adds the counts of one luminance plane `g` (`w` x `h`) to `counts`: the eight residuals'
 * co-occurrences from index `at` (steps 2-4). Returns log(mean |residual| + 0.001) of each of
 * the four filters, both directions together (step 7).
 */
function countResiduals(
  g: Float32Array,
  w: number,
  h: number,
  counts: Float64Array,
  at: number,
): number[] {
  const T = RESIDUAL_T, K = LEVELS;
  const q = (v: number) => Math.max(-T, Math.min(T, Math.round(v))) + T;
  const abs = new Float64Array(SLOPE_FILTERS), values = new Float64Array(SLOPE_FILTERS);
  // a residual of `rw` x `rh` values, then its pairs along x (dx = 1) or y (dy = 1)
  const histogram = (
    slot: number,
    rw: number,
    rh: number,
    res: (x: number, y: number) => number,
    horizontal: boolean,
  ) => {
    if (rw < 2 || rh < 2) return;
    const r = new Uint8Array(rw * rh);
    let a = 0;
    for (let y = 0; y < rh; y++) {
      for (let x = 0; x < rw; x++) {
        const v = res(x, y);
        r[y * rw + x] = q(v);
        a += Math.abs(v);
      }
    }
    abs[slot >> 1] += a;
    values[slot >> 1] += rw * rh;
    const hist = counts.subarray(at + slot * COOC_BINS, at + (slot + 1) * COOC_BINS);
    if (horizontal) {
      for (let y = 0; y < rh; y++) {
        for (let x = 0; x + 1 < rw; x++) hist[r[y * rw + x] * K + r[y * rw + x + 1]]++;
      }
    } else {
      for (let y = 0; y + 1 < rh; y++) {
        for (let x = 0; x < rw; x++) hist[r[y * rw + x] * K + r[(y + 1) * rw + x]]++;
      }
    }
  };
  const p = (x: number, y: number) => g[y * w + x];
  histogram(0, w - 1, h, (x, y) => p(x + 1, y) - p(x, y), true);
  histogram(1, w, h - 1, (x, y) => p(x, y + 1) - p(x, y), false);
  histogram(2, w - 2, h, (x, y) => p(x + 2, y) - 2 * p(x + 1, y) + p(x, y), true);
  histogram(3, w, h - 2, (x, y) => p(x, y + 2) - 2 * p(x, y + 1) + p(x, y), false);
  histogram(
    4,
    w - 3,
    h,
    (x, y) => p(x + 3, y) - 3 * p(x + 2, y) + 3 * p(x + 1, y) - p(x, y),
    true,
  );
  histogram(
    5,
    w,
    h - 3,
    (x, y) => p(x, y + 3) - 3 * p(x, y + 2) + 3 * p(x, y + 1) - p(x, y),
    false,
  );
  const kb = (x: number, y: number) =>
    (-p(x, y) + 2 * p(x + 1, y) - p(x + 2, y) +
      2 * p(x, y + 1) - 4 * p(x + 1, y + 1) + 2 * p(x + 2, y + 1) -
      p(x, y + 2) + 2 * p(x + 1, y + 2) - p(x + 2, y + 2)) / 4;
  histogram(6, w - 2, h - 2, kb, true);
  histogram(7, w - 2, h - 2, kb, false);
  return Array.from(abs, (a, f) => Math.log((values[f] ? a / values[f] : 0) + SLOPE_EPS));
}
