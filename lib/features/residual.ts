/**
 * `residual`: hand-made noise-residual statistics of a whole image, with no map and no render
 * seen in training, in the family of SPAM and the spatial rich model (Pevný et al. 2010;
 * Fridrich & Kodovský 2012). Exactly:
 *
 * 1. the image's luminance g = (R + G + B) / 3, in 0–255;
 * 2. eight residuals, each a high-pass filter of g along one direction:
 *    - first order, horizontal and vertical: g[x+1] − g[x];
 *    - second order, horizontal and vertical: g[x+2] − 2g[x+1] + g[x];
 *    - third order, horizontal and vertical: g[x+3] − 3g[x+2] + 3g[x+1] − g[x];
 *    - the 3x3 "KB" filter [[−1, 2, −1], [2, −4, 2], [−1, 2, −1]] / 4 (valid part), twice;
 * 3. each residual rounded to an integer and truncated to [−3, 3];
 * 4. for each, the co-occurrence histogram of neighbouring pairs along its direction
 *    (horizontal pairs for the horizontal residuals and the first KB copy, vertical pairs for
 *    the vertical ones and the second KB copy): 7 x 7 = 49 bins, normalised to sum 1.
 *
 * 8 x 49 = 392 numbers per image. Cameras leave sensor noise, demosaicing and processing traces
 * in these statistics; renderers leave either smoother images or path-tracing noise with other
 * statistics. JPEG compression changes them too, which is why the toolkit can re-encode every
 * image at one quality first (`--match-compression`) so that compression history does not tell
 * the classes apart.
 *
 * @module
 */

import type { RgbImage } from "../data/image.ts";

/** Truncation T of the quantised residuals (values in −T..T). */
export const RESIDUAL_T = 3;
/** Number of residuals. */
export const RESIDUAL_FILTERS = 8;
/** Length of the feature vector (392). */
export const RESIDUAL_DIM = RESIDUAL_FILTERS * (2 * RESIDUAL_T + 1) ** 2;
/** What defines the features, saved with models fitted on them. */
export const RESIDUAL_SPEC = {
  luminance: "(R+G+B)/3",
  residuals: ["d1h", "d1v", "d2h", "d2v", "d3h", "d3v", "kb-h", "kb-v"],
  quantisation: 1,
  truncation: RESIDUAL_T,
  pairs: "along each residual's direction",
};

/**
 * The 392 residual statistics of an image (see the module documentation).
 *
 * @example The 392 residual statistics of an image
 * ```ts
 * import { residualFeatures } from "./mod.ts";
 * import { readImage } from "../data/mod.ts";
 * const f = residualFeatures(await readImage("dataset/Photos/photo_00001.png"));
 * console.log(f.length); // 392
 * ```
 */
export function residualFeatures(img: RgbImage): Float32Array {
  const { width: w, height: h, data } = img;
  const g = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) g[i] = (data[3 * i] + data[3 * i + 1] + data[3 * i + 2]) / 3;
  const T = RESIDUAL_T, K = 2 * T + 1, bins = K * K;
  const out = new Float32Array(RESIDUAL_DIM);
  const q = (v: number) => Math.max(-T, Math.min(T, Math.round(v))) + T;
  // a residual of `rw` x `rh` values, then its pairs along x (dx = 1) or y (dy = 1)
  const histogram = (
    slot: number,
    rw: number,
    rh: number,
    at: (x: number, y: number) => number,
    horizontal: boolean,
  ) => {
    if (rw < 2 || rh < 2) return;
    const r = new Uint8Array(rw * rh);
    for (let y = 0; y < rh; y++) for (let x = 0; x < rw; x++) r[y * rw + x] = q(at(x, y));
    const hist = out.subarray(slot * bins, (slot + 1) * bins);
    let total = 0;
    if (horizontal) {
      for (let y = 0; y < rh; y++) {
        for (let x = 0; x + 1 < rw; x++) hist[r[y * rw + x] * K + r[y * rw + x + 1]]++;
      }
      total = rh * (rw - 1);
    } else {
      for (let y = 0; y + 1 < rh; y++) {
        for (let x = 0; x < rw; x++) hist[r[y * rw + x] * K + r[(y + 1) * rw + x]]++;
      }
      total = (rh - 1) * rw;
    }
    for (let i = 0; i < bins; i++) hist[i] /= total;
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
  return out;
}
