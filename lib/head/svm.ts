/**
 * A kernel head: a support vector machine with an RBF kernel on whole-image feature vectors,
 * photographs (label 0) against renders (label 1), scikit-learn style, as {@link LogisticHead}
 * (the same `fit`, `decisionFunction`, `pCg`, `predict`, `toJSON` / {@link RbfSvmHead.fromJSON},
 * and the same threshold set out of fold on the photographs).
 *
 * The model is scikit-learn's `make_pipeline(StandardScaler(), SVC(C, kernel="rbf",
 * gamma="scale", class_weight="balanced"))`, the one docs/production.md ("A non-linear head")
 * measured: each column standardised, then the dual of the soft-margin SVM,
 * min ½ αᵀQα − Σ αᵢ with Qᵢⱼ = yᵢyⱼ exp(−γ‖zᵢ − zⱼ‖²), 0 ≤ αᵢ ≤ C sᵢ (sᵢ = n / (2 nᵢ's class)),
 * Σ yᵢαᵢ = 0, yᵢ = ±1 (+1 a render), γ = 1 / (d · the variance of every standardised entry).
 * It is solved as libsvm (which scikit-learn runs) solves it: sequential minimal optimisation
 * with second-order working-set selection, stopped when no pair violates the optimality
 * conditions by 1e-3 (libsvm's tolerance; no shrinking, which changes the path, not the optimum),
 * on the standardised vectors and kernel rows in single precision. The optimum is unique, so the
 * two differ only by where each stops: measured, within 9e-4 on the decision (tasks/svm_parity.ts).
 * The decision is Σ yᵢαᵢ K(zᵢ, z) − ρ over the support vectors (αᵢ > 0), and p(CG) its logistic:
 * a monotone map for the threshold and the fused score, not a calibrated probability. The saved
 * head keeps its support vectors (standardised, float32 little-endian, base64): about 2.1 kB each
 * at 384 features, so it is larger than a linear head.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { ModelError, UsageError } from "../core/errors.ts";
import { DEFAULT_NU } from "../core/stats.ts";
import { type Standardiser, standardiser, ThresholdedHead } from "./_fit.ts";

/** Format tag of a saved kernel head. */
export const RBF_HEAD_FORMAT = "cgvsni-rbf-head/1";

/** Settings of {@link RbfSvmHead}. */
export interface RbfSvmOptions {
  /** Box constraint, the cost of a margin violation (default: {@link RBF_SVM_DEFAULTS}). */
  c?: number;
  /** Share of the natural images above the threshold. */
  nu?: number;
  /** Folds of the out-of-fold threshold. */
  folds?: number;
  /** Seed of the folds. */
  seed?: number;
}

/** The defaults of {@link RbfSvmOptions} (C as docs/production.md measured it; scikit-learn's). */
export const RBF_SVM_DEFAULTS = { c: 1, nu: DEFAULT_NU, folds: 5, seed: 0 } as const;

/** Largest violation of the optimality conditions the solver stops at (libsvm's `eps`). */
const TOLERANCE = 1e-3;

/** A saved kernel head (`head.json`). */
export interface SavedRbfHead {
  /** {@link RBF_HEAD_FORMAT}. */
  format: string;
  /** Box constraint it was fitted with. */
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
  /** Kernel width: K(a, b) = exp(−γ‖a − b‖²) on standardised vectors. */
  gamma: number;
  /** yᵢαᵢ of each support vector. */
  coefficients: number[];
  /** The support vectors, standardised: little-endian float32, row after row, base64. */
  vectors: string;
  /** The decision's offset: decision = Σ yᵢαᵢ K(zᵢ, z) − ρ. */
  rho: number;
  /** p(CG) at or above which an image is called rendered. */
  threshold: number;
  /** The photographs' out-of-fold p(CG), ascending. */
  reference: number[];
  /** Training images: photographs and renders. */
  n: { natural: number; rendered: number };
  /** Whatever the trainer records (features, data, sources). */
  provenance?: Record<string, unknown>;
}

/** The fitted parameters of an {@link RbfSvmHead}, apart from the threshold. */
export interface RbfSvmFit extends Standardiser {
  /** Kernel width: K(a, b) = exp(−γ‖a − b‖²). */
  gamma: number;
  /** Support vectors, standardised, row after row. */
  sv: Float32Array;
  /** Their squared norms. */
  norms: Float64Array;
  /** yᵢαᵢ of each support vector. */
  coef: Float64Array;
  /** The decision's offset. */
  rho: number;
}

/**
 * A support vector machine with an RBF kernel on feature vectors, with its natural threshold.
 *
 * @example Renders on a ring around the photographs: no line separates them, a kernel does
 * ```ts
 * import { RbfSvmHead } from "./mod.ts";
 * const n = 120, x = new Float32Array(n * 2), y = new Uint8Array(n), groups: number[] = [];
 * for (let i = 0; i < n; i++) {
 *   y[i] = i % 2;
 *   groups.push(y[i] ? 100 + i : i % 6); // six photograph sources; each render alone
 *   const r = y[i] ? 3 : 1, a = 2.4 * i;
 *   x.set([r * Math.cos(a), r * Math.sin(a)], i * 2);
 * }
 * const h = new RbfSvmHead().fit(x, n, 2, y, groups);
 * const p = h.pCg(new Float32Array([0, 0, 3, 0]), 2);
 * console.log(p[0] < h.threshold, p[1] >= h.threshold); // true true
 * ```
 */
export class RbfSvmHead extends ThresholdedHead<RbfSvmFit> {
  /** An unfitted head. */
  constructor(o: RbfSvmOptions = {}) {
    super(o, RBF_SVM_DEFAULTS, "kernel head");
  }

  /** Number of support vectors (0 before fitting). */
  get supportVectors(): number {
    return this.model?.coef.length ?? 0;
  }

  /** The model fitted on some rows (see the module documentation). */
  protected fitRows(x: Float32Array, dim: number, rows: number[], y: ArrayLike<number>): RbfSvmFit {
    return fitSvm(x, dim, rows, y, this.c);
  }

  /** The decision of the row of `x` starting at `at` (above 0: the render side). */
  protected decide(m: RbfSvmFit, x: Float32Array, at: number): number {
    return decision(m, x, at);
  }

  /**
   * This head fitted again on its support vectors and `n` more rows of `x` (labels `y`: 0 a
   * photograph, 1 a render), without the images it was trained on: an SVM's solution depends on
   * its support vectors alone, so they stand in for those images (an incremental SVM; a training
   * image that was not a support vector cannot become one). The standardisation, kernel width and
   * C are this head's; each class's bound is C n / (2 nᵢ's class) over this head's training counts
   * plus the rows. With no rows it gives back this head within the solver's tolerance. The
   * threshold and its reference are kept (they are the photographs' out-of-fold p(CG), which
   * cannot be computed again without them): `calibrate` raises the threshold on the user's
   * photographs and joins their p(CG) to the reference, which stays the old head's otherwise.
   *
   * @example Its support vectors alone give back the head; an image added is counted
   * ```ts
   * import { RbfSvmHead } from "./mod.ts";
   * const ring = (n: number, r: number) =>
   *   Float32Array.from({ length: 2 * n }, (_, k) => r * (k % 2 ? Math.sin : Math.cos)(k >> 1));
   * const x = new Float32Array([...ring(30, 1), ...ring(30, 3)]);
   * const y = Array.from({ length: 60 }, (_, i) => i < 30 ? 0 : 1);
   * const h = new RbfSvmHead().fit(x, 60, 2, y, y.map((v, i) => v ? 100 : i % 5));
   * const same = h.withImages(new Float32Array(0), 0, 2, []);
   * console.log(Math.abs(same.pCg(x, 60)[7] - h.pCg(x, 60)[7]) < 1e-3); // true
   * console.log(h.withImages(new Float32Array([6, 6]), 1, 2, [1]).n); // { natural: 30, rendered: 31 }
   * ```
   */
  withImages(x: Float32Array, n: number, dim: number, y: ArrayLike<number>): RbfSvmHead {
    const m = this.fitted(x, n);
    if (dim !== m.mean.length) {
      throw new ModelError(`the kernel head reads ${m.mean.length}-d vectors, got ${dim}`);
    }
    if (y.length !== n || !Array.from(y).every((v) => v === 0 || v === 1)) {
      throw new UsageError(`withImages: ${n} rows need as many labels, each 0 or 1`);
    }
    if (!x.every(Number.isFinite)) throw new UsageError("withImages: a row is not finite");
    const k = m.coef.length, z = new Float32Array((k + n) * dim);
    z.set(m.sv);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) {
        z[(k + i) * dim + j] = (x[i * dim + j] - m.mean[j]) / m.scale[j];
      }
    }
    const labels = Int8Array.from(
      { length: k + n },
      (_, t) => t < k ? (m.coef[t] > 0 ? 1 : -1) : (y[t - k] === 1 ? 1 : -1),
    );
    const added = Array.from(y).filter((v) => v === 1).length;
    const counts = { natural: this.n.natural + n - added, rendered: this.n.rendered + added };
    const total = counts.natural + counts.rendered;
    const bound = (v: number) =>
      this.c * total / (2 * (v === 1 ? counts.rendered : counts.natural));
    const h = new RbfSvmHead({ c: this.c, nu: this.nu, folds: this.folds, seed: this.seed });
    const provenance = this.provenance ? structuredClone(this.provenance) : undefined;
    return h.restore({ ...this, n: counts, provenance }, {
      mean: m.mean,
      scale: m.scale,
      ...solveSvm(z, dim, labels, Float64Array.from(labels, bound), m.gamma),
    });
  }

  /** The saved form (`head.json`). */
  toJSON(): SavedRbfHead {
    const m = this.fitted();
    return {
      format: RBF_HEAD_FORMAT,
      c: this.c,
      nu: this.nu,
      folds: this.folds,
      seed: this.seed,
      mean: [...m.mean],
      scale: [...m.scale],
      gamma: m.gamma,
      coefficients: [...m.coef],
      vectors: encodeFloats(m.sv),
      rho: m.rho,
      threshold: this.threshold,
      reference: this.reference,
      n: this.n,
      ...(this.provenance ? { provenance: this.provenance } : {}),
    };
  }

  /** A head from its saved form, every field checked (`where` names the file in errors). */
  static fromJSON(raw: unknown, where = "head.json"): RbfSvmHead {
    const s = raw as SavedRbfHead;
    if (s?.format !== RBF_HEAD_FORMAT) {
      throw new ModelError(`${where}: format is "${s?.format}", expected "${RBF_HEAD_FORMAT}"`);
    }
    const numbers = (v: unknown, len?: number) =>
      Array.isArray(v) && v.every(Number.isFinite) && (len === undefined || v.length === len);
    const d = Array.isArray(s.mean) ? s.mean.length : 0;
    const k = Array.isArray(s.coefficients) ? s.coefficients.length : 0;
    const sv = typeof s.vectors === "string" ? decodeFloats(s.vectors, k * d) : undefined;
    if (
      d < 1 || k < 1 || !numbers(s.mean, d) || !numbers(s.scale, d) ||
      s.scale.some((v) => !(v > 0)) || !numbers(s.coefficients, k) || !sv ||
      !sv.every(Number.isFinite) || !(s.gamma > 0 && Number.isFinite(s.gamma)) ||
      !Number.isFinite(s.rho) || !(s.threshold >= 0 && s.threshold <= 1) ||
      !numbers(s.reference) || !(Number.isInteger(s.n?.natural) && Number.isInteger(s.n?.rendered))
    ) {
      throw new ModelError(
        `${where}: bad support vectors, standardisation, kernel, threshold, reference or image counts`,
      );
    }
    let h: RbfSvmHead;
    try {
      if (![s.c, s.nu, s.folds, s.seed].every(Number.isFinite)) throw new UsageError("missing");
      h = new RbfSvmHead({ c: s.c, nu: s.nu, folds: s.folds, seed: s.seed });
    } catch {
      throw new ModelError(`${where}: bad settings (c, nu, folds, seed)`);
    }
    return h.restore(s, {
      mean: Float64Array.from(s.mean),
      scale: Float64Array.from(s.scale),
      gamma: s.gamma,
      sv,
      norms: squaredNorms(sv, d),
      coef: Float64Array.from(s.coefficients),
      rho: s.rho,
    });
  }
}

/** Float32 values as little-endian bytes in base64. */
function encodeFloats(v: Float32Array): string {
  const bytes = new Uint8Array(v.length * 4), view = new DataView(bytes.buffer);
  v.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return Buffer.from(bytes).toString("base64");
}

/** `n` float32 values from little-endian bytes in base64; undefined when not `n` of them. */
function decodeFloats(text: string, n: number): Float32Array | undefined {
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== n * 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
}

function squaredNorms(v: Float32Array, d: number): Float64Array {
  const out = new Float64Array(v.length / d);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += v[i * d + j] * v[i * d + j];
    out[i] = s;
  }
  return out;
}

/** The decision of the row of `x` starting at `at`. */
function decision(m: RbfSvmFit, x: Float32Array, at: number): number {
  const d = m.mean.length, z = new Float64Array(d);
  let zz = 0;
  for (let j = 0; j < d; j++) {
    z[j] = Math.fround((x[at + j] - m.mean[j]) / m.scale[j]);
    zz += z[j] * z[j];
  }
  let s = -m.rho;
  for (let i = 0; i < m.coef.length; i++) {
    let dot = 0;
    const o = i * d;
    for (let j = 0; j < d; j++) dot += m.sv[o + j] * z[j];
    s += m.coef[i] * Math.exp(-m.gamma * Math.max(0, m.norms[i] + zz - 2 * dot));
  }
  return s;
}

/**
 * Standardisation, then libsvm's solver for the C-SVM dual on the given rows (see the module
 * documentation): the working pair chosen by the largest first- and second-order gain, updated
 * in closed form within the box, until no pair violates the optimality conditions by more than
 * the tolerance; ρ from the free vectors (or the middle of the bounds when none is free).
 */
function fitSvm(
  x: Float32Array,
  dim: number,
  rows: number[],
  y01: ArrayLike<number>,
  c: number,
): RbfSvmFit {
  const n = rows.length, { mean, scale } = standardiser(x, dim, rows);
  const z = new Float32Array(n * dim);
  rows.forEach((i, r) => {
    for (let j = 0; j < dim; j++) z[r * dim + j] = (x[i * dim + j] - mean[j]) / scale[j];
  });
  // γ = "scale": 1 / (d · the variance of every entry of the standardised matrix)
  let sum = 0, sq = 0;
  for (const v of z) sum += v, sq += v * v;
  const variance = sq / z.length - (sum / z.length) ** 2;
  const gamma = variance > 0 ? 1 / (dim * variance) : 1;
  const y = Int8Array.from(rows, (i) => y01[i] === 1 ? 1 : -1);
  const pos = y.filter((v) => v === 1).length;
  const box = Float64Array.from(y, (v) => c * n / (2 * (v === 1 ? pos : n - pos)));
  return { mean, scale, ...solveSvm(z, dim, y, box, gamma) };
}

/**
 * The dual of the soft-margin SVM on standardised rows `z` (labels ±1, each row's bound `box`, the
 * kernel width `gamma`), solved as libsvm solves it; its support vectors, their coefficients and ρ.
 */
function solveSvm(
  z: Float32Array,
  dim: number,
  y: Int8Array,
  box: Float64Array,
  gamma: number,
): Omit<RbfSvmFit, keyof Standardiser> {
  const n = y.length, norms = squaredNorms(z, dim);
  // the rows of Q (yᵢyⱼKᵢⱼ, single precision as libsvm's), computed when first needed; the
  // cache is bounded (about 256 MiB), the oldest row dropped first
  const cache = new Map<number, Float32Array>(), capacity = Math.max(2, (1 << 26) / n | 0);
  const row = (i: number): Float32Array => {
    let q = cache.get(i);
    if (q) return q;
    q = new Float32Array(n);
    const o = i * dim;
    for (let t = 0; t < n; t++) {
      let dot = 0;
      const p = t * dim;
      for (let j = 0; j < dim; j++) dot += z[o + j] * z[p + j];
      q[t] = y[i] * y[t] * Math.exp(-gamma * Math.max(0, norms[i] + norms[t] - 2 * dot));
    }
    if (cache.size >= capacity) cache.delete(cache.keys().next().value!);
    cache.set(i, q);
    return q;
  };
  const TAU = 1e-12, qd = new Float64Array(n).fill(1); // K(z, z) = 1
  const alpha = new Float64Array(n), grad = new Float64Array(n).fill(-1);
  const upper = (t: number) => alpha[t] >= box[t], lower = (t: number) => alpha[t] <= 0;
  const maxIter = Math.max(10_000_000, 100 * n);
  let converged = false;
  for (let iter = 0; iter < maxIter; iter++) {
    // the working set: i by the largest violation, j by the largest second-order gain with i
    let gMax = -Infinity, gMax2 = -Infinity, i = -1, j = -1, best = Infinity;
    for (let t = 0; t < n; t++) {
      if (y[t] === 1 ? !upper(t) : !lower(t)) {
        const v = -y[t] * grad[t];
        if (v >= gMax) gMax = v, i = t;
      }
    }
    if (i < 0) {
      converged = true;
      break;
    }
    const qi = row(i);
    for (let t = 0; t < n; t++) {
      if (y[t] === 1 ? lower(t) : upper(t)) continue;
      const v = y[t] * grad[t], gain = gMax + v;
      if (v >= gMax2) gMax2 = v;
      if (gain > 0) {
        const quad = qd[i] + qd[t] - 2 * y[i] * y[t] * qi[t];
        const obj = -(gain * gain) / (quad > 0 ? quad : TAU);
        if (obj <= best) best = obj, j = t;
      }
    }
    if (gMax + gMax2 < TOLERANCE || j < 0) {
      converged = true;
      break;
    }
    const qj = row(j), ci = box[i], cj = box[j], oldI = alpha[i], oldJ = alpha[j];
    if (y[i] !== y[j]) {
      let quad = qd[i] + qd[j] + 2 * qi[j];
      if (quad <= 0) quad = TAU;
      const delta = (-grad[i] - grad[j]) / quad, diff = alpha[i] - alpha[j];
      alpha[i] += delta, alpha[j] += delta;
      if (diff > 0) {
        if (alpha[j] < 0) alpha[j] = 0, alpha[i] = diff;
      } else if (alpha[i] < 0) alpha[i] = 0, alpha[j] = -diff;
      if (diff > ci - cj) {
        if (alpha[i] > ci) alpha[i] = ci, alpha[j] = ci - diff;
      } else if (alpha[j] > cj) alpha[j] = cj, alpha[i] = cj + diff;
    } else {
      let quad = qd[i] + qd[j] - 2 * qi[j];
      if (quad <= 0) quad = TAU;
      const delta = (grad[i] - grad[j]) / quad, total = alpha[i] + alpha[j];
      alpha[i] -= delta, alpha[j] += delta;
      if (total > ci) {
        if (alpha[i] > ci) alpha[i] = ci, alpha[j] = total - ci;
      } else if (alpha[j] < 0) alpha[j] = 0, alpha[i] = total;
      if (total > cj) {
        if (alpha[j] > cj) alpha[j] = cj, alpha[i] = total - cj;
      } else if (alpha[i] < 0) alpha[i] = 0, alpha[j] = total;
    }
    const dI = alpha[i] - oldI, dJ = alpha[j] - oldJ;
    for (let t = 0; t < n; t++) grad[t] += qi[t] * dI + qj[t] * dJ;
  }
  if (!converged) {
    throw new ModelError(
      `the kernel head's solver did not converge in ${maxIter} iterations (${n} rows)`,
    );
  }
  // ρ: the mean of yᵢ∇ᵢ over the free vectors, else the middle of the bounds
  let free = 0, freeSum = 0, ub = Infinity, lb = -Infinity;
  for (let t = 0; t < n; t++) {
    const v = y[t] * grad[t];
    if (upper(t)) {
      if (y[t] === -1) ub = Math.min(ub, v);
      else lb = Math.max(lb, v);
    } else if (lower(t)) {
      if (y[t] === 1) ub = Math.min(ub, v);
      else lb = Math.max(lb, v);
    } else free++, freeSum += v;
  }
  const rho = free > 0 ? freeSum / free : (ub + lb) / 2;
  const keep = [...alpha.keys()].filter((t) => alpha[t] > 0);
  const sv = new Float32Array(keep.length * dim);
  keep.forEach((t, k) => sv.set(z.subarray(t * dim, (t + 1) * dim), k * dim));
  return {
    gamma,
    sv,
    norms: squaredNorms(sv, dim),
    coef: Float64Array.from(keep, (t) => y[t] * alpha[t]),
    rho,
  };
}
