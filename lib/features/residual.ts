/**
 * `residual`: hand-made noise-residual statistics of an image, with no map and no render
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
 *    the vertical ones and the second KB copy): 7 x 7 = 49 bins;
 * 5. the counts of step 4 are taken over a fixed pixel budget, not the whole image: the grid of
 *    2 x 2 tiles of 256 x 256 pixels spread evenly over the image (corners included; the tiles
 *    overlap when a side is under 512 px; under 256 px, the tiles are squares of the short side),
 *    summed over the tiles, then each histogram normalised to sum 1.
 *
 * 8 x 49 = 392 numbers per image. Why step 5: a histogram's sampling noise falls with the
 * number of pixels it counts, so whole-image statistics let a one-class model tell large images
 * from small ones. On cgbench, whose photographs are larger than its 512 x 512 renders, the
 * whole-image Gaussian looked better than it is and called 256 px photographs
 * computer-generated (docs/results-cgbench.md has the figures).
 *
 * Cameras leave sensor noise, demosaicing and processing traces in these statistics; renderers
 * leave either smoother images or path-tracing noise with other statistics. JPEG compression
 * changes them too, which is why the toolkit can re-encode every image at one quality first
 * (`--match-compression`) so that compression history does not tell the classes apart.
 *
 * @module
 */

import { cropAt, type RgbImage, tileOrigins } from "../data/image.ts";

/** Truncation T of the quantised residuals (values in −T..T). */
export const RESIDUAL_T = 3;
/** Number of residuals. */
export const RESIDUAL_FILTERS = 8;
/** Length of the feature vector (392). */
export const RESIDUAL_DIM = RESIDUAL_FILTERS * (2 * RESIDUAL_T + 1) ** 2;
/** What defines the features, saved with models fitted on them. */
export const RESIDUAL_SPEC = {
  version: 2,
  luminance: "(R+G+B)/3",
  residuals: ["d1h", "d1v", "d2h", "d2v", "d3h", "d3v", "kb-h", "kb-v"],
  quantisation: 1,
  truncation: RESIDUAL_T,
  pairs: "along each residual's direction",
  tiles: { size: 256, perSide: 2, counts: "summed over the tiles" },
};

/** Side of the tiles the counts are taken over. */
export const RESIDUAL_TILE = RESIDUAL_SPEC.tiles.size;

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
  const { width: w, height: h } = img;
  const size = Math.min(RESIDUAL_TILE, w, h);
  const counts = new Float64Array(RESIDUAL_DIM);
  for (const [x, y] of tileOrigins(w, h, size, RESIDUAL_SPEC.tiles.perSide)) {
    countResiduals(size === w && size === h ? img : cropAt(img, x, y, size, size), counts);
  }
  const bins = RESIDUAL_DIM / RESIDUAL_FILTERS, out = new Float32Array(RESIDUAL_DIM);
  for (let f = 0; f < RESIDUAL_FILTERS; f++) {
    let total = 0;
    for (let i = 0; i < bins; i++) total += counts[f * bins + i];
    for (let i = 0; i < bins; i++) out[f * bins + i] = total > 0 ? counts[f * bins + i] / total : 0;
  }
  return out;
}

/** Adds the co-occurrence counts of one image (or tile) to `counts` (steps 1-4). */
function countResiduals(img: RgbImage, counts: Float64Array): void {
  const { width: w, height: h, data } = img;
  const g = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) g[i] = (data[3 * i] + data[3 * i + 1] + data[3 * i + 2]) / 3;
  const T = RESIDUAL_T, K = 2 * T + 1, bins = K * K;
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
    const hist = counts.subarray(slot * bins, (slot + 1) * bins);
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
}
