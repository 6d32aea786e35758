/**
 * `gauss`: a Gaussian model of the natural class. Its raw score is the squared Mahalanobis
 * distance to the training mean under a Ledoit–Wolf shrinkage covariance (Ledoit & Wolf, 2004;
 * the estimate of scikit-learn's `LedoitWolf`), optionally in the space of the `pca` leading
 * principal components.
 *
 * The covariance is Σ = (1 − δ)·S + δ·μ·I, S the empirical covariance and μ its mean variance,
 * with δ chosen by the Ledoit–Wolf formula. With fewer vectors than dimensions Σ is inverted
 * through the Woodbury identity on the n x n Gram matrix, so 4096-d L9 features cost no
 * 4096 x 4096 factorisation.
 *
 * @example Fit on natural vectors, score new ones
 * ```ts
 * import { GaussianOneClass } from "./gauss.ts";
 * const x = Float32Array.from({ length: 200 * 3 }, (_, i) => Math.sin(i * 7.1));
 * const model = await new GaussianOneClass().fit(x, 200, 3);
 * const s = await model.score(new Float32Array([0, 0, 0, 50, 50, 50]), 2);
 * console.log(s[0] < s[1]); // true: the far vector scores higher
 * ```
 *
 * @module
 */

import type { NamedArray } from "../core/bundle.ts";
import type { Location } from "../core/bundle.ts";
import { ModelError, UsageError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import {
  cholesky,
  crossProduct,
  forwardSolve,
  gram,
  type Mat,
  topEigen,
  zeros,
} from "./_linalg.ts";
import {
  type EstimatorOptions,
  type FitOptions,
  loadAs,
  OneClassEstimator,
  type SavedModel,
} from "./estimator.ts";

/** Settings of {@link GaussianOneClass}. */
export interface GaussOptions extends EstimatorOptions {
  /** Principal components kept before the Gaussian (0: none, the default). */
  pca?: number;
}

/**
 * The Mahalanobis (Ledoit–Wolf) one-class model.
 *
 * @example Mahalanobis (Ledoit-Wolf), threshold from out-of-fold scores
 * ```ts
 * import { GaussianOneClass } from "./mod.ts";
 * const x = Float32Array.from({ length: 200 * 3 }, (_, i) => Math.sin(i * 7.1));
 * const m = await new GaussianOneClass().fit(x, 200, 3); // threshold: "cv" by default
 * const s = await m.score(new Float32Array([0, 0, 0, 50, 50, 50]), 2);
 * console.log(s[0] < s[1], m.shrinkage); // true, the Ledoit-Wolf shrinkage
 * ```
 */
export class GaussianOneClass extends OneClassEstimator {
  /** Kind tag. */
  readonly kind = "gauss" as const;
  /** Principal components kept (0: none). */
  readonly pca: number;
  /** The Ledoit–Wolf shrinkage δ found by fit. */
  shrinkage = 0;
  #mean: Float64Array = new Float64Array(0);
  #axes?: Mat; // d x k principal axes
  #space = 0; // dimension the Gaussian lives in
  // Σ = a·ZᵀZ + b·I on the centred (projected) training rows Z
  #a = 0;
  #b = 0;
  #chol?: Mat; // Cholesky factor of Σ (space ≤ n) or of (b/a)·I + ZZᵀ (space > n)
  #z?: Mat; // centred training rows, for the Woodbury form
  #train: Float32Array = new Float32Array(0);

  /** An unfitted model. */
  constructor(o: GaussOptions = {}) {
    super(o);
    this.pca = o.pca ?? 0;
    if (!(Number.isInteger(this.pca) && this.pca >= 0)) {
      throw new UsageError(`pca must be a non-negative integer, got ${this.pca}`);
    }
  }

  /** An unfitted copy with the same settings. */
  protected clone(): GaussianOneClass {
    return new GaussianOneClass({ nu: this.nu, norm: this.norm, pca: this.pca });
  }

  /** Fits on normalised vectors. */
  protected fitNormalised(x: Float32Array, n: number, opts: FitOptions): Promise<void> {
    const d = this.dim;
    this.#mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) this.#mean[j] += x[i * d + j] / n;
    this.#mean = f32(this.#mean); // saved as float32: use exactly what a loaded model will
    let z = zeros(n, d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) z.data[i * d + j] = x[i * d + j] - this.#mean[j];
    }
    if (this.pca > 0) {
      if (this.pca >= Math.min(n, d)) {
        throw new UsageError(
          `pca ${this.pca} must be below min(vectors, dimension) = ${Math.min(n, d)}`,
        );
      }
      this.#axes = principalAxes(z, this.pca, new Rng(`pca:${opts.seed ?? 0}`));
      this.#axes.data = f32(this.#axes.data);
      z = project(z, this.#axes);
    }
    this.#space = z.cols;
    this.shrinkage = ledoitWolfShrinkage(z);
    const k = z.cols;
    let trace = 0;
    for (let i = 0; i < z.data.length; i++) trace += z.data[i] ** 2;
    const mu = trace / n / k;
    this.#a = (1 - this.shrinkage) / n;
    this.#b = Math.max(this.shrinkage * mu, 1e-9 * (mu || 1));
    if (k <= n) {
      const s = crossProduct(z, 1);
      for (let i = 0; i < k * k; i++) s.data[i] *= this.#a;
      for (let i = 0; i < k; i++) s.data[i * k + i] += this.#b;
      this.#chol = cholesky(s);
      this.#z = undefined;
    } else {
      const m = gram(z, 1);
      for (let i = 0; i < n; i++) m.data[i * n + i] += this.#b / this.#a;
      this.#chol = cholesky(m);
      this.#z = z;
    }
    // what is saved is float32: keep exactly that, so a loaded model scores bit-identically
    for (const m of [this.#chol, this.#z]) if (m) m.data = f32(m.data);
    this.#train = this.#mahalanobis(z);
    return Promise.resolve();
  }

  /** Squared Mahalanobis distances of centred, projected rows. */
  #mahalanobis(y: Mat): Float32Array {
    const out = new Float32Array(y.rows), k = y.cols, L = this.#chol!;
    for (let i = 0; i < y.rows; i++) {
      const row = y.data.subarray(i * k, (i + 1) * k);
      if (!this.#z) {
        const v = forwardSolve(L, Float64Array.from(row));
        out[i] = v.reduce((s, t) => s + t * t, 0);
        continue;
      }
      // Woodbury: yᵀΣ⁻¹y = (‖y‖² − uᵀ(b/a·I + ZZᵀ)⁻¹u) / b with u = Zy
      const z = this.#z, u = new Float64Array(z.rows);
      let yy = 0;
      for (let j = 0; j < k; j++) yy += row[j] * row[j];
      for (let r = 0; r < z.rows; r++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += z.data[r * k + j] * row[j];
        u[r] = s;
      }
      const w = forwardSolve(L, u);
      out[i] = Math.max(0, (yy - w.reduce((s, t) => s + t * t, 0)) / this.#b);
    }
    return out;
  }

  /** Raw outlyingness of normalised vectors. */
  protected rawNormalised(x: Float32Array, n: number): Float32Array {
    const d = this.dim;
    let y = zeros(n, d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) y.data[i * d + j] = x[i * d + j] - this.#mean[j];
    }
    if (this.#axes) y = project(y, this.#axes);
    return this.#mahalanobis(y);
  }

  /** Raw scores of the training vectors themselves. */
  protected trainingScores(): Float32Array {
    return this.#train;
  }

  /** The fitted parameters, as named arrays. */
  protected arrays(): NamedArray[] {
    const f = (name: string, m: Mat): NamedArray => ({
      name,
      shape: [m.rows, m.cols],
      data: Float32Array.from(m.data),
    });
    return [
      { name: "gauss/mean", shape: [this.dim], data: Float32Array.from(this.#mean) },
      ...(this.#axes ? [f("gauss/axes", this.#axes)] : []),
      f("gauss/chol", this.#chol!),
      ...(this.#z ? [f("gauss/train", this.#z)] : []),
    ];
  }

  /** The settings saved in the manifest. */
  protected meta(): Record<string, unknown> {
    return {
      pca: this.pca,
      shrinkage: this.shrinkage,
      a: this.#a,
      b: this.#b,
      space: this.#space,
      woodbury: this.#z ? this.#z.rows : 0,
    };
  }

  /** The arrays a saved model of these settings holds. */
  static shapes(settings: Record<string, unknown>, dim: number): [string, number[]][] {
    const space = settings.space as number, rows = settings.woodbury as number;
    if (!Number.isInteger(space) || space < 1 || !Number.isInteger(rows) || rows < 0) {
      throw new RangeError("bad gauss settings");
    }
    return [
      ["gauss/mean", [dim]],
      ...((settings.pca as number) > 0 ? [["gauss/axes", [dim, space]] as [string, number[]]] : []),
      ["gauss/chol", rows > 0 ? [rows, rows] : [space, space]],
      ...(rows > 0 ? [["gauss/train", [rows, space]] as [string, number[]]] : []),
    ];
  }

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): GaussianOneClass {
    const s = saved.settings;
    const m = new GaussianOneClass({ nu: saved.nu, norm: saved.norm, pca: s.pca as number });
    m.restoreCommon(saved);
    const mat = (name: string): Mat => {
      const a = saved.arrays.get(name)!;
      return { rows: a.shape[0], cols: a.shape[1], data: Float64Array.from(a.data) };
    };
    m.shrinkage = s.shrinkage as number;
    m.#a = s.a as number;
    m.#b = s.b as number;
    if (!(m.#a >= 0 && m.#b > 0)) throw new ModelError(`${saved.where}: bad covariance scalars`);
    m.#space = s.space as number;
    m.#mean = Float64Array.from(saved.arrays.get("gauss/mean")!.data);
    m.#axes = m.pca > 0 ? mat("gauss/axes") : undefined;
    m.#chol = mat("gauss/chol");
    m.#z = (s.woodbury as number) > 0 ? mat("gauss/train") : undefined;
    return m;
  }

  /** Loads a model saved by {@link OneClassEstimator.save}. */
  static load(dir: Location, stem = "oneclass"): Promise<GaussianOneClass> {
    return loadAs(dir, stem, "gauss", GaussianOneClass.shapes, GaussianOneClass.restore);
  }

  /** Frees tensors, if any. */
  dispose(): void {}
}

/** The Ledoit–Wolf shrinkage of centred rows (scikit-learn's `ledoit_wolf_shrinkage`). */
export function ledoitWolfShrinkage(z: Mat): number {
  const { rows: n, cols: d, data } = z;
  let traceSum = 0, beta_ = 0;
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += data[i * d + j] ** 2;
    traceSum += sq;
    beta_ += sq * sq;
  }
  const empTrace = traceSum / n, mu = empTrace / d;
  // ‖ZᵀZ‖²_F equals ‖ZZᵀ‖²_F: take the smaller product
  const p = d <= n ? crossProduct(z, 1) : gram(z, 1);
  let delta_ = 0;
  for (let i = 0; i < p.data.length; i++) delta_ += p.data[i] ** 2;
  delta_ /= n * n;
  let beta = (beta_ / n - delta_) / (d * n);
  const delta = (delta_ - 2 * mu * empTrace + d * mu * mu) / d;
  beta = Math.min(beta, delta);
  return beta === 0 || delta === 0 ? 0 : beta / delta;
}

/** The `k` leading principal axes (d x k) of centred rows. */
function principalAxes(z: Mat, k: number, rng: Rng): Mat {
  const { rows: n, cols: d } = z;
  if (d <= n) return topEigen(crossProduct(z, n), k, () => rng.next()).vectors;
  // eigenvectors of the Gram matrix give the axes: u = Zᵀv / ‖Zᵀv‖
  const { vectors: v } = topEigen(gram(z, n), k, () => rng.next());
  const axes = zeros(d, k);
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += z.data[r * d + c] * v.data[r * k + j];
      axes.data[c * k + j] = s;
      norm += s * s;
    }
    norm = Math.sqrt(norm) || 1;
    for (let c = 0; c < d; c++) axes.data[c * k + j] /= norm;
  }
  return axes;
}

/** Values rounded to float32 (what a saved model holds), kept in float64. */
function f32(a: Float64Array): Float64Array {
  return Float64Array.from(Float32Array.from(a));
}

function project(y: Mat, axes: Mat): Mat {
  const out = zeros(y.rows, axes.cols);
  for (let i = 0; i < y.rows; i++) {
    for (let c = 0; c < y.cols; c++) {
      const v = y.data[i * y.cols + c];
      if (v === 0) continue;
      for (let j = 0; j < axes.cols; j++) {
        out.data[i * axes.cols + j] += v * axes.data[c * axes.cols + j];
      }
    }
  }
  return out;
}
