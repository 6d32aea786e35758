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
