/**
 * The trained one-class model: a feature map (flow or MLP), the SVDD centre c and radius R, ν,
 * K, and the standardisation fitted on its training features; saved next to the map run it
 * belongs to. `score(features) = ‖f(standardise(x)) − c‖² − R²`, > 0 = computer-generated.
 *
 * @module
 */

import { tf } from "../core/deps.ts";
import {
  at,
  loadBundle,
  type Location,
  type NamedArray,
  readManifest,
  saveBundle,
} from "../core/bundle.ts";
import { ModelError } from "../core/errors.ts";
import {
  createMap,
  type FeatureMap,
  type FlowConfig,
  mapParams,
  mapValues,
  type MlpConfig,
} from "./flow.ts";
import { scores, sqDistances } from "./svdd.ts";
import { quantile } from "../core/stats.ts";

/** Format tag of saved one-class models. */
export const ONECLASS_FORMAT = "cgvsni-oneclass/1";

/** Per-dimension standardisation of features: (x − mean) / std. */
export interface Standardisation {
  /** Mean per dimension. */
  mean: Float32Array;
  /** Standard deviation per dimension (never 0). */
  std: Float32Array;
}

/**
 * Mean and standard deviation per column of `n` rows of `d`. Deviations are floored at a tenth
 * of the median deviation: with few training vectors some L9 units barely vary (ReLU zeros), and
 * dividing by their tiny deviation would blow test features up by orders of magnitude.
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

/** A feature map with its SVDD sphere. */
export class OneClassModel {
  /** The feature map (flow or MLP). */
  readonly map: FeatureMap;
  /** The centre. */
  c: Float32Array;
  /** The radius. */
  radius: number;
  /** ν: the target fraction of training points outside the sphere. */
  readonly nu: number;
  /** Epochs between radius updates. */
  readonly k: number;
  /** Standardisation applied to features first (none: identity). */
  readonly standardise?: Standardisation;

  /** A model from its parts. */
  constructor(
    map: FeatureMap,
    c: Float32Array,
    radius: number,
    nu: number,
    k: number,
    standardise?: Standardisation,
  ) {
    this.map = map;
    this.c = c;
    this.radius = radius;
    this.nu = nu;
    this.k = k;
    this.standardise = standardise;
  }

  /** Standardised features as a tensor. */
  input(x: Float32Array, n: number): tf.Tensor2D {
    const d = this.map.cfg.dim;
    if (x.length !== n * d) {
      throw new RangeError(`expected ${n} x ${d} features, got ${x.length} values`);
    }
    return tf.tidy(() => {
      const t = tf.tensor2d(x, [n, d]);
      if (!this.standardise) return t;
      return tf.div(
        tf.sub(t, tf.tensor1d(this.standardise.mean)),
        tf.tensor1d(this.standardise.std),
      ) as tf.Tensor2D;
    });
  }

  /** ‖f(x) − c‖² for `n` rows of features, `batch` rows at a time (inference). */
  sqDistances(x: Float32Array, n: number, batch = 256): Float32Array {
    const d = this.map.cfg.dim;
    const out = new Float32Array(n);
    const c = tf.tensor1d(this.c);
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const r = tf.tidy(() =>
        sqDistances(this.map.forward(this.input(x.subarray(i * d, (i + m) * d), m)), c)
      );
      out.set(r.dataSync(), i);
      r.dispose();
    }
    c.dispose();
    return out;
  }

  /** Scores ‖f(x) − c‖² − R² (> 0: outside the ball of natural images). */
  score(x: Float32Array, n: number): Float32Array {
    return scores(this.sqDistances(x, n), this.radius);
  }

  /** Writes `<dir>/<stem>.json` and `.bin`; `extra` goes into the manifest. */
  async save(dir: string, stem = "oneclass", extra: Record<string, unknown> = {}): Promise<void> {
    const values = await mapValues(this.map);
    const arrays: NamedArray[] = mapParams(this.map.cfg).map((p) => ({
      name: `map/${p.name}`,
      shape: p.shape,
      data: values.get(p.name)!,
    }));
    arrays.push({ name: "svdd/c", shape: [this.c.length], data: this.c });
    if (this.standardise) {
      arrays.push({
        name: "standardise/mean",
        shape: [this.standardise.mean.length],
        data: this.standardise.mean,
      });
      arrays.push({
        name: "standardise/std",
        shape: [this.standardise.std.length],
        data: this.standardise.std,
      });
    }
    await saveBundle(dir, stem, ONECLASS_FORMAT, arrays, {
      ...extra,
      map: this.map.cfg,
      radius: this.radius,
      nu: this.nu,
      k: this.k,
      standardised: !!this.standardise,
    });
  }

  /** Loads a saved model, checking every shape, size and checksum. */
  static async load(
    dir: Location,
    stem = "oneclass",
  ): Promise<{ model: OneClassModel; manifest: Record<string, unknown> }> {
    const where = at(dir, `${stem}.json`);
    const head = await readManifest(dir, stem);
    const cfg = head.map as FlowConfig | MlpConfig;
    const ints = (o: Record<string, unknown>, ks: string[]) =>
      ks.every((k) => Number.isInteger(o?.[k]) && (o[k] as number) > 0);
    const okCfg = cfg &&
      (cfg.kind === "flow"
        ? ints(cfg as unknown as Record<string, unknown>, ["dim", "couplings", "hidden"]) &&
          Number.isInteger(cfg.depth)
        : cfg.kind === "mlp" &&
          ints(cfg as unknown as Record<string, unknown>, ["dim", "hidden", "out"]) &&
          Number.isInteger(cfg.depth));
    const radius = head.radius as number, nu = head.nu as number, k = head.k as number;
    if (!okCfg || !Number.isFinite(radius) || !(nu > 0 && nu < 1) || !Number.isInteger(k)) {
      throw new ModelError(`${where}: not a valid one-class model`);
    }
    const outDim = cfg.kind === "flow" ? cfg.dim : cfg.out;
    const shapes = new Map(mapParams(cfg).map((p) => [`map/${p.name}`, p.shape]));
    shapes.set("svdd/c", [outDim]);
    if (head.standardised) {
      shapes.set("standardise/mean", [cfg.dim]);
      shapes.set("standardise/std", [cfg.dim]);
    }
    const { arrays, manifest } = await loadBundle(dir, stem, { format: ONECLASS_FORMAT, shapes });
    const values = new Map(
      [...arrays].filter(([n]) => n.startsWith("map/")).map(([n, a]) => [n.slice(4), a.data]),
    );
    const std = head.standardised
      ? { mean: arrays.get("standardise/mean")!.data, std: arrays.get("standardise/std")!.data }
      : undefined;
    if (std && std.std.some((s) => !(s > 0))) {
      throw new ModelError(`${where}: standardisation has a zero deviation`);
    }
    const model = new OneClassModel(
      createMap(cfg, values),
      arrays.get("svdd/c")!.data,
      radius,
      nu,
      k,
      std,
    );
    return { model, manifest };
  }

  /** Frees the map's tensors. */
  dispose(): void {
    this.map.dispose();
  }
}
