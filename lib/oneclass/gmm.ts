/**
 * `gmm`: a mixture of `components` Gaussians as the model of the natural class, for photographs of
 * several histories at once (docs/natural-corpus.md, "A mixture of Gaussians" and after).
 *
 * Fitted by EM from k-means++ starts (seeded), each covariance shrunk as the Gaussian's (`gauss`)
 * is: Σₖ = (1 − δₖ)·Sₖ + δₖ·μₖ·I, Sₖ weighted by the component's responsibilities and δₖ the
 * Ledoit–Wolf formula with those weights; EM stops when the mean log-likelihood changes by less
 * than 1e-3. A component with less than m vectors' worth is dropped (the heaviest always stays),
 * m = 2, or d with `scoring: "nearest"`. With `fitBy: "kmeans"` the components are a partition:
 * Lloyd's k-means from the same starts until no vector moves (at most `iterations` rounds), parts
 * of fewer than d vectors dropped and their vectors given to the nearest part, then one shrunk
 * Gaussian per part.
 *
 * The raw score (`scoring: "density"`, the default) is −2·log p(x) less its lower bound,
 * −2·log Σₖ πₖ·N(μₖ; μₖ, Σₖ), so it is at least 0, and with one component it is the Gaussian's
 * squared Mahalanobis distance. With `scoring: "nearest"` it is the squared Mahalanobis distance
 * to the nearest component under its own covariance: no log-determinant or weight, so that a
 * tight component cannot set the score's zero.
 *
 * @module
 */

import type { Location, NamedArray } from "../core/bundle.ts";
import { ModelError, UsageError } from "../core/errors.ts";
import {
  cholesky,
  crossProduct,
  forwardSolveMany,
  type Mat,
  roundedToFloat32,
  sqrtWeightedRows,
  zeros,
} from "../core/linalg.ts";
import { Rng } from "../core/rng.ts";
import {
  type EstimatorOptions,
  type FitOptions,
  loadAs,
  ONECLASS_STEM,
  OneClassEstimator,
  savedCommon,
  type SavedModel,
} from "./estimator.ts";
import { ledoitWolfShrinkage } from "./gauss.ts";

/** Settings of {@link MixtureOneClass}. */
export interface GmmOptions extends EstimatorOptions {
  /** Gaussians in the mixture, K (default {@link GMM_DEFAULTS}). */
  components?: number;
  /** Most expectation-maximisation steps (default {@link GMM_DEFAULTS}). */
  iterations?: number;
  /** How an image is scored (see the module documentation; default {@link GMM_DEFAULTS}). */
  scoring?: GmmScoring;
  /** How the components are found: EM, or a k-means partition (default {@link GMM_DEFAULTS}). */
  fitBy?: GmmFit;
}

/** How a mixture's components may be found: EM, or a k-means partition. */
export const GMM_FITS = ["em", "kmeans"] as const;
/** How a mixture's components are found. */
export type GmmFit = typeof GMM_FITS[number];

/** How a mixture may score: its density, or the distance to the nearest component. */
export const GMM_SCORINGS = ["density", "nearest"] as const;
/** How a mixture scores. */
export type GmmScoring = typeof GMM_SCORINGS[number];

/** The defaults of {@link GmmOptions}. */
export const GMM_DEFAULTS = {
  components: 4,
  iterations: 100,
  scoring: "density",
  fitBy: "em",
} as const;

/** EM stops when the mean log-likelihood per vector changes by less than this (scikit-learn's). */
const TOLERANCE = 1e-3;

/** One fitted component. */
interface Component {
  weight: number;
  mean: Float64Array;
  chol: Mat; // Cholesky factor of Σₖ
  logdet: number; // log |Σₖ|
  shrinkage: number;
}

/**
 * The Gaussian-mixture one-class model.
 *
 * @example Two clusters: the point between them is outside, as one Gaussian would not say
 * ```ts
 * import { MixtureOneClass } from "./mod.ts";
 * const x = Float32Array.from({ length: 200 * 2 }, (_, i) =>
 *   (i % 2 ? 0 : (i < 200 ? -10 : 10)) + Math.sin(i * 7.1));
 * const m = await new MixtureOneClass({ components: 2, threshold: "train" }).fit(x, 200, 2);
 * console.log(m.fitted, await m.predict(new Float32Array([-10, 0, 0, 0]), 2)); // 2 [0, 1]
 * ```
 */
export class MixtureOneClass extends OneClassEstimator {
  /** Kind tag. */
  readonly kind = "gmm" as const;
  /** Gaussians asked for. */
  readonly components: number;
  /** Most EM steps. */
  readonly iterations: number;
  /** How an image is scored. */
  readonly scoring: GmmScoring;
  /** How the components are found. */
  readonly fitBy: GmmFit;
  /** EM steps taken by the last fit. */
  steps = 0;
  #parts: Component[] = [];
  #train: Float32Array = new Float32Array(0);

  /** An unfitted model. */
  constructor(o: GmmOptions = {}) {
    super(o);
    this.components = o.components ?? GMM_DEFAULTS.components;
    this.iterations = o.iterations ?? GMM_DEFAULTS.iterations;
    this.scoring = o.scoring ?? GMM_DEFAULTS.scoring;
    this.fitBy = o.fitBy ?? GMM_DEFAULTS.fitBy;
    if (!(Number.isInteger(this.components) && this.components >= 1)) {
      throw new UsageError(`components must be a positive integer, got ${this.components}`);
    }
    if (!(Number.isInteger(this.iterations) && this.iterations >= 1)) {
      throw new UsageError(`iterations must be a positive integer, got ${this.iterations}`);
    }
    if (!GMM_SCORINGS.includes(this.scoring)) {
      throw new UsageError(`scoring must be ${GMM_SCORINGS.join(" or ")}, got "${this.scoring}"`);
    }
    if (!GMM_FITS.includes(this.fitBy)) {
      throw new UsageError(`fit must be ${GMM_FITS.join(" or ")}, got "${this.fitBy}"`);
    }
  }

  /** Gaussians the fit kept (components with too little responsibility are dropped). */
  get fitted(): number {
    return this.#parts.length;
  }

  /** Each component's mixing weight, in the fitted order. */
  get weights(): number[] {
    return this.#parts.map((p) => p.weight);
  }

  /** Each component's covariance log-determinant, log |Σₖ|, in the fitted order. */
  get logDeterminants(): number[] {
    return this.#parts.map((p) => p.logdet);
  }

  /** An unfitted copy with the same settings. */
  clone(): MixtureOneClass {
    return new MixtureOneClass({
      ...this.common,
      components: this.components,
      iterations: this.iterations,
      scoring: this.scoring,
      fitBy: this.fitBy,
    });
  }

  /** Fits on normalised vectors: k-means++ starts, then EM or Lloyd's k-means. */
  protected fitNormalised(z: Float32Array, n: number, _opts: FitOptions): Promise<void> {
    const d = this.dim, K = this.components;
    if (n < 2 * K) {
      throw new RangeError(`a mixture of ${K} Gaussians needs at least ${2 * K} vectors, got ${n}`);
    }
    let resp = startingResponsibilities(z, n, d, K, new Rng(`gmm:${this.seed}`));
    // a component needs this many vectors' worth of responsibility to stay
    const minMass = this.scoring === "nearest" || this.fitBy === "kmeans" ? Math.max(2, d) : 2;
    if (this.fitBy === "kmeans") {
      const p = partition(z, n, d, resp, minMass, this.iterations);
      this.steps = p.rounds;
      this.#parts = mStep(z, n, d, p.resp, 1);
      this.#finish(z, n);
      return Promise.resolve();
    }
    let last = -Infinity;
    this.steps = 0;
    for (let step = 1; step <= this.iterations; step++) {
      this.#parts = mStep(z, n, d, resp, minMass);
      const e = eStep(this.#parts, z, n, d);
      // a step that dropped a component is not compared with the one before: the likelihood of
      // fewer components may be lower, which is not convergence
      const dropped = this.#parts.length < resp.length;
      resp = e.resp;
      this.steps = step;
      // |gain|, as scikit-learn: with shrunk covariances EM need not raise the likelihood at
      // every step, and a step that lowers it has not converged
      if (!dropped && Math.abs(e.meanLogLik - last) < TOLERANCE) break;
      last = e.meanLogLik;
    }
    this.#finish(z, n);
    return Promise.resolve();
  }

  /** Rounds the fitted parameters as they are saved, and scores the training vectors. */
  #finish(z: Float32Array, n: number): void {
    // what is saved is float32: keep exactly that, so that a loaded model scores identically
    for (const p of this.#parts) {
      p.weight = Math.fround(p.weight);
      p.mean = roundedToFloat32(p.mean);
      p.chol.data = roundedToFloat32(p.chol.data);
      p.logdet = logdet(p.chol);
    }
    this.#train = this.#raw(z, n);
  }

  /** The raw score of each row (see the module documentation). */
  #raw(z: Float32Array, n: number): Float32Array {
    const e = energies(this.#parts, z, n, this.dim);
    if (this.scoring === "nearest") {
      return Float32Array.from(
        { length: n },
        (_, i) => Math.max(0, Math.min(...this.#parts.map((p, k) => e[k][i] - p.logdet))),
      );
    }
    const floor = -2 *
      logSumExp(this.#parts.map((p) => -0.5 * (p.logdet - 2 * Math.log(p.weight))));
    const out = new Float32Array(n), row = new Float64Array(this.#parts.length);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < row.length; k++) row[k] = Math.log(this.#parts[k].weight) - 0.5 * e[k][i];
      out[i] = Math.max(0, -2 * logSumExp(row) - floor); // ≥ 0 but for rounding
    }
    return out;
  }

  /** Raw outlyingness of normalised vectors. */
  protected rawNormalised(z: Float32Array, n: number): Float32Array {
    if (this.#parts.length === 0) throw new ModelError("the one-class model is not fitted");
    return this.#raw(z, n);
  }

  /** Raw scores of the training vectors themselves. */
  protected trainingScores(): Float32Array {
    return this.#train;
  }

  /** The fitted parameters: weights, means and Cholesky factors, one row block per component. */
  protected arrays(): NamedArray[] {
    const K = this.#parts.length, d = this.dim;
    const means = new Float32Array(K * d), chol = new Float32Array(K * d * d);
    this.#parts.forEach((p, k) => {
      means.set(p.mean, k * d);
      chol.set(p.chol.data, k * d * d);
    });
    return [
      { name: "gmm/weights", shape: [K], data: Float32Array.from(this.weights) },
      { name: "gmm/means", shape: [K, d], data: means },
      { name: "gmm/chol", shape: [K * d, d], data: chol },
    ];
  }

  /** The settings saved in the manifest. */
  protected meta(): Record<string, unknown> {
    return {
      components: this.components,
      iterations: this.iterations,
      scoring: this.scoring,
      fitBy: this.fitBy,
      fitted: this.#parts.length,
      steps: this.steps,
      shrinkage: this.#parts.map((p) => p.shrinkage),
    };
  }

  /** The arrays a saved model of these settings holds. */
  static shapes(settings: Record<string, unknown>, dim: number): [string, number[]][] {
    const K = settings.fitted as number;
    if (!Number.isInteger(K) || K < 1) throw new RangeError("bad gmm settings");
    return [["gmm/weights", [K]], ["gmm/means", [K, dim]], ["gmm/chol", [K * dim, dim]]];
  }

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): MixtureOneClass {
    const s = saved.settings, d = saved.dim, K = s.fitted as number;
    const m = new MixtureOneClass({
      ...savedCommon(saved),
      components: s.components as number,
      iterations: s.iterations as number,
      scoring: (s.scoring ?? "density") as GmmScoring, // saved before there was a choice
      fitBy: (s.fitBy ?? "em") as GmmFit,
    });
    m.restoreCommon(saved);
    m.steps = s.steps as number;
    const w = saved.arrays.get("gmm/weights")!.data, mu = saved.arrays.get("gmm/means")!.data;
    const L = saved.arrays.get("gmm/chol")!.data;
    const shrinkage = (s.shrinkage ?? []) as number[];
    m.#parts = Array.from({ length: K }, (_, k) => {
      const chol = {
        rows: d,
        cols: d,
        data: Float64Array.from(L.subarray(k * d * d, (k + 1) * d * d)),
      };
      const ld = logdet(chol);
      if (!(w[k] > 0) || !Number.isFinite(ld)) {
        throw new ModelError(`${saved.where}: bad mixture component ${k}`);
      }
      return {
        weight: w[k],
        mean: Float64Array.from(mu.subarray(k * d, (k + 1) * d)),
        chol,
        logdet: ld,
        shrinkage: shrinkage[k] ?? NaN,
      };
    });
    return m;
  }

  /** Loads a model saved by {@link OneClassEstimator.save}. */
  static load(dir: Location, stem = ONECLASS_STEM): Promise<MixtureOneClass> {
    return loadAs(dir, stem, "gmm", MixtureOneClass.shapes, MixtureOneClass.restore);
  }

  /** Frees tensors, if any. */
  dispose(): void {}
}

/**
 * One-hot responsibilities from k-means++ seeding (Arthur & Vassilvitskii, 2007): each row goes
 * to its nearest of K centres, the first drawn uniformly, each next with probability ∝ its squared
 * distance to the nearest centre so far.
 */
function startingResponsibilities(
  z: Float32Array,
  n: number,
  d: number,
  K: number,
  rng: Rng,
): Float64Array[] {
  const sq = (i: number, c: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (z[i * d + j] - z[c * d + j]) ** 2;
    return s;
  };
  const centres = [rng.int(n)], near = new Float64Array(n).fill(Infinity);
  const owner = new Int32Array(n);
  for (let k = 0; k < K; k++) {
    if (k > 0) {
      const total = near.reduce((a, b) => a + b, 0);
      let r = rng.next() * total, pick = n - 1;
      for (let i = 0; i < n; i++) {
        if ((r -= near[i]) < 0) {
          pick = i;
          break;
        }
      }
      centres.push(pick);
    }
    for (let i = 0; i < n; i++) {
      const s = sq(i, centres[k]);
      if (s < near[i]) [near[i], owner[i]] = [s, k];
    }
  }
  return Array.from({ length: K }, (_, k) => Float64Array.from(owner, (o) => o === k ? 1 : 0));
}

/**
 * Lloyd's k-means from one-hot starting responsibilities: each vector to its part's nearest mean
 * until none moves (at most `rounds` rounds), a part with fewer than `minMass` vectors dropped and
 * its vectors given to the nearest remaining part (the largest part stays if all are small).
 * Returns the partition as one-hot responsibilities, and the rounds taken.
 */
function partition(
  z: Float32Array,
  n: number,
  d: number,
  start: Float64Array[],
  minMass: number,
  rounds: number,
): { resp: Float64Array[]; rounds: number } {
  const owner = new Int32Array(n).map((_, i) => start.findIndex((r) => r[i] === 1));
  let kept = start.map((_, k) => k), round = 0;
  // the kept parts of at least minMass vectors (the largest if none), and their means
  const keepLarge = () => {
    const count = new Float64Array(start.length), sum = start.map(() => new Float64Array(d));
    for (let i = 0; i < n; i++) {
      count[owner[i]]++;
      for (let j = 0; j < d; j++) sum[owner[i]][j] += z[i * d + j];
    }
    const big = kept.filter((k) => count[k] >= minMass);
    const next = big.length ? big : [kept.reduce((a, b) => (count[b] > count[a] ? b : a))];
    const dropped = next.length < kept.length;
    kept = next;
    return { dropped, means: kept.map((k) => sum[k].map((v) => v / count[k])) };
  };
  const nearest = (i: number, means: Float64Array[]) => {
    let best = 0, bestSq = Infinity;
    means.forEach((m, t) => {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += (z[i * d + j] - m[j]) ** 2;
      if (sq < bestSq) [best, bestSq] = [t, sq];
    });
    return kept[best];
  };
  for (round = 1; round <= rounds; round++) {
    const { dropped, means } = keepLarge();
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const k = nearest(i, means);
      if (owner[i] !== k) [owner[i], moved] = [k, moved + 1];
    }
    if (moved === 0 && !dropped) break;
  }
  // stopped by the round limit, parts may still be small: dropped as above, their vectors to the
  // nearest kept part (no other vector moves, so every kept part stays large)
  const { means } = keepLarge();
  for (let i = 0; i < n; i++) if (!kept.includes(owner[i])) owner[i] = nearest(i, means);
  return {
    resp: kept.map((k) => Float64Array.from(owner, (o) => o === k ? 1 : 0)),
    rounds: Math.min(round, rounds),
  };
}

/**
 * The M step: each component's weight, mean and shrunk covariance from the responsibilities; a
 * component with less than `minMass` vectors' worth of them is dropped, unless it is the heaviest.
 */
function mStep(
  z: Float32Array,
  n: number,
  d: number,
  resp: Float64Array[],
  minMass: number,
): Component[] {
  const parts: Component[] = [];
  const masses = resp.map((r) => r.reduce((a, b) => a + b, 0));
  const floor = Math.min(minMass, Math.max(...masses)); // the heaviest stays, however light
  resp.forEach((r, k) => {
    const mass = masses[k];
    if (mass < floor || mass === 0) return; // too few vectors' worth: dropped
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      if (r[i] === 0) continue;
      for (let j = 0; j < d; j++) mean[j] += r[i] * z[i * d + j];
    }
    for (let j = 0; j < d; j++) mean[j] /= mass;
    // the rows that carry weight, centred: Sₖ = YᵀWY / mass
    const rows = [];
    for (let i = 0; i < n; i++) if (r[i] > 1e-10) rows.push(i);
    const y = zeros(rows.length, d), w = rows.map((i) => r[i]);
    rows.forEach((i, t) => {
      for (let j = 0; j < d; j++) y.data[t * d + j] = z[i * d + j] - mean[j];
    });
    const product = crossProduct(sqrtWeightedRows(y, w), 1);
    const shrinkage = ledoitWolfShrinkage(y, product, w);
    const cov = { rows: d, cols: d, data: product.data.map((v) => v / mass) };
    let trace = 0;
    for (let j = 0; j < d; j++) trace += cov.data[j * d + j];
    const mu = trace / d, a = 1 - shrinkage, b = Math.max(shrinkage * mu, 1e-9 * (mu || 1));
    for (let t = 0; t < d * d; t++) cov.data[t] *= a;
    for (let j = 0; j < d; j++) cov.data[j * d + j] += b;
    const chol = cholesky(cov);
    parts.push({ weight: mass, mean, chol, logdet: logdet(chol), shrinkage });
  });
  if (parts.length === 0) throw new RangeError("every mixture component lost its vectors");
  // the kept components' weights sum to 1, whether or not one was dropped
  const kept = parts.reduce((s, p) => s + p.weight, 0);
  for (const p of parts) p.weight /= kept;
  return parts;
}

/** The E step: responsibilities and the mean log-likelihood (less d·log 2π / 2). */
function eStep(
  parts: Component[],
  z: Float32Array,
  n: number,
  d: number,
): { resp: Float64Array[]; meanLogLik: number } {
  const e = energies(parts, z, n, d), K = parts.length;
  const resp = parts.map(() => new Float64Array(n)), row = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) row[k] = Math.log(parts[k].weight) - 0.5 * e[k][i];
    const lse = logSumExp(row);
    total += lse;
    for (let k = 0; k < K; k++) resp[k][i] = Math.exp(row[k] - lse);
  }
  return { resp, meanLogLik: total / n };
}

/** Each component's squared Mahalanobis distance of each row plus its log-determinant. */
function energies(parts: Component[], z: Float32Array, n: number, d: number): Float64Array[] {
  return parts.map((p) => {
    const out = new Float64Array(n);
    for (let i0 = 0; i0 < n; i0 += 64) {
      const block = [];
      for (let i = i0; i < Math.min(n, i0 + 64); i++) {
        const v = new Float64Array(d);
        for (let j = 0; j < d; j++) v[j] = z[i * d + j] - p.mean[j];
        block.push(v);
      }
      forwardSolveMany(p.chol, block).forEach((v, t) => {
        out[i0 + t] = v.reduce((s, u) => s + u * u, 0) + p.logdet;
      });
    }
    return out;
  });
}

/** log |Σ| from its Cholesky factor. */
function logdet(l: Mat): number {
  let s = 0;
  for (let j = 0; j < l.rows; j++) s += 2 * Math.log(l.data[j * l.rows + j]);
  return s;
}

/** log Σ exp(v), stably. */
function logSumExp(v: ArrayLike<number>): number {
  let max = -Infinity;
  for (let k = 0; k < v.length; k++) max = Math.max(max, v[k]);
  if (max === -Infinity) return max;
  let s = 0;
  for (let k = 0; k < v.length; k++) s += Math.exp(v[k] - max);
  return max + Math.log(s);
}
