/**
 * Internals shared by the patch-profile sources (`profile`, `chroma`): box means, the patch grid
 * less clipped patches, and quantiles of sorted values.
 *
 * @module
 */

/** Side and stride of the patches. */
export const PATCH = 32, STRIDE = 16;
/** A value at most this, or at least {@link CLIP_HIGH}, is clipped. */
export const CLIP_LOW = 5, CLIP_HIGH = 250;
/** Quantiles over the patches. */
export const QUANTILES = [0.1, 0.5, 0.9];

/** A patch: its origin, width and height. */
export type Patch = [number, number, number, number];

/** s x s box means of a plane (sides floored). */
export function boxMeans(
  g: Float64Array,
  w: number,
  h: number,
  s: number,
): [Float64Array, number, number] {
  if (s === 1) return [g, w, h];
  const ow = Math.floor(w / s), oh = Math.floor(h / s), out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let t = 0;
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) t += g[(y * s + dy) * w + x * s + dx];
      }
      out[y * ow + x] = t / (s * s);
    }
  }
  return [out, ow, oh];
}

/** Whether at least half of a patch's values are clipped (≤ CLIP_LOW or ≥ CLIP_HIGH). */
function clipped(g: Float64Array, w: number, [x0, y0, pw, ph]: Patch): boolean {
  let c = 0;
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const v = g[(y0 + y) * w + x0 + x];
      if (v <= CLIP_LOW || v >= CLIP_HIGH) c++;
    }
  }
  return 2 * c >= pw * ph;
}

/**
 * The PATCH x PATCH patches of a w x h plane on a grid of stride STRIDE (the whole plane when
 * smaller), less the clipped ones of `g`; every patch when all are clipped.
 */
export function litPatches(g: Float64Array, w: number, h: number): Patch[] {
  const all: Patch[] = [];
  if (w < PATCH || h < PATCH) all.push([0, 0, Math.max(1, w), Math.max(1, h)]);
  else {
    for (let y = 0; y + PATCH <= h; y += STRIDE) {
      for (let x = 0; x + PATCH <= w; x += STRIDE) all.push([x, y, PATCH, PATCH]);
    }
  }
  const lit = all.filter((p) => !clipped(g, w, p));
  return lit.length ? lit : all;
}

/** The q quantile of sorted values, linear between order statistics. */
export function sortedQuantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
