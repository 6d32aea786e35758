/**
 * `gauss`: a Gaussian model of the natural class. Its raw score is the squared Mahalanobis
 * distance to the training mean under a Ledoit–Wolf shrinkage covariance (Ledoit & Wolf, 2004;
 * the estimate of scikit-learn's `LedoitWolf`), optionally in the space of the `pca` leading
 * principal components.
 *
 * The covariance is Σ = (1 − δ)·S + δ·μ·I, S the empirical covariance and μ its mean variance,
 * δ by the Ledoit–Wolf formula; with fewer vectors than dimensions Σ is inverted through the
 * Woodbury identity on the n x n Gram matrix (no 4096 x 4096 factorisation for L9).
 *
 * **Parts.** With `parts` (sizes of consecutive column ranges, e.g. the residual features'
 * co-occurrences and slopes), one Gaussian is fitted to each part, and an image is as far out
 * as its farthest part: raw = max over parts of (distance ÷ that part's scale), the scale being
 * the (1 − ν) quantile of the part's out-of-fold distances on the training vectors, so a part
 * of 8 numbers counts as much as one of 1176. With one part (the default) raw is the distance.
 *
 * **Checks.** Parts named in `checks` do not enter the score: raw is the largest over the other
 * parts. A check part still has its Gaussian and its scale, and {@link
 * GaussianOneClass.partScores} gives its distance over its scale minus 1: above 0, the vector is
 * beyond the check part's own (1 − ν) quantile and fails the check. The detector then never calls
 * the image natural (`Detection.checks`). The residual features' slope is such a check
 * (docs/results-cgbench.md, "Photographs from a source the model never saw").
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
  forwardSolveMany,
  gram,
  type Mat,
  roundedToFloat32,
  sqrtWeightedRows,
  topEigen,
  zeros,
} from "../core/linalg.ts";
import { quantile, weightedQuantile } from "../core/stats.ts";
import {
  type EstimatorOptions,
  type FitOptions,
  loadAs,
  ONECLASS_STEM,
  OneClassEstimator,
  savedCommon,
  type SavedModel,
} from "./estimator.ts";

/** Settings of {@link GaussianOneClass}. */
export interface GaussOptions extends EstimatorOptions {
  /** Principal components kept before the Gaussian (0: none, the default; one part only). */
  pca?: number;
  /**
   * Sizes of consecutive column ranges, each with a Gaussian of its own (see the module
   * documentation; default: one part, all columns).
   */
  parts?: number[];
  /** Names of the parts, saved with the model and used by {@link GaussianOneClass.partScores}. */
  partNames?: string[];
  /** Names of parts that check but do not score (see the module documentation; default none). */
  checks?: string[];
}

/** One fitted Gaussian over the columns `start` to `end` (exclusive). */
interface Part {
  start: number;
  end: number;
  shrinkage: number;
  mean: Float64Array;
  axes?: Mat; // d x k principal axes
  space: number; // dimension the Gaussian lives in
  // Σ = a·ZᵀZ + b·I on the centred (projected) training rows Z
  a: number;
  b: number;
  chol: Mat; // Cholesky factor of Σ (space ≤ n) or of (b/a)·I + ZZᵀ (space > n)
  z?: Mat; // centred training rows, for the Woodbury form
  scale: number; // what its distances are divided by (1 with one part)
}

/** The defaults of {@link GaussOptions}. */
export const GAUSS_DEFAULTS = { pca: 0 } as const;

/**
 * The Mahalanobis (Ledoit–Wolf) one-class model.
 *
 * @example Mahalanobis (Ledoit-Wolf), threshold from out-of-fold scores
 * ```ts
 * import { GaussianOneClass } from "./mod.ts";
 * const x = Float32Array.from({ length: 200 * 3 }, (_, i) => Math.sin(i * 7.1));
 * const m = await new GaussianOneClass().fit(x, 200, 3); // threshold: "cv" by default
 * const s = await m.decisionFunction(new Float32Array([0, 0, 0, 50, 50, 50]), 2);
 * console.log(s[0] < s[1], m.shrinkage); // true, the Ledoit-Wolf shrinkage
 * ```
 *
 * @example Two parts: the last 2 columns get a Gaussian of their own
 * ```ts
 * import { GaussianOneClass } from "./mod.ts";
 * const x = Float32Array.from({ length: 100 * 6 }, (_, i) => Math.sin(i * 7.1));
 * const m = await new GaussianOneClass({ parts: [4, 2] }).fit(x, 100, 6);
 * const s = await m.decisionFunction(new Float32Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, -9]), 2);
 * console.log(m.parts, s[0] < 0, s[1] > 0); // [4, 2] true true
 * ```
 *
 * @example A check part: the last 2 columns do not score, but a vector far out in them fails the check
 * ```ts
 * import { GaussianOneClass } from "./mod.ts";
 * const x = Float32Array.from({ length: 100 * 6 }, (_, i) => Math.sin(i * 7.1));
 * const m = await new GaussianOneClass({ parts: [4, 2], partNames: ["a", "b"], checks: ["b"] })
 *   .fit(x, 100, 6);
 * const far = new Float32Array([0, 0, 0, 0, 9, -9]);
 * console.log((await m.decisionFunction(far, 1))[0] < 0, m.partScores(far, 1).b[0] > 0); // true true
 * ```
 */
export class GaussianOneClass extends OneClassEstimator {
  /** Kind tag. */
  readonly kind = "gauss" as const;
  /** Principal components kept (0: none). */
  readonly pca: number;
  /** Sizes of the parts (empty: one part, all columns). */
  readonly parts: number[];
  /** Names of the parts (default `part1`, `part2`, ...; empty with one part). */
  readonly partNames: string[];
  /** Names of the parts that check but do not score (empty: every part scores). */
  override readonly checks: string[];
  #parts: Part[] = [];
  #train: Float32Array = new Float32Array(0);

  /** An unfitted model. */
  constructor(o: GaussOptions = {}) {
    super(o);
    this.pca = o.pca ?? GAUSS_DEFAULTS.pca;
    this.parts = o.parts && o.parts.length > 1 ? [...o.parts] : [];
    if (!(Number.isInteger(this.pca) && this.pca >= 0)) {
      throw new UsageError(`pca must be a non-negative integer, got ${this.pca}`);
    }
    if (this.parts.some((k) => !(Number.isInteger(k) && k >= 1))) {
      throw new UsageError(`parts must be positive integers, got ${this.parts.join(", ")}`);
    }
    if (this.parts.length > 0 && this.pca > 0) {
      throw new UsageError("pca and parts cannot be combined");
    }
    this.partNames = this.parts.length
      ? [...(o.partNames ?? this.parts.map((_, i) => `part${i + 1}`))]
      : [];
    if (
      this.partNames.length !== this.parts.length ||
      new Set(this.partNames).size !== this.partNames.length || this.partNames.some((n) => !n)
    ) {
      throw new UsageError(
        `partNames must name each of the ${this.parts.length} parts once, got ${
          this.partNames.join(", ")
        }`,
      );
    }
    this.checks = [...(o.checks ?? [])];
    if (this.checks.some((c) => !this.partNames.includes(c))) {
      throw new UsageError(
        `checks must name parts (${this.partNames.join(", ") || "none"}), got ${
          this.checks.join(", ")
        }`,
      );
    }
    if (this.parts.length && new Set(this.checks).size >= this.parts.length) {
      throw new UsageError("at least one part must score: not every part can be a check");
    }
  }

  /** The fit weighs its rows ({@link FitOptions.weights}): mean and covariance, weighted. */
  override readonly weighsRows = true;

  /** The Ledoit–Wolf shrinkage δ found by fit (of the first part). */
  get shrinkage(): number {
    return this.#parts[0]?.shrinkage ?? 0;
  }

  /** An unfitted copy with the same settings. */
  clone(): GaussianOneClass {
    return new GaussianOneClass({
      ...this.common,
      pca: this.pca,
      parts: this.parts,
      partNames: this.partNames,
      checks: this.checks,
    });
  }

  /** Fits on normalised vectors. */
  protected async fitNormalised(x: Float32Array, n: number, opts: FitOptions): Promise<void> {
    const d = this.dim, sizes = this.parts.length ? this.parts : [d];
    if (sizes.reduce((a, b) => a + b, 0) !== d) {
      throw new RangeError(`parts ${sizes.join(" + ")} do not add up to the dimension ${d}`);
    }
    if (opts.weights && this.pca > 0) throw new UsageError("pca takes no row weights");
    const rng = new Rng(`pca:${this.seed}`);
    let start = 0;
    const own: Float32Array[] = []; // each part's distances of the training rows
    this.#parts = [];
    for (const k of sizes) {
      const cols = columns(x, n, d, start, start + k);
      const [part, dist] = fitPart(cols, n, k, this.pca, rng, start, opts.weights);
      own.push(dist);
      if (sizes.length > 1) {
        // the part's scale: the (1 - ν) quantile of its out-of-fold distances, each fold
        // standardised on its own as new images would be (an l2 norm stays the whole vector's)
        const norm = this.norm === "l2" ? "none" : this.norm;
        const alone = new GaussianOneClass({ nu: this.nu, norm, seed: this.seed });
        const oof = await alone.outOfFold(cols, n, k, {
          groups: opts.groups,
          foldGroups: opts.foldGroups,
          weights: opts.weights,
        });
        const w = opts.thresholdWeights;
        part.scale = Math.fround(
          w ? weightedQuantile(oof, w, 1 - this.nu) : quantile(oof, 1 - this.nu),
        ) || 1;
      }
      this.#parts.push(part);
      start += k;
    }
    // the training rows' raw scores, from the distances fitPart already computed (one part:
    // its distances, its scale being 1)
    this.#train = this.#largest(own.map((dist, i) => dist.map((v) => v / this.#parts[i].scale)));
  }

  /** Whether part `i` scores (it is not a check). */
  #scores(i: number): boolean {
    return !this.checks.includes(this.partNames[i]);
  }

  /** Part `i`'s distances of normalised rows, over its scale. */
  #scaled(i: number, x: Float32Array, n: number): Float32Array {
    const p = this.#parts[i];
    const dist = mahalanobis(p, centred(p, columns(x, n, this.dim, p.start, p.end), n));
    return dist.map((v) => v / p.scale);
  }

  /** The largest of the scoring parts' values (`byPart[i]`: part `i`'s), per row. */
  #largest(byPart: (Float32Array | undefined)[]): Float32Array {
    const out = new Float32Array(byPart[0]!.length).fill(-Infinity);
    byPart.forEach((d, i) => {
      if (!d || !this.#scores(i)) return;
      for (let r = 0; r < out.length; r++) out[r] = Math.max(out[r], d[r]);
    });
    return out;
  }

  /**
   * Raw outlyingness of normalised rows: each scoring part's distance over its scale, the
   * largest (check parts are not computed).
   */
  #raw(x: Float32Array, n: number): Float32Array {
    return this.#largest(
      this.#parts.map((_, i) => this.#scores(i) ? this.#scaled(i, x, n) : undefined),
    );
  }

  /**
   * Each part's score of `n` vectors, by name: its distance over its scale, minus the threshold.
   * Above 0, that part alone puts the vector outside; {@link OneClassEstimator.decisionFunction} is the
   * largest of the scoring parts. A check part's score is its distance over its scale minus 1:
   * above 0, the vector fails the check. Empty with one part.
   */
  override partScores(x: Float32Array, n: number): Record<string, Float32Array> {
    if (this.#parts.length < 2) return {};
    if (!this.normaliser) throw new ModelError("the one-class model is not fitted");
    const z = this.normaliser.apply(x, n);
    return Object.fromEntries(
      this.partNames.map((name, i) => {
        const cut = this.#scores(i) ? this.threshold : 1;
        return [name, this.#scaled(i, z, n).map((v) => v - cut)];
      }),
    );
  }

  /**
   * The largest check-part score of each of `n` vectors (see {@link GaussianOneClass.partScores};
   * above 0: the vector fails a check), or undefined when the model has no checks.
   */
  override checkScores(x: Float32Array, n: number): Float32Array | undefined {
    if (this.checks.length === 0) return undefined;
    if (!this.normaliser) throw new ModelError("the one-class model is not fitted");
    // the check parts only: the scoring parts, the costly ones, are not computed again
    const z = this.normaliser.apply(x, n), out = new Float32Array(n).fill(-Infinity);
    this.#parts.forEach((_, i) => {
      if (this.#scores(i)) return;
      const d = this.#scaled(i, z, n);
      for (let r = 0; r < n; r++) out[r] = Math.max(out[r], d[r] - 1);
    });
    return out;
  }

  /** Raw outlyingness of normalised vectors. */
  protected rawNormalised(x: Float32Array, n: number): Float32Array {
    return this.#raw(x, n);
  }

  /** Raw scores of the training vectors themselves. */
  protected trainingScores(): Float32Array {
    return this.#train;
  }

  /** The fitted parameters, as named arrays: `gauss/…` with one part, `gauss/<i>/…` with several. */
  protected arrays(): NamedArray[] {
    const f = (name: string, m: Mat): NamedArray => ({
      name,
      shape: [m.rows, m.cols],
      data: Float32Array.from(m.data),
    });
    return this.#parts.flatMap((p, i) => {
      const at = this.#parts.length > 1 ? `gauss/${i}/` : "gauss/";
      return [
        { name: `${at}mean`, shape: [p.end - p.start], data: Float32Array.from(p.mean) },
        ...(p.axes ? [f(`${at}axes`, p.axes)] : []),
        f(`${at}chol`, p.chol),
        ...(p.z ? [f(`${at}train`, p.z)] : []),
      ];
    });
  }

  /** The settings saved in the manifest (with several parts, each part's in `parts`). */
  protected meta(): Record<string, unknown> {
    const scalars = (p: Part) => ({
      shrinkage: p.shrinkage,
      a: p.a,
      b: p.b,
      space: p.space,
      woodbury: p.z ? p.z.rows : 0,
    });
    if (this.#parts.length === 1) return { pca: this.pca, ...scalars(this.#parts[0]) };
    return {
      pca: 0,
      parts: this.#parts.map((p, i) => ({
        name: this.partNames[i],
        ...(this.checks.includes(this.partNames[i]) ? { check: true } : {}),
        size: p.end - p.start,
        scale: p.scale,
        ...scalars(p),
      })),
    };
  }

  /** The arrays a saved model of these settings holds. */
  static shapes(settings: Record<string, unknown>, dim: number): [string, number[]][] {
    const parts = partSettings(settings, dim);
    return parts.flatMap((s, i) => {
      const at = parts.length > 1 ? `gauss/${i}/` : "gauss/";
      const space = s.space as number, rows = s.woodbury as number, size = s.size as number;
      if (!Number.isInteger(space) || space < 1 || !Number.isInteger(rows) || rows < 0) {
        throw new RangeError("bad gauss settings");
      }
      return [
        [`${at}mean`, [size]],
        ...((settings.pca as number) > 0
          ? [[`${at}axes`, [size, space]] as [string, number[]]]
          : []),
        [`${at}chol`, rows > 0 ? [rows, rows] : [space, space]],
        ...(rows > 0 ? [[`${at}train`, [rows, space]] as [string, number[]]] : []),
      ] as [string, number[]][];
    });
  }

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): GaussianOneClass {
    const s = saved.settings, parts = partSettings(s, saved.dim);
    const names = parts.map((p, i) => (p.name as string | undefined) ?? `part${i + 1}`);
    const m = new GaussianOneClass({
      ...savedCommon(saved),
      pca: s.pca as number,
      parts: parts.map((p) => p.size as number),
      partNames: parts.length > 1 ? names : undefined,
      checks: names.filter((_, i) => parts[i].check === true),
    });
    m.restoreCommon(saved);
    let start = 0;
    m.#parts = parts.map((p, i) => {
      const at = parts.length > 1 ? `gauss/${i}/` : "gauss/";
      const mat = (name: string): Mat => {
        const a = saved.arrays.get(at + name)!;
        return { rows: a.shape[0], cols: a.shape[1], data: Float64Array.from(a.data) };
      };
      const a = p.a as number, b = p.b as number, scale = (p.scale ?? 1) as number;
      if (!(a >= 0 && b > 0 && scale > 0)) {
        throw new ModelError(`${saved.where}: bad covariance scalars`);
      }
      const size = p.size as number;
      const part: Part = {
        start,
        end: start + size,
        shrinkage: p.shrinkage as number,
        mean: Float64Array.from(saved.arrays.get(`${at}mean`)!.data),
        axes: m.pca > 0 ? mat("axes") : undefined,
        space: p.space as number,
        a,
        b,
        chol: mat("chol"),
        z: (p.woodbury as number) > 0 ? mat("train") : undefined,
        scale,
      };
      start += size;
      return part;
    });
    return m;
  }

  /** Loads a model saved by {@link OneClassEstimator.save}. */
  static load(dir: Location, stem = ONECLASS_STEM): Promise<GaussianOneClass> {
    return loadAs(dir, stem, "gauss", GaussianOneClass.shapes, GaussianOneClass.restore);
  }

  /** Frees tensors, if any. */
  dispose(): void {}
}

/** Each part's saved settings, with its `size`: one part (all columns) unless `parts` is saved. */
function partSettings(settings: Record<string, unknown>, dim: number): Record<string, unknown>[] {
  if (settings.parts === undefined) return [{ ...settings, size: dim }];
  const parts = settings.parts as Record<string, unknown>[];
  if (
    !Array.isArray(parts) || parts.length < 2 ||
    parts.some((p) => !(Number.isInteger(p?.size) && (p.size as number) >= 1)) ||
    parts.reduce((t, p) => t + (p.size as number), 0) !== dim
  ) throw new RangeError("bad gauss parts");
  return parts;
}

/**
 * Fits one Gaussian to `n` rows of `k` columns (the columns from `start` of the full vectors),
 * and returns it with the training rows' own distances. With `weights`, row i counts as
 * n·wᵢ ÷ Σw rows in the mean and the covariance, and the shrinkage judges the covariance's noise
 * at the weights' effective size, (Σw)² ÷ Σw² rows (n with equal weights): weighing a few rows up
 * makes the estimate noisier, not larger.
 */
function fitPart(
  x: Float32Array,
  n: number,
  k: number,
  pca: number,
  rng: Rng,
  start: number,
  weights?: ArrayLike<number>,
): [Part, Float32Array] {
  let w: Float64Array | undefined, size: number | undefined;
  if (weights) {
    if (weights.length !== n) throw new RangeError(`${n} rows but ${weights.length} weights`);
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i];
    w = Float64Array.from({ length: n }, (_, i) => n * weights[i] / total);
    size = n * n / w.reduce((a, v) => a + v * v, 0);
  }
  let mean: Float64Array = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    for (let j = 0; j < k; j++) mean[j] += wi * x[i * k + j] / n;
  }
  mean = roundedToFloat32(mean); // saved as float32: use exactly what a loaded model will
  let z = zeros(n, k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) z.data[i * k + j] = x[i * k + j] - mean[j];
  }
  let axes: Mat | undefined;
  if (pca > 0) {
    if (pca >= Math.min(n, k)) {
      throw new UsageError(`pca ${pca} must be below min(vectors, dimension) = ${Math.min(n, k)}`);
    }
    axes = principalAxes(z, pca, rng);
    axes.data = roundedToFloat32(axes.data);
    z = project(z, axes);
  }
  const space = z.cols;
  // the rows scaled by √w: their cross product is ZᵀWZ, and Σ = a·(√W·Z)ᵀ(√W·Z) + b·I
  const zw = w ? sqrtWeightedRows(z, w) : z;
  // ZᵀWZ (or its Gram form when there are fewer rows than columns), computed once: the shrinkage
  // reads it before it becomes the covariance
  const product = space <= n ? crossProduct(zw, 1) : gram(zw, 1);
  const shrinkage = ledoitWolfShrinkage(z, product, w, size);
  let trace = 0;
  for (let i = 0; i < zw.data.length; i++) trace += zw.data[i] ** 2;
  const mu = trace / n / space;
  const a = (1 - shrinkage) / n, b = Math.max(shrinkage * mu, 1e-9 * (mu || 1));
  let chol: Mat, woodbury: Mat | undefined;
  if (space <= n) {
    const s = product;
    for (let i = 0; i < space * space; i++) s.data[i] *= a;
    for (let i = 0; i < space; i++) s.data[i * space + i] += b;
    chol = cholesky(s);
  } else {
    const m = product;
    for (let i = 0; i < n; i++) m.data[i * n + i] += b / a;
    chol = cholesky(m);
    woodbury = zw;
  }
  // what is saved is float32: keep exactly that, so a loaded model scores bit-identically
  for (const m of [chol, woodbury]) if (m) m.data = roundedToFloat32(m.data);
  const part: Part = {
    start,
    end: start + k,
    shrinkage,
    mean,
    axes,
    space,
    a,
    b,
    chol,
    z: woodbury,
    scale: 1,
  };
  return [part, mahalanobis(part, z)];
}

/** Rows of a part's columns, centred on its mean and projected on its axes. */
function centred(p: Part, x: Float32Array, n: number): Mat {
  const k = p.end - p.start;
  let y = zeros(n, k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) y.data[i * k + j] = x[i * k + j] - p.mean[j];
  }
  if (p.axes) y = project(y, p.axes);
  return y;
}

/** Squared Mahalanobis distances of centred, projected rows under a part's Gaussian. */
function mahalanobis(p: Part, y: Mat): Float32Array {
  const out = new Float32Array(y.rows), k = y.cols, L = p.chol;
  if (!p.z) {
    // in blocks of rows: one pass over L solves four
    for (let i0 = 0; i0 < y.rows; i0 += 64) {
      const block = [];
      for (let i = i0; i < Math.min(y.rows, i0 + 64); i++) {
        block.push(Float64Array.from(y.data.subarray(i * k, (i + 1) * k)));
      }
      forwardSolveMany(L, block).forEach((v, j) => out[i0 + j] = v.reduce((s, t) => s + t * t, 0));
    }
    return out;
  }
  for (let i = 0; i < y.rows; i++) {
    const row = y.data.subarray(i * k, (i + 1) * k);
    // Woodbury: yᵀΣ⁻¹y = (‖y‖² − uᵀ(b/a·I + ZZᵀ)⁻¹u) / b with u = Zy
    const z = p.z, u = new Float64Array(z.rows);
    let yy = 0;
    for (let j = 0; j < k; j++) yy += row[j] * row[j];
    for (let r = 0; r < z.rows; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += z.data[r * k + j] * row[j];
      u[r] = s;
    }
    const w = forwardSolve(L, u);
    out[i] = Math.max(0, (yy - w.reduce((s, t) => s + t * t, 0)) / p.b);
  }
  return out;
}

/** The columns `start` to `end` (exclusive) of `n` rows of `d` columns. */
function columns(x: Float32Array, n: number, d: number, start: number, end: number): Float32Array {
  if (start === 0 && end === d) return x;
  const k = end - start, out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) out.set(x.subarray(i * d + start, i * d + end), i * k);
  return out;
}

/**
 * The Ledoit–Wolf shrinkage of centred rows (scikit-learn's `ledoit_wolf_shrinkage`); `product`:
 * their ZᵀZ (or ZZᵀ when there are fewer rows than columns), when the caller has it. With
 * `weights` (a mixture component's responsibilities, say), each row counts as that many rows:
 * `product` is then ZᵀWZ, and the covariance the one weighted by them. `size`: the number of rows
 * the covariance's noise is judged at (default Σw, the weights read as counts); weights that
 * reweigh a sample (each source alike, say) leave it as noisy as (Σw)² ÷ Σw² rows would.
 */
export function ledoitWolfShrinkage(
  z: Mat,
  product?: Mat,
  weights?: ArrayLike<number>,
  size?: number,
): number {
  const { rows: n, cols: d, data } = z;
  let mass = 0, traceSum = 0, beta_ = 0;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    let sq = 0;
    for (let j = 0; j < d; j++) sq += data[i * d + j] ** 2;
    mass += w;
    traceSum += w * sq;
    beta_ += w * sq * sq;
  }
  const empTrace = traceSum / mass, mu = empTrace / d;
  // ‖ZᵀZ‖²_F equals ‖ZZᵀ‖²_F: take the smaller product (of the rows scaled by √w when weighted)
  const scaled = weights ? sqrtWeightedRows(z, weights) : z;
  const p = product ?? (d <= n ? crossProduct(scaled, 1) : gram(scaled, 1));
  let delta_ = 0;
  for (let i = 0; i < p.data.length; i++) delta_ += p.data[i] ** 2;
  delta_ /= mass * mass;
  let beta = (beta_ / mass - delta_) / (d * (size ?? mass));
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
