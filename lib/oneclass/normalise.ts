/**
 * How feature vectors are normalised before a one-class model sees them (`--feature-norm`):
 *
 * - `standardise` (default): per dimension, (x − mean) / std, fitted on the training vectors;
 *   deviations are floored at a tenth of the median deviation, because with few training
 *   vectors some units barely vary (ReLU zeros) and dividing by their tiny deviation would blow
 *   test vectors up by orders of magnitude;
 * - `l2`: every vector scaled to unit length (only its direction counts);
 * - `none`: as they come.
 *
 * The fitted statistics are saved with the model, so a loaded model normalises exactly as the
 * trained one did.
 *
 * @module
 */

import type { NamedArray } from "../core/bundle.ts";
import { UsageError } from "../core/errors.ts";
import { quantile } from "../core/stats.ts";

/** The normalisations `--feature-norm` accepts. */
export const FEATURE_NORMS = ["standardise", "l2", "none"] as const;

/** A normalisation. */
export type FeatureNorm = typeof FEATURE_NORMS[number];

/** Checks a `--feature-norm` value. */
export function checkFeatureNorm(v: string): FeatureNorm {
  if (!(FEATURE_NORMS as readonly string[]).includes(v)) {
    throw new UsageError(`feature-norm must be one of ${FEATURE_NORMS.join(", ")}, got "${v}"`);
  }
  return v as FeatureNorm;
}

/** Per-dimension standardisation of features: (x − mean) / std. */
export interface Standardisation {
  /** Mean per dimension. */
  mean: Float32Array;
  /** Standard deviation per dimension (never 0). */
  std: Float32Array;
}

/**
 * Mean and floored standard deviation per column of `n` rows of `d` (see the module doc).
 *
 * @example Per-dimension mean and (floored) deviation
 * ```ts
 * import { fitStandardisation } from "./mod.ts";
 * console.log(fitStandardisation(new Float32Array([1, 10, 3, 30]), 2, 2)); // mean [2, 20], std [1, 10]
 * ```
 */
export function fitStandardisation(x: Float32Array, n: number, d: number): Standardisation {
  const mean = new Float64Array(d), sq = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  const m = new Float32Array(d), s = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    m[j] = mean[j] / n;
    s[j] = Math.sqrt(Math.max(0, sq[j] / n - (mean[j] / n) ** 2));
  }
  const floor = Math.max(1e-6, 0.1 * quantile(s, 0.5));
  for (let j = 0; j < d; j++) s[j] = Math.max(s[j], floor);
  return { mean: m, std: s };
}

/**
 * A fitted normalisation.
 *
 * @example Unit-length vectors
 * ```ts
 * import { Normaliser } from "./mod.ts";
 * const l2 = Normaliser.fit("l2", new Float32Array([3, 4]), 1, 2);
 * console.log(l2.apply(new Float32Array([3, 4]), 1)); // [0.6, 0.8]
 * ```
 */
export class Normaliser {
  /** Which normalisation. */
  readonly kind: FeatureNorm;
  /** Dimension of the vectors. */
  readonly dim: number;
  /** The statistics of `standardise`. */
  readonly stats?: Standardisation;

  /** A normaliser from its parts (see {@link Normaliser.fit}). */
  constructor(kind: FeatureNorm, dim: number, stats?: Standardisation) {
    this.kind = kind;
    this.dim = dim;
    this.stats = stats;
  }

  /** Fits a normalisation on `n` rows of `d`. */
  static fit(kind: FeatureNorm, x: Float32Array, n: number, d: number): Normaliser {
    return new Normaliser(
      kind,
      d,
      kind === "standardise" ? fitStandardisation(x, n, d) : undefined,
    );
  }

  /** Normalised copies of `n` rows. */
  apply(x: Float32Array, n: number): Float32Array {
    const d = this.dim;
    if (x.length !== n * d) {
      throw new RangeError(`expected ${n} x ${d} features, got ${x.length} values`);
    }
    const out = new Float32Array(x.length);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      if (this.kind === "standardise") {
        const { mean, std } = this.stats!;
        for (let j = 0; j < d; j++) out[o + j] = (x[o + j] - mean[j]) / std[j];
      } else if (this.kind === "l2") {
        let s = 0;
        for (let j = 0; j < d; j++) s += x[o + j] * x[o + j];
        const k = s > 0 ? 1 / Math.sqrt(s) : 0;
        for (let j = 0; j < d; j++) out[o + j] = x[o + j] * k;
      } else out.set(x.subarray(o, o + d), o);
    }
    return out;
  }

  /** The statistics as named arrays, for saving. */
  arrays(): NamedArray[] {
    if (!this.stats) return [];
    const { mean, std } = this.stats;
    return [
      { name: "normalise/mean", shape: [mean.length], data: mean },
      { name: "normalise/std", shape: [std.length], data: std },
    ];
  }

  /** The shapes {@link Normaliser.arrays} writes. */
  static shapes(kind: FeatureNorm, dim: number): [string, number[]][] {
    return kind === "standardise" ? [["normalise/mean", [dim]], ["normalise/std", [dim]]] : [];
  }

  /** Rebuilds a saved normaliser. */
  static restore(
    kind: FeatureNorm,
    dim: number,
    arrays: Map<string, { data: Float32Array }>,
  ): Normaliser {
    if (kind !== "standardise") return new Normaliser(kind, dim);
    const std = arrays.get("normalise/std")!.data;
    if (std.some((s) => !(s > 0))) throw new RangeError("standardisation has a zero deviation");
    return new Normaliser(kind, dim, { mean: arrays.get("normalise/mean")!.data, std });
  }
}
