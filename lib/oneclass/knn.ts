/**
 * `knn`: the mean distance to the `k` nearest natural training vectors (Euclidean, or cosine:
 * one minus the cosine similarity). The training vectors' own scores leave each vector out.
 *
 * @example
 * ```ts
 * import { KnnOneClass } from "./knn.ts";
 * const x = Float32Array.from({ length: 100 * 2 }, (_, i) => Math.cos(i));
 * const model = await new KnnOneClass({ neighbours: 3, threshold: "train" }).fit(x, 100, 2);
 * console.log(await model.predict(new Float32Array([0, 0, 40, 40]), 2)); // Uint8Array [ 0, 1 ]
 * ```
 *
 * @module
 */

import type { Location, NamedArray } from "../core/bundle.ts";
import { UsageError } from "../core/errors.ts";
import {
  type EstimatorOptions,
  type FitOptions,
  loadAs,
  ONECLASS_STEM,
  OneClassEstimator,
  savedCommon,
  type SavedModel,
} from "./estimator.ts";

/** Distances {@link KnnOneClass} can use. */
export type KnnMetric = "euclidean" | "cosine";

/** Settings of {@link KnnOneClass}. */
export interface KnnOptions extends EstimatorOptions {
  /** Neighbours averaged, k (5). */
  neighbours?: number;
  /** Distance (euclidean). */
  metric?: KnnMetric;
}

/** The defaults of {@link KnnOptions}. */
export const KNN_DEFAULTS = { neighbours: 5, metric: "euclidean" } as const;

/**
 * The k-nearest-neighbour one-class model.
 *
 * @example Mean distance to the 3 nearest natural vectors
 * ```ts
 * import { KnnOneClass } from "./mod.ts";
 * const x = Float32Array.from({ length: 100 * 2 }, (_, i) => Math.cos(i));
 * const m = await new KnnOneClass({ neighbours: 3, threshold: "train" }).fit(x, 100, 2);
 * console.log(await m.predict(new Float32Array([0, 0, 40, 40]), 2)); // [0, 1]
 * ```
 */
export class KnnOneClass extends OneClassEstimator {
  /** Kind tag. */
  readonly kind = "knn" as const;
  /** Neighbours averaged. */
  readonly k: number;
  /** Distance. */
  readonly metric: KnnMetric;
  #train: Float32Array = new Float32Array(0);
  #norms: Float32Array = new Float32Array(0);
  #n = 0;
  #self: Float32Array = new Float32Array(0);

  /** An unfitted model. */
  constructor(o: KnnOptions = {}) {
    super(o);
    this.k = o.neighbours ?? KNN_DEFAULTS.neighbours;
    this.metric = o.metric ?? KNN_DEFAULTS.metric;
    if (!(Number.isInteger(this.k) && this.k >= 1)) {
      throw new UsageError(`k must be a positive integer, got ${this.k}`);
    }
    if (this.metric !== "euclidean" && this.metric !== "cosine") {
      throw new UsageError(`metric must be euclidean or cosine, got "${this.metric}"`);
    }
  }

  /** An unfitted copy with the same settings. */
  clone(): KnnOneClass {
    return new KnnOneClass({
      ...this.common,
      neighbours: this.k,
      metric: this.metric,
    });
  }

  /** Fits on normalised vectors. */
  protected fitNormalised(z: Float32Array, n: number, _opts: FitOptions): Promise<void> {
    if (n <= this.k) {
      throw new RangeError(`k-NN with k = ${this.k} needs more than ${this.k} vectors`);
    }
    this.#train = z;
    this.#n = n;
    this.#norms = rowNorms(z, n, this.dim);
    this.#self = this.#scores(z, n, true);
    return Promise.resolve();
  }

  /** Mean distance of each row to its k nearest training rows (itself excluded if `self`). */
  #scores(z: Float32Array, n: number, self: boolean): Float32Array {
    const d = this.dim, out = new Float32Array(n), qn = rowNorms(z, n, d);
    const dist = new Float64Array(this.#n);
    for (let i = 0; i < n; i++) {
      const q = z.subarray(i * d, (i + 1) * d);
      for (let r = 0; r < this.#n; r++) {
        const t = this.#train.subarray(r * d, (r + 1) * d);
        let dot = 0;
        for (let j = 0; j < d; j++) dot += q[j] * t[j];
        dist[r] = this.metric === "cosine"
          ? 1 - dot / ((qn[i] * this.#norms[r]) || 1)
          : Math.sqrt(Math.max(0, qn[i] ** 2 + this.#norms[r] ** 2 - 2 * dot));
      }
      if (self) dist[i] = Infinity;
      const nearest = dist.slice().sort().subarray(0, this.k);
      out[i] = nearest.reduce((s, v) => s + v, 0) / this.k;
    }
    return out;
  }

  /** Raw outlyingness of normalised vectors. */
  protected rawNormalised(z: Float32Array, n: number): Float32Array {
    return this.#scores(z, n, false);
  }

  /** Raw scores of the training vectors themselves. */
  protected trainingScores(): Float32Array {
    return this.#self;
  }

  /** The fitted parameters, as named arrays. */
  protected arrays(): NamedArray[] {
    return [{ name: "knn/train", shape: [this.#n, this.dim], data: this.#train }];
  }

  /** The settings saved in the manifest. */
  protected meta(): Record<string, unknown> {
    return { k: this.k, metric: this.metric, vectors: this.#n };
  }

  /** The arrays a saved model of these settings holds. */
  static shapes(settings: Record<string, unknown>, dim: number): [string, number[]][] {
    const n = settings.vectors as number;
    if (!Number.isInteger(n) || n < 1) throw new RangeError("bad knn settings");
    return [["knn/train", [n, dim]]];
  }

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): KnnOneClass {
    const s = saved.settings;
    const m = new KnnOneClass({
      ...savedCommon(saved),
      neighbours: s.k as number,
      metric: s.metric as KnnMetric,
    });
    m.restoreCommon(saved);
    m.#train = saved.arrays.get("knn/train")!.data;
    m.#n = s.vectors as number;
    m.#norms = rowNorms(m.#train, m.#n, m.dim);
    return m;
  }

  /** Loads a model saved by {@link OneClassEstimator.save}. */
  static load(dir: Location, stem = ONECLASS_STEM): Promise<KnnOneClass> {
    return loadAs(dir, stem, "knn", KnnOneClass.shapes, KnnOneClass.restore);
  }

  /** Frees tensors, if any. */
  dispose(): void {}
}

function rowNorms(z: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += z[i * d + j] ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}
