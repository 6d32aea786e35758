/**
 * Small statistics helpers.
 *
 * @module
 */

/**
 * ν: the share of natural images a threshold leaves on the computer-generated side (0.05).
 * Every threshold of the toolkit (each one-class model's, the head's) is the (1 − ν) quantile
 * of scores of natural images no stage trained the decision on.
 */
export const DEFAULT_NU = 0.05;

/**
 * Quantile with linear interpolation between order statistics (numpy's default).
 *
 * @example numpy's default quantile
 * ```ts
 * import { quantile } from "./mod.ts";
 * console.log(quantile([1, 2, 3, 4], 0.5)); // 2.5
 * ```
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new RangeError("quantile of no values");
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile level must be in [0, 1], got ${q}`);
  const s = Float64Array.from(values).sort();
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * The quantile of `values` where value i weighs `weights[i]`, interpolated as {@link quantile} is:
 * value k of the sorted values sits at level (Cₖ − wₖ/2 − w₁/2) ÷ (W − w₁/2 − wₙ/2), Cₖ the
 * weights up to and including it and W their sum, and levels between two values interpolate
 * linearly. With equal weights the levels are k ÷ (n − 1), so it equals `quantile` (to rounding).
 * The smallest and the largest value sit at levels 0 and 1 whatever their weights (with two
 * values the weights do not matter), and a value of weight 2 is not two values of weight 1: ties
 * interpolate differently. Weights must be positive and finite.
 *
 * @example Equal weights give the plain quantile; a heavy value pulls the quantile toward it
 * ```ts
 * import { weightedQuantile } from "./mod.ts";
 * console.log(weightedQuantile([1, 2, 3, 4], [1, 1, 1, 1], 0.5)); // 2.5
 * console.log(weightedQuantile([1, 2, 3, 4], [1, 1, 1, 3], 0.5)); // 3
 * ```
 */
export function weightedQuantile(
  values: ArrayLike<number>,
  weights: ArrayLike<number>,
  q: number,
): number {
  const n = values.length;
  if (n === 0) throw new RangeError("quantile of no values");
  if (weights.length !== n) throw new RangeError(`${n} values but ${weights.length} weights`);
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile level must be in [0, 1], got ${q}`);
  for (let i = 0; i < n; i++) {
    if (!(weights[i] > 0 && Number.isFinite(weights[i]))) {
      throw new RangeError(`weights must be positive and finite, got ${weights[i]} at ${i}`);
    }
  }
  if (n === 1) return values[0];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const w = order.map((i) => weights[i]), v = order.map((i) => values[i]);
  const total = w.reduce((a, b) => a + b, 0);
  const lo = w[0] / 2, span = total - w[0] / 2 - w[n - 1] / 2;
  let below = 0, prev = 0;
  for (let k = 0; k < n; k++) {
    below += w[k];
    const level = (below - w[k] / 2 - lo) / span;
    if (level >= q) {
      if (k === 0) return v[0];
      return v[k - 1] + (v[k] - v[k - 1]) * (q - prev) / (level - prev);
    }
    prev = level;
  }
  return v[n - 1];
}

/**
 * The mean of `values`, summed in order in double precision; NaN when there are none.
 *
 * @example A mean, and the mean of nothing
 * ```ts
 * import { mean } from "./mod.ts";
 * console.log(mean([1, 2, 4.5]), mean([])); // 2.5 NaN
 * ```
 */
export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : NaN;
}

/**
 * The mean of `values` per image, where `image[i]` (0..k − 1) is the image value i belongs to (a
 * crop's, a tile's or a row's image); NaN for an image with no value. Sums run in index order, in
 * double precision.
 *
 * @example Two images, the second with two values, a third with none
 * ```ts
 * import { meanPerImage } from "./mod.ts";
 * console.log(meanPerImage([1, 2, 4], [0, 1, 1], 3)); // [ 1, 3, NaN ]
 * ```
 */
export function meanPerImage(
  values: ArrayLike<number>,
  image: ArrayLike<number>,
  k: number,
): number[] {
  const s = new Float64Array(k), c = new Float64Array(k);
  for (let i = 0; i < values.length; i++) {
    s[image[i]] += values[i];
    c[image[i]]++;
  }
  return Array.from(s, (v, j) => c[j] ? v / c[j] : NaN);
}

/**
 * An upper-tail p-value of `value` among reference values (of natural images): (k + 1) / (n + 1)
 * with k the references at or above it. Never 0, so a logarithm of it is finite.
 *
 * @example Beyond every reference, and below every one
 * ```ts
 * import { upperTail } from "./mod.ts";
 * console.log(upperTail([1, 2, 3], 5), upperTail([1, 2, 3], 0)); // 0.25 1
 * ```
 */
export function upperTail(reference: ArrayLike<number>, value: number): number {
  let k = 0;
  for (let i = 0; i < reference.length; i++) if (reference[i] >= value) k++;
  return (k + 1) / (reference.length + 1);
}

/**
 * The q quantile of Fisher's statistic −2 Σ ln pᵢ for `k` independent uniform p-values: the
 * χ²(2k) quantile, from its closed-form distribution function 1 − e^(−x/2) Σ_{j<k} (x/2)^j / j!.
 *
 * @example The 95 % quantile for two p-values (χ² with 4 degrees of freedom)
 * ```ts
 * import { fisherQuantile } from "./mod.ts";
 * console.log(fisherQuantile(2, 0.95).toFixed(3)); // 9.488
 * ```
 */
export function fisherQuantile(k: number, q: number): number {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`k must be a positive integer`);
  if (!(q > 0 && q < 1)) throw new RangeError(`quantile level must be in (0, 1), got ${q}`);
  const cdf = (x: number) => {
    let term = 1, sum = 1;
    for (let j = 1; j < k; j++) sum += term *= x / 2 / j;
    return 1 - Math.exp(-x / 2) * sum;
  };
  let lo = 0, hi = 1;
  while (cdf(hi) < q) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Fisher's combination of p-values, −2 Σ ln pᵢ, minus its (1 − ν) quantile under independence:
 * above 0, the p-values together are too small for a natural image (ν = {@link DEFAULT_NU}).
 *
 * @example Two stages that each put an image in the top 5 % of natural images
 * ```ts
 * import { fisherScore } from "./mod.ts";
 * console.log(fisherScore([0.05, 0.05]) > 0, fisherScore([0.5, 0.5]) > 0); // true false
 * ```
 */
export function fisherScore(ps: number[], nu = DEFAULT_NU): number {
  return -2 * ps.reduce((a, p) => a + Math.log(p), 0) - fisherQuantile(ps.length, 1 - nu);
}
