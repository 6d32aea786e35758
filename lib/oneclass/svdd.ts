/**
 * The SVDD objective of the one-class stage (Tax & Duin 2004; Ruff et al. 2018), on the outputs
 * z = f(x) of a feature map:
 *
 *   F(R, c, f) = R² + 1/(νn) Σᵢ max(0, ‖f(xᵢ) − c‖² − R²)
 *
 * - c, the centre: the mean of the randomly initialised map's outputs over the training
 *   features, with coordinates closer to 0 than `eps` pushed out to ±eps (as Deep SVDD does),
 *   then fixed;
 * - R, the radius: 0 at the start, then reset every K epochs to the (1 − ν) quantile of the
 *   distances ‖f(xᵢ) − c‖ over the whole training set (inference mode), so about a fraction ν
 *   of the training points lie outside the ball;
 * - score(x) = ‖f(x) − c‖² − R²: above 0 means outside the ball of natural images, i.e.
 *   computer-generated.
 *
 * @module
 */

import { type Tensor1D, type Tensor2D, tf } from "../core/deps.ts";
import { quantile } from "../core/stats.ts";

export { quantile };

/**
 * The SVDD centre: the mean of `z` (`n` rows of `d`), each coordinate with |c| < eps moved to
 * ±eps (by its sign; exact zeros stay, as in Deep SVDD's reference code).
 */
export function initCenter(z: Float32Array, n: number, d: number, eps = 0.1): Float32Array {
  if (n === 0) throw new RangeError("no outputs to take the centre of");
  const sum = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sum[j] += z[i * d + j];
  const c = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const m = sum[j] / n;
    c[j] = Math.abs(m) < eps ? (m < 0 ? -eps : m > 0 ? eps : 0) : m;
  }
  return c;
}

/** Squared distances ‖zᵢ − c‖² of the rows of `z`. */
export function sqDistances(z: Tensor2D, c: Tensor1D): Tensor1D {
  return tf.tidy(() => tf.sum(tf.square(tf.sub(z, c)), 1) as Tensor1D);
}

/** F(R, c, f) on a batch of squared distances: R² + mean(max(0, d − R²)) / ν. */
export function svddLoss(sqDist: Tensor1D, radius: number, nu: number): tf.Scalar {
  return tf.tidy(() => {
    const r2 = radius * radius;
    return tf.add(r2, tf.div(tf.mean(tf.relu(tf.sub(sqDist, r2))), nu)) as tf.Scalar;
  });
}

/** The new radius: the (1 − ν) quantile of the distances (square roots of `sqDist`). */
export function radiusFor(sqDist: ArrayLike<number>, nu: number): number {
  return quantile(Array.from(sqDist, (v) => Math.sqrt(Math.max(0, v))), 1 - nu);
}

/** Fraction of points inside or on the sphere of radius `radius`. */
export function fractionInside(sqDist: ArrayLike<number>, radius: number): number {
  let k = 0;
  for (let i = 0; i < sqDist.length; i++) if (sqDist[i] <= radius * radius) k++;
  return k / sqDist.length;
}

/** Scores from squared distances: d − R² (> 0: outside the ball, computer-generated). */
export function scores(sqDist: ArrayLike<number>, radius: number): Float32Array {
  return Float32Array.from(sqDist, (d) => d - radius * radius);
}
