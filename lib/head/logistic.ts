/**
 * A linear head: L2-regularised logistic regression on whole-image feature vectors, photographs
 * (label 0) against renders (label 1), scikit-learn style (settings in the constructor, `fit`,
 * `decisionFunction`, `pCg`, `predict`, `toJSON` / {@link LogisticHead.fromJSON}; the threshold
 * saved with the model).
 *
 * The model is scikit-learn's `make_pipeline(StandardScaler(), LogisticRegression(C,
 * class_weight="balanced"))`, the one docs/production.md measures: each column standardised
 * (mean, population standard deviation; a column constant up to rounding left unscaled), then
 * w, b = argmin ½‖w‖² + C Σᵢ sᵢ log(1 + exp(−yᵢ(w·xᵢ + b))) with yᵢ = ±1, sᵢ = n / (2 nᵢ's class)
 * and the intercept b not penalised, solved by Newton's method: the Hessian (d + 1 square)
 * formed and factored, or, above {@link DIRECT_NEWTON_MAX} columns, each step solved by
 * conjugate gradients on Hessian-vector products (n·d each, where forming it costs n·d²).
 * p(CG) is the logistic of the decision w·x + b.
 *
 * **The threshold** is set on natural images only, as the one-class models' are: the (1 − ν)
 * quantile of the photographs' out-of-fold p(CG), over folds of whole groups (a photograph
 * source's images stay in one fold; give each render a group of its own). Those out-of-fold
 * values are kept as the head's natural reference, which the detector's fused score reads.
 *
 * @module
 */

import { ModelError } from "../core/errors.ts";
import { cholesky, forwardSolve, type Mat, zeros } from "../core/linalg.ts";
import { DEFAULT_NU } from "../core/stats.ts";
import { logistic, type Standardiser, standardiser, ThresholdedHead } from "./_fit.ts";

/**
 * The widest features whose Newton steps form and factor the Hessian; wider ones (the residual
 * statistics, 1,184 numbers) solve each step by conjugate gradients, to the same optimum.
 */
export const DIRECT_NEWTON_MAX = 256;

/** Format tag of a saved linear head. */
export const LINEAR_HEAD_FORMAT = "cgvsni-linear-head/1";

/** Settings of {@link LogisticHead}. */
export interface LogisticOptions {
  /** Inverse regularisation strength (default: {@link LOGISTIC_DEFAULTS}, as for the others). */
  c?: number;
  /** Share of the natural images above the threshold. */
  nu?: number;
  /** Folds of the out-of-fold threshold. */
  folds?: number;
  /** Seed of the folds. */
  seed?: number;
}

/** The defaults of {@link LogisticOptions} (C as docs/production.md measured it). */
export const LOGISTIC_DEFAULTS = { c: 0.1, nu: DEFAULT_NU, folds: 5, seed: 0 } as const;

/** A saved linear head (`head.json`). */
export interface SavedLinearHead {
  /** {@link LINEAR_HEAD_FORMAT}. */
  format: string;
  /** Inverse regularisation strength it was fitted with. */
  c: number;
  /** Share of its photographs above the threshold. */
  nu: number;
  /** Folds of the threshold. */
  folds: number;
  /** Seed of the folds. */
  seed: number;
  /** Column means of the standardisation. */
  mean: number[];
  /** Column scales of the standardisation (1 for a constant column). */
  scale: number[];
  /** Weights, on standardised columns. */
  weights: number[];
  /** Intercept. */
  intercept: number;
  /** p(CG) at or above which an image is called rendered. */
  threshold: number;
  /** The photographs' out-of-fold p(CG), ascending. */
  reference: number[];
  /** Training images: photographs and renders. */
  n: { natural: number; rendered: number };
  /** Whatever the trainer records (features, data, sources). */
  provenance?: Record<string, unknown>;
}

/** The fitted parameters of a {@link LogisticHead}, apart from the threshold. */
export interface LogisticFit extends Standardiser {
  /** Weights, on standardised columns. */
  w: Float64Array;
  /** Intercept. */
  b: number;
}

/**
 * Logistic regression on feature vectors, with its natural threshold.
 *
 * @example Photographs near 0, renders near 2: p(CG) ranks them, the threshold splits them
 * ```ts
 * import { LogisticHead } from "./mod.ts";
 * const n = 80, d = 3, x = new Float32Array(n * d), y = new Uint8Array(n), groups: number[] = [];
 * for (let i = 0; i < n; i++) {
 *   y[i] = i % 2;
 *   groups.push(y[i] ? 100 + i : i % 8); // eight photograph sources; each render alone
 *   for (let j = 0; j < d; j++) x[i * d + j] = 2 * y[i] + Math.sin(7.3 * i + j);
 * }
 * const h = new LogisticHead().fit(x, n, d, y, groups);
 * const p = h.pCg(new Float32Array([0, 0, 0, 2, 2, 2]), 2);
 * console.log(p[0] < h.threshold, p[1] >= h.threshold); // true true
 * ```
 */
export class LogisticHead extends ThresholdedHead<LogisticFit> {
  /** An unfitted head. */
  constructor(o: LogisticOptions = {}) {
    super(o, LOGISTIC_DEFAULTS, "linear head");
  }

  /** The model fitted on some rows (see the module documentation). */
  protected fitRows(
    x: Float32Array,
    dim: number,
    rows: number[],
    y: ArrayLike<number>,
  ): LogisticFit {
    return fitLogistic(x, dim, rows, y, this.c);
  }

  /** The decision of the row of `x` starting at `at` (above 0: the render side). */
  protected decide(m: LogisticFit, x: Float32Array, at: number): number {
    return decision(m, x, at);
  }

  /** The saved form (`head.json`). */
  toJSON(): SavedLinearHead {
    const m = this.fitted();
    return {
      format: LINEAR_HEAD_FORMAT,
      c: this.c,
      nu: this.nu,
      folds: this.folds,
      seed: this.seed,
      mean: [...m.mean],
      scale: [...m.scale],
      weights: [...m.w],
      intercept: m.b,
      threshold: this.threshold,
      reference: this.reference,
      n: this.n,
      ...(this.provenance ? { provenance: this.provenance } : {}),
    };
  }

  /** A head from its saved form, every field checked (`where` names the file in errors). */
  static fromJSON(raw: unknown, where = "head.json"): LogisticHead {
    const s = raw as SavedLinearHead;
    if (s?.format !== LINEAR_HEAD_FORMAT) {
      throw new ModelError(`${where}: format is "${s?.format}", expected "${LINEAR_HEAD_FORMAT}"`);
    }
    const numbers = (v: unknown, len?: number) =>
      Array.isArray(v) && v.every(Number.isFinite) && (len === undefined || v.length === len);
    const d = Array.isArray(s.weights) ? s.weights.length : 0;
    if (
      d < 1 || !numbers(s.weights, d) || !numbers(s.mean, d) || !numbers(s.scale, d) ||
      s.scale.some((v) => !(v > 0)) || !Number.isFinite(s.intercept) ||
      !(s.threshold >= 0 && s.threshold <= 1) || !numbers(s.reference) ||
      !(Number.isInteger(s.n?.natural) && Number.isInteger(s.n?.rendered))
    ) {
      throw new ModelError(
        `${where}: bad weights, standardisation, threshold, reference or image counts`,
      );
    }
    return new LogisticHead({ c: s.c, nu: s.nu, folds: s.folds, seed: s.seed }).restore(s, {
      mean: Float64Array.from(s.mean),
      scale: Float64Array.from(s.scale),
      w: Float64Array.from(s.weights),
      b: s.intercept,
    });
  }
}

function decision(m: LogisticFit, x: Float32Array, at: number): number {
  let s = m.b;
  for (let j = 0; j < m.w.length; j++) s += m.w[j] * (x[at + j] - m.mean[j]) / m.scale[j];
  return s;
}

/** Standardisation and Newton's method on the given rows (see the module documentation). */
function fitLogistic(
  x: Float32Array,
  dim: number,
  rows: number[],
  y: ArrayLike<number>,
  c: number,
): LogisticFit {
  const n = rows.length, { mean, scale } = standardiser(x, dim, rows);
  // the standardised rows with a column of ones last (the intercept)
  const d = dim + 1, z = new Float64Array(n * d);
  rows.forEach((i, r) => {
    for (let j = 0; j < dim; j++) z[r * d + j] = (x[i * dim + j] - mean[j]) / scale[j];
    z[r * d + dim] = 1;
  });
  const pos = rows.filter((i) => y[i] === 1).length;
  const weight = rows.map((i) => n / (2 * (y[i] === 1 ? pos : n - pos)));
  const theta = new Float64Array(d);
  const objective = (t: Float64Array) => {
    let f = 0;
    for (let j = 0; j < dim; j++) f += 0.5 * t[j] * t[j];
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += z[r * d + j] * t[j];
      const m = y[rows[r]] === 1 ? -s : s; // log(1 + exp(-y s)), y = ±1
      f += c * weight[r] * (m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m)));
    }
    return f;
  };
  let f = objective(theta);
  for (let iter = 0; iter < 100; iter++) {
    if (d > DIRECT_NEWTON_MAX + 1) {
      const step = newtonCgStep(z, n, d, theta, (r) => y[rows[r]], (r) => c * weight[r]);
      if (!step || halve(step).done) break;
      continue;
    }
    const grad = new Float64Array(d), h: Mat = zeros(d, d), H = h.data;
    for (let j = 0; j < dim; j++) grad[j] = theta[j], H[j * d + j] = 1;
    for (let r = 0; r < n; r++) {
      let s = 0;
      const o = r * d;
      for (let j = 0; j < d; j++) s += z[o + j] * theta[j];
      const p = logistic(s), g = c * weight[r] * (p - y[rows[r]]), v = c * weight[r] * p * (1 - p);
      for (let j = 0; j < d; j++) {
        const zj = z[o + j];
        grad[j] += g * zj;
        const vz = v * zj;
        if (vz === 0) continue;
        for (let k = 0; k <= j; k++) H[j * d + k] += vz * z[o + k];
      }
    }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) H[k * d + j] = H[j * d + k];
    if (Math.hypot(...grad) < 1e-8 * Math.max(1, n)) break;
    // the Newton step: solve H step = grad (H = L Lᵀ)
    const l = cholesky(h), step = forwardSolve(l, Float64Array.from(grad));
    for (let i = d - 1; i >= 0; i--) {
      let s = step[i];
      for (let k = i + 1; k < d; k++) s -= l.data[k * d + i] * step[k];
      step[i] = s / l.data[i * d + i];
    }
    if (halve(step).done) break;
  }
  return { mean, scale, w: theta.slice(0, dim), b: theta[dim] };

  /** Takes `step` (halved until the objective does not rise); done when it no longer moves. */
  function halve(step: Float64Array): { done: boolean } {
    let t = 1, next = theta.map((v, j) => v - step[j]), fn = objective(next);
    while (fn > f && t > 1e-10) {
      t /= 2;
      next = theta.map((v, j) => v - t * step[j]);
      fn = objective(next);
    }
    const moved = Math.max(...step.map((v) => Math.abs(v * t)));
    theta.set(next);
    const done = f - fn <= 1e-12 * Math.max(1, Math.abs(f)) && moved < 1e-9;
    f = fn;
    return { done };
  }
}

/**
 * One Newton step of the objective above at `theta`, for rows `z` (n rows of d, the last column
 * the intercept's ones), solved by preconditioned conjugate gradients on H·u = ∇ with H·u =
 * u (but the intercept's) + Σᵣ vᵣ zᵣ (zᵣ·u); none when the gradient is already zero (as the
 * direct solver's test). `label(r)` is 0 or 1, `cw(r)` C times the row's class weight.
 */
function newtonCgStep(
  z: Float64Array,
  n: number,
  d: number,
  theta: Float64Array,
  label: (r: number) => number,
  cw: (r: number) => number,
): Float64Array | undefined {
  const dim = d - 1, grad = new Float64Array(d), v = new Float64Array(n);
  const diag = new Float64Array(d);
  for (let j = 0; j < dim; j++) grad[j] = theta[j], diag[j] = 1;
  for (let r = 0; r < n; r++) {
    let s = 0;
    const o = r * d;
    for (let j = 0; j < d; j++) s += z[o + j] * theta[j];
    const p = logistic(s), g = cw(r) * (p - label(r));
    v[r] = cw(r) * p * (1 - p);
    for (let j = 0; j < d; j++) {
      grad[j] += g * z[o + j];
      diag[j] += v[r] * z[o + j] * z[o + j];
    }
  }
  const gnorm = Math.hypot(...grad);
  // tighter than the direct path's 1e-8: these steps converge superlinearly, not quadratically,
  // and the last one must not stop short of the optimum
  if (gnorm < 1e-10 * Math.max(1, n)) return undefined;
  const hv = (u: Float64Array) => {
    const out = new Float64Array(d);
    for (let j = 0; j < dim; j++) out[j] = u[j];
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += z[o + j] * u[j];
      s *= v[r];
      if (s === 0) continue;
      for (let j = 0; j < d; j++) out[j] += s * z[o + j];
    }
    return out;
  };
  // solved to a residual of min(0.5, √‖∇‖)·‖∇‖ (superlinear convergence), at most d iterations
  const tol = Math.min(0.5, Math.sqrt(gnorm)) * gnorm;
  const x = new Float64Array(d), res = Float64Array.from(grad);
  const pre = (u: Float64Array) => u.map((x, j) => x / (diag[j] || 1));
  let q = pre(res);
  const dir = Float64Array.from(q);
  let rq = res.reduce((a, x, j) => a + x * q[j], 0);
  for (let k = 0; k < d && Math.hypot(...res) > tol; k++) {
    const hd = hv(dir), dhd = dir.reduce((a, x, j) => a + x * hd[j], 0);
    if (!(dhd > 0)) break;
    const alpha = rq / dhd;
    for (let j = 0; j < d; j++) x[j] += alpha * dir[j], res[j] -= alpha * hd[j];
    q = pre(res);
    const next = res.reduce((a, x, j) => a + x * q[j], 0);
    for (let j = 0; j < d; j++) dir[j] = q[j] + (next / rq) * dir[j];
    rq = next;
  }
  // no curvature found along the first direction: the preconditioned gradient, not a zero step
  // (which the line search would read as converged)
  return x.some((v) => v !== 0) ? x : grad.map((v, j) => v / (diag[j] || 1));
}
