/**
 * What the two SVDD-trained models share: a feature map f (a volume-preserving flow, or Deep
 * SVDD's bias-free MLP) trained with Adam on F(R, c, f) = R² + 1/(νn) Σ max(0, ‖f(xᵢ) − c‖² − R²).
 *
 * - c is the mean of the randomly initialised map's outputs over the training vectors,
 *   coordinates closer to 0 than `eps` pushed out to ±eps, then fixed;
 * - R starts at 0 and is reset every K epochs to the (1 − ν) quantile of the distances;
 * - the raw score is ‖f(x) − c‖².
 *
 * Training is epoch by epoch ({@link SvddTrainer}), so the same code serves `fit` on an array
 * and the training stage, which checkpoints and resumes between epochs.
 *
 * @module
 */

import { type Tensor1D, type Tensor2D, tf } from "../core/deps.ts";
import type { NamedArray } from "../core/bundle.ts";
import { loadBundle, saveBundle } from "../core/bundle.ts";
import { UsageError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { Adam, stepLr } from "../backends/optim.ts";
import type { Guard } from "../runs/loop.ts";
import {
  type EpochTrainer,
  type EstimatorOptions,
  type FitOptions,
  OneClassEstimator,
  type SavedModel,
} from "./estimator.ts";
import {
  createMap,
  type FeatureMap,
  type FlowConfig,
  initialMap,
  mapParams,
  mapValues,
  type MlpConfig,
} from "./networks.ts";
import { fractionInside, initCenter, radiusFor, sqDistances, svddLoss } from "./svdd.ts";

/** Training settings of the SVDD models; every default is stated here once. */
export interface SvddOptions extends EstimatorOptions {
  /** Epochs (120). */
  epochs?: number;
  /** Adam learning rate (1e-3). */
  lr?: number;
  /** ×0.1 every this many epochs (40). */
  lrStep?: number;
  /** Vectors per batch (64). */
  batchSize?: number;
  /** Epochs between radius updates, K (2). */
  k?: number;
  /** Centre coordinates closer to 0 than this are pushed out to ±eps (0.1). */
  eps?: number;
}

/** The defaults of {@link SvddOptions}. */
export const SVDD_DEFAULTS = { epochs: 120, lr: 1e-3, lrStep: 40, batchSize: 64, k: 2, eps: 0.1 };

/** Every epoch once, in order, stopping at a value that is not finite. */
async function allEpochs(t: EpochTrainer): Promise<boolean> {
  for (let e = 1; e <= t.epochs; e++) {
    await t.epoch(e, (v, what) => {
      if (!Number.isFinite(v)) throw new RangeError(`${what} became ${v}`);
    });
  }
  return true;
}

/**
 * The arrays a saved SVDD model holds: its map's parameters (architecture `settings.map` for
 * `dim`-d vectors) and the centre.
 */
export function svddShapes(settings: Record<string, unknown>, dim: number): [string, number[]][] {
  const cfg = { ...(settings.map as FlowConfig | MlpConfig), dim };
  const sizes = cfg.kind === "flow" ? [cfg.couplings, cfg.hidden] : [cfg.hidden, cfg.out];
  if (
    !["flow", "mlp"].includes(cfg.kind) || !sizes.every((v) => Number.isInteger(v) && v > 0) ||
    !Number.isInteger(cfg.depth)
  ) {
    throw new RangeError("bad SVDD map settings");
  }
  return [
    ...mapParams(cfg).map((p) => [`map/${p.name}`, p.shape] as [string, number[]]),
    ["svdd/c", [cfg.kind === "flow" ? dim : cfg.out]],
  ];
}

/** One epoch of SVDD training, as logged in `metrics.jsonl`. */
export interface SvddEpoch {
  /** 1-based epoch. */
  epoch: number;
  /** Learning rate used. */
  lr: number;
  /** Mean F(R, c, f) over the epoch's batches. */
  loss: number;
  /** Radius after the epoch. */
  radius: number;
  /** Fraction of training vectors inside the sphere after the epoch. */
  inside: number;
  /** Wall time of the epoch. */
  seconds: number;
}

/**
 * A one-class model trained with the SVDD objective on the outputs of a feature map.
 *
 * @example Flow-SVDD and Deep SVDD are SvddEstimators
 * ```ts
 * import { DeepSvdd, FlowSvdd, SvddEstimator } from "./mod.ts";
 * console.log(new FlowSvdd() instanceof SvddEstimator, new DeepSvdd() instanceof SvddEstimator); // true true
 * ```
 */
export abstract class SvddEstimator extends OneClassEstimator {
  /** Training settings, defaults resolved. */
  readonly train: Required<Omit<SvddOptions, keyof EstimatorOptions>>;
  /** The feature map (after fit or load). */
  map?: FeatureMap;
  /** The centre c. */
  c: Float32Array = new Float32Array(0);
  /** The SVDD radius R (the last value training set). */
  radius = 0;
  #trainRaw: Float32Array = new Float32Array(0);

  /** An unfitted model. */
  constructor(o: SvddOptions) {
    // the method's threshold: R², the (1 − ν) quantile of the training distances
    super({ ...o, threshold: o.threshold ?? "train" });
    this.train = {
      epochs: o.epochs ?? SVDD_DEFAULTS.epochs,
      lr: o.lr ?? SVDD_DEFAULTS.lr,
      lrStep: o.lrStep ?? SVDD_DEFAULTS.lrStep,
      batchSize: o.batchSize ?? SVDD_DEFAULTS.batchSize,
      k: o.k ?? SVDD_DEFAULTS.k,
      eps: o.eps ?? SVDD_DEFAULTS.eps,
    };
    for (const [name, v] of Object.entries(this.train)) {
      const int = ["epochs", "lrStep", "batchSize", "k"].includes(name);
      if (!(v > 0) || (int && !Number.isInteger(v)) || (name === "eps" && !(v >= 0))) {
        throw new UsageError(`${name} must be a positive ${int ? "integer" : "number"}, got ${v}`);
      }
    }
  }

  /** The feature map's architecture for the current dimension. */
  abstract get config(): FlowConfig | MlpConfig;

  /** Checks a map's sizes: each of `sizes` a positive integer, `depth` a non-negative one. */
  protected static checkSizes(sizes: Record<string, number>, depth: number): void {
    for (const [k, v] of Object.entries(sizes)) {
      if (!(Number.isInteger(v) && v >= 1)) {
        throw new UsageError(`${k} must be a positive integer, got ${v}`);
      }
    }
    if (!(Number.isInteger(depth) && depth >= 0)) {
      throw new UsageError(`depth must be a non-negative integer, got ${depth}`);
    }
  }

  /** Starts training on normalised vectors (see {@link SvddTrainer}). */
  async trainer(z: Float32Array, n: number, seed = 0): Promise<SvddTrainer> {
    this.map?.dispose();
    this.map = initialMap(this.config, seed);
    const t = new SvddTrainer(this, z, n, seed);
    await t.start();
    return t;
  }

  /** Normalises `x` (fitting the normalisation): what {@link trainer} takes. */
  normalised(x: Float32Array, n: number, d: number): Float32Array {
    return this.begin(x, n, d);
  }

  /** Fits on normalised vectors. */
  protected async fitNormalised(z: Float32Array, n: number, opts: FitOptions): Promise<boolean> {
    const t = await this.trainer(z, n, this.seed);
    try {
      return await (opts.epochs ?? allEpochs)({
        epochs: this.train.epochs,
        epoch: async (e: number, guard: Guard) => {
          const m = await t.epoch(e, guard) as unknown as Record<string, number>;
          opts.onEpoch?.(m);
          return m;
        },
        state: (dir) => t.state(dir),
        restore: (dir) => t.restore(dir),
      });
    } finally {
      await t.end();
    }
  }

  /** Records the training vectors' raw scores (called when training ends). */
  setTrainingScores(raw: Float32Array): void {
    this.#trainRaw = raw;
  }

  /** ‖f(z) − c‖² of normalised rows, `batch` at a time. */
  protected rawNormalised(z: Float32Array, n: number): Promise<Float32Array> {
    return this.sqDistances(z, n);
  }

  /** ‖f(z) − c‖² of normalised rows, `batch` at a time. */
  async sqDistances(z: Float32Array, n: number, batch = 256): Promise<Float32Array> {
    const d = this.dim, out = new Float32Array(n), c = tf.tensor1d(this.c);
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const r = tf.tidy(() =>
        sqDistances(this.map!.forward(tf.tensor2d(z.subarray(i * d, (i + m) * d), [m, d])), c)
      );
      out.set(await r.data() as Float32Array, i);
      r.dispose();
    }
    c.dispose();
    return out;
  }

  /** Raw scores of the training vectors themselves. */
  protected trainingScores(): Float32Array {
    return this.#trainRaw;
  }

  /** The fitted parameters, as named arrays. */
  protected async arrays(): Promise<NamedArray[]> {
    const values = await mapValues(this.map!);
    return [
      ...mapParams(this.config).map((p) => ({
        name: `map/${p.name}`,
        shape: p.shape,
        data: values.get(p.name)!,
      })),
      { name: "svdd/c", shape: [this.c.length], data: this.c },
    ];
  }

  /** The settings saved in the manifest. */
  protected meta(): Record<string, unknown> {
    return { map: { ...this.config }, radius: this.radius, ...this.train };
  }

  /** Restores the map, c and R of a saved model. */
  protected restoreSvdd(saved: SavedModel): this {
    this.restoreCommon(saved);
    this.radius = saved.settings.radius as number;
    this.c = saved.arrays.get("svdd/c")!.data;
    const values = new Map(
      [...saved.arrays].filter(([n]) => n.startsWith("map/")).map(([n, a]) => [n.slice(4), a.data]),
    );
    this.map = createMap(this.config, values);
    return this;
  }

  /** Frees tensors, if any. */
  dispose(): void {
    this.map?.dispose();
    this.map = undefined;
  }
}

/**
 * Trains an {@link SvddEstimator} epoch by epoch on normalised vectors: `epoch(e)` runs epoch e
 * (1-based) and returns its metrics; `state()`/`restore()` save and reload everything a resumed
 * run needs (map weights, c, R, Adam's moments); `end()` records the training scores and frees
 * the training tensors.
 *
 * @example Train epoch by epoch (to checkpoint in between)
 * ```ts
 * import { FlowSvdd } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const x = Float32Array.from({ length: 32 * 4 }, (_, i) => Math.sin(i));
 * const m = new FlowSvdd({ hidden: 8, depth: 1, epochs: 2 });
 * const t = await m.trainer(m.normalised(x, 32, 4), 32);
 * for (let e = 1; e <= 2; e++) console.log(await t.epoch(e, () => {}));
 * await t.end();
 * await m.setThreshold(x, 32, 4); // R² (threshold "train", the SVDD models' default)
 * m.dispose();
 * ```
 */
export class SvddTrainer {
  readonly #m: SvddEstimator;
  readonly #n: number;
  readonly #seed: number;
  readonly #z: Float32Array;
  #x: Tensor2D;
  #c?: Tensor1D;
  #opt: Adam;

  /** Starts training `m` (whose map is freshly initialised) on `n` normalised rows `z`. */
  constructor(m: SvddEstimator, z: Float32Array, n: number, seed: number) {
    this.#m = m;
    this.#n = n;
    this.#seed = seed;
    this.#z = z;
    this.#x = tf.tensor2d(z, [n, m.dim]);
    this.#opt = new Adam(m.map!.vars);
  }

  /** The centre c from the freshly initialised map's outputs, and R = 0. */
  async start(): Promise<void> {
    const m = this.#m;
    const out = tf.tidy(() => m.map!.forward(this.#x));
    m.c = initCenter(await out.data() as Float32Array, this.#n, m.map!.outDim, m.train.eps);
    out.dispose();
    m.radius = 0;
  }

  /** Trains epoch `epoch`; `guard` stops on a non-finite loss. */
  async epoch(epoch: number, guard: Guard): Promise<SvddEpoch> {
    const te = performance.now();
    const m = this.#m, map = m.map!, { batchSize, k } = m.train, n = this.#n;
    const lr = stepLr(m.train.lr, epoch, m.train.lrStep);
    this.#c ??= tf.tensor1d(m.c);
    const c = this.#c;
    const order = new Rng(`flow-sampler:${this.#seed}:${epoch}`).shuffle([...Array(n).keys()]);
    let lossSum = 0, batches = 0;
    for (let i = 0; i < n; i += batchSize) {
      const idx = order.slice(i, i + batchSize);
      const { value, grads } = tf.tidy(() => {
        const xb = tf.gather(this.#x, tf.tensor1d(idx, "int32")) as Tensor2D;
        return tf.variableGrads(
          () => svddLoss(sqDistances(map.forward(xb), c), m.radius, m.nu),
          [...map.vars.values()],
        );
      });
      const loss = (await value.data())[0]; // read asynchronously: WebGPU has no sync reads here
      if (Number.isFinite(loss)) {
        tf.tidy(() =>
          this.#opt.step(new Map([...map.vars].map(([name, v]) => [name, grads[v.name]])), lr)
        );
      }
      tf.dispose([value, ...Object.values(grads)]);
      guard(loss, `the loss at epoch ${epoch}`);
      lossSum += loss;
      batches++;
    }
    const d2 = await m.sqDistances(this.#z, n);
    for (const v of d2) guard(v, `an output at epoch ${epoch}`);
    if (epoch % k === 0) m.radius = radiusFor(d2, m.nu);
    return {
      epoch,
      lr,
      loss: +(lossSum / batches).toFixed(6),
      radius: +m.radius.toFixed(6),
      inside: +fractionInside(d2, m.radius).toFixed(6),
      seconds: +((performance.now() - te) / 1000).toFixed(3),
    };
  }

  /** Writes the training state into `dir` (`svdd-state.json/.bin`). */
  async state(dir: string): Promise<void> {
    const m = this.#m;
    const values = await mapValues(m.map!);
    await saveBundle(dir, "svdd-state", "cgvsni-svdd-state/1", [
      ...[...values].map(([name, data]) => ({
        name: `map/${name}`,
        shape: m.map!.vars.get(name)!.shape,
        data,
      })),
      { name: "svdd/c", shape: [m.c.length], data: m.c },
      ...(await this.#opt.state()).map((a) => ({ ...a, name: `adam/${a.name}` })),
    ], { radius: m.radius });
  }

  /** Restores the training state written by {@link state}. */
  async restore(dir: string): Promise<void> {
    const m = this.#m;
    const { arrays, manifest } = await loadBundle(dir, "svdd-state", {
      format: "cgvsni-svdd-state/1",
    });
    for (const [name, v] of m.map!.vars) {
      const a = arrays.get(`map/${name}`);
      if (!a) throw new Error(`checkpoint lacks map/${name}`);
      tf.tidy(() => v.assign(tf.tensor(a.data, v.shape)));
    }
    m.c = arrays.get("svdd/c")!.data;
    this.#c?.dispose();
    this.#c = undefined;
    m.radius = manifest.radius as number;
    this.#opt.load(
      new Map(
        [...arrays].filter(([k]) => k.startsWith("adam/")).map(([k, a]) => [k.slice(5), a]),
      ),
    );
  }

  /** Records the training vectors' scores and frees the training tensors. */
  async end(): Promise<void> {
    this.#m.setTrainingScores(await this.#m.sqDistances(this.#z, this.#n));
    this.#x.dispose();
    this.#c?.dispose();
    this.#opt.dispose();
  }
}
