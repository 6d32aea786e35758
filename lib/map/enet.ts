/**
 * ENet, the two-branch CNN of Quan et al. ("Learn with diversity and from harder samples:
 * improving the generalization of CNN-based detection of computer-generated images", 2020;
 * reference code: github.com/weizequan/CGDetection, `Src/model.py`).
 *
 * ```
 * input  [N, 233, 233, 3], normalised per channel
 * ├─ branch 1: conv 5x5 (30, learnable) → conv 3x3 (64) + BN → [conv 3x3 (64) + BN + ReLU] x2
 * └─ branch 2: 30 SRM 5x5 high-pass kernels per colour channel (90 maps, frozen unless
 *              trainSrm) → conv 3x3 (64) + BN → [conv 3x3 (64) + BN + ReLU] x2
 * concat (128) → conv 7x7/2 (64) → conv 5x5 (48) → conv 3x3 (64), each BN + ReLU + maxpool 3/2
 * flatten (6400) → FC 4096 (L8) + ReLU + dropout → FC 4096 (L9) + ReLU = features
 *                → dropout → FC 2 = logits
 * ```
 *
 * No convolution has a bias or padding. Tensors are NHWC and filters `[kh, kw, in, out]` (tfjs
 * conventions), so the flatten before L8 runs over (row, column, channel).
 *
 * @module
 */

import { type Tensor1D, type Tensor2D, type Tensor4D, tf, type Variable } from "../core/deps.ts";
import { type BranchBlock, discard, Layers, tensorCopy } from "../backends/layers.ts";
import { Rng } from "../core/rng.ts";
import { SRM_COUNT, srmDepthwiseFilter } from "./srm.ts";

/** Architecture hyper-parameters. */
export interface ENetConfig {
  /** Side of the square input crop (233 in the paper). */
  crop: number;
  /** Learnable 5x5 filters opening branch 1 (30). */
  conv0: number;
  /** Channels of the three 3x3 convolutions in each branch (64). */
  width: number;
  /** Channels of the three trunk convolutions (64, 48, 64). */
  trunk: [number, number, number];
  /** Width of the two hidden fully connected layers L8 and L9 (4096). */
  fc: number;
  /** Output classes (2: natural, computer-generated). */
  classes: number;
  /** Dropout rate after L8 and L9 while training (0.5). */
  dropout: number;
  /** Learn the SRM kernels instead of keeping them fixed. */
  trainSrm: boolean;
}

/** The paper's architecture: 43,736,054 parameters at crop 233. */
export const PAPER: ENetConfig = {
  crop: 233,
  conv0: 30,
  width: 64,
  trunk: [64, 48, 64],
  fc: 4096,
  classes: 2,
  dropout: 0.5,
  trainSrm: false,
};

/**
 * Same topology, narrower and on 96x96 crops: trains in minutes on two CPU cores. No dropout:
 * its 256-wide FC layers read a 64-d input, and dropping half of them starves the classifier.
 */
export const SMALL: ENetConfig = {
  crop: 96,
  conv0: 8,
  width: 16,
  trunk: [16, 12, 16],
  fc: 256,
  classes: 2,
  dropout: 0,
  trainSrm: false,
};

/** Named presets for `--preset`. */
export const PRESETS: Record<string, ENetConfig> = { paper: PAPER, small: SMALL };

/** Kernel and stride of every spatial step: branch convs, then trunk conv/pool pairs. */
const STEPS: [number, number][] = [[5, 1], [3, 1], [3, 1], [3, 1], [7, 2], [3, 2], [5, 1], [3, 2], [
  3,
  1,
], [3, 2]];

/** Spatial side after each step, or `null` if the crop is too small for some step. */
function sides(crop: number): number[] | null {
  const out: number[] = [];
  let s = crop;
  for (const [k, stride] of STEPS) {
    if (s < k) return null;
    s = Math.floor((s - k) / stride) + 1;
    out.push(s);
  }
  return out;
}

/**
 * Smallest crop side the architecture accepts (77).
 *
 * @example The smallest crop ENet takes
 * ```ts
 * import { minCrop } from "./mod.ts";
 * console.log(minCrop()); // 77
 * ```
 */
export function minCrop(): number {
  let c = 1;
  while (!sides(c)) c++;
  return c;
}

/**
 * Spatial side of the branches' output and after each trunk block, and the size feeding L8.
 *
 * @example Spatial sizes along the network
 * ```ts
 * import { PAPER, shapes } from "./mod.ts";
 * console.log(shapes(PAPER)); // { branch: 225, trunk: [...], fcIn: 6400 }
 * ```
 */
export function shapes(cfg: ENetConfig): { branch: number; trunk: number[]; fcIn: number } {
  const s = sides(cfg.crop);
  if (!s) throw new RangeError(`crop ${cfg.crop} is too small for ENet (minimum ${minCrop()})`);
  return { branch: s[3], trunk: [s[5], s[7], s[9]], fcIn: s[9] * s[9] * cfg.trunk[2] };
}

/** How a parameter is initialised. */
export type Init = "conv" | "fc" | "bias" | "gamma" | "beta" | "zeros" | "ones" | "srm";

/** A parameter's name, shape, initialiser and whether the optimiser updates it. */
export interface ParamSpec {
  /** Tensor name, e.g. `b1.conv2` or `t.bn1.gamma`. */
  name: string;
  /** Shape (filters `[kh, kw, in, out]`, dense `[in, out]`). */
  shape: number[];
  /** Initialiser. */
  init: Init;
  /** Updated by the optimiser. */
  trainable: boolean;
  /** BN running statistics: part of the model, not parameters. */
  buffer?: boolean;
}

/** Every tensor of the model, in a fixed order (also the order of saved weights). */
export function paramSpecs(cfg: ENetConfig): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const conv = (name: string, k: number, cin: number, cout: number) =>
    specs.push({ name, shape: [k, k, cin, cout], init: "conv", trainable: true });
  const bn = (name: string, c: number) => {
    specs.push({ name: `${name}.gamma`, shape: [c], init: "gamma", trainable: true });
    specs.push({ name: `${name}.beta`, shape: [c], init: "beta", trainable: true });
    specs.push({ name: `${name}.mean`, shape: [c], init: "zeros", trainable: false, buffer: true });
    specs.push({ name: `${name}.var`, shape: [c], init: "ones", trainable: false, buffer: true });
  };
  const fc = (name: string, nin: number, nout: number) => {
    specs.push({ name: `${name}.w`, shape: [nin, nout], init: "fc", trainable: true });
    specs.push({ name: `${name}.b`, shape: [nout], init: "bias", trainable: true });
  };
  const w = cfg.width;
  conv("b1.conv0", 5, 3, cfg.conv0);
  conv("b1.conv1", 3, cfg.conv0, w), bn("b1.bn1", w);
  conv("b1.conv2", 3, w, w), bn("b1.bn2", w);
  conv("b1.conv3", 3, w, w), bn("b1.bn3", w);
  specs.push({ name: "b2.srm", shape: [5, 5, 3, SRM_COUNT], init: "srm", trainable: cfg.trainSrm });
  conv("b2.conv1", 3, 3 * SRM_COUNT, w), bn("b2.bn1", w);
  conv("b2.conv2", 3, w, w), bn("b2.bn2", w);
  conv("b2.conv3", 3, w, w), bn("b2.bn3", w);
  conv("t.conv1", 7, 2 * w, cfg.trunk[0]), bn("t.bn1", cfg.trunk[0]);
  conv("t.conv2", 5, cfg.trunk[0], cfg.trunk[1]), bn("t.bn2", cfg.trunk[1]);
  conv("t.conv3", 3, cfg.trunk[1], cfg.trunk[2]), bn("t.bn3", cfg.trunk[2]);
  fc("fc1", shapes(cfg).fcIn, cfg.fc);
  fc("fc2", cfg.fc, cfg.fc);
  fc("fc3", cfg.fc, cfg.classes);
  return specs;
}

/**
 * Number of parameters (weights, BN scale and shift, SRM kernels; not BN running statistics).
 *
 * @example The paper's 43,736,054 parameters
 * ```ts
 * import { PAPER, parameterCount } from "./mod.ts";
 * console.log(parameterCount(PAPER)); // 43736054
 * ```
 */
export function parameterCount(cfg: ENetConfig): number {
  return paramSpecs(cfg).filter((s) => !s.buffer).reduce(
    (n, s) => n + s.shape.reduce((a, b) => a * b, 1),
    0,
  );
}

/**
 * Initial values. `"kaiming"` (default): He-normal weights (fan-in), zero biases, BN scale 1.
 * `"paper"`: the reference code's `init_weights(..., 'normal')`: N(0, 0.02) conv/FC weights,
 * BN scale N(1, 0.02), FC biases PyTorch's default U(±1/√fan_in). The SRM kernels are always
 * the fixed values of {@link SRM_KERNELS}.
 */
export function initialValues(
  cfg: ENetConfig,
  seed: number,
  scheme: "kaiming" | "paper" = "kaiming",
): Map<string, Float32Array> {
  const rng = new Rng(`enet-init:${seed}`);
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const fanIn = s.shape.length === 4 ? s.shape[0] * s.shape[1] * s.shape[2] : s.shape[0];
    switch (s.init) {
      case "conv":
      case "fc": {
        const std = scheme === "paper" ? 0.02 : Math.sqrt(2 / fanIn);
        for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
        break;
      }
      case "bias":
        if (scheme === "paper") {
          const fcIn = paramSpecs(cfg).find((p) =>
            p.name === s.name.replace(/\.b$/, ".w")
          )!.shape[0];
          const bound = 1 / Math.sqrt(fcIn);
          for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * bound;
        }
        break;
      case "gamma":
        for (let i = 0; i < n; i++) a[i] = scheme === "paper" ? 1 + 0.02 * rng.normal() : 1;
        break;
      case "ones":
        a.fill(1);
        break;
      case "srm":
        a.set(srmDepthwiseFilter(3));
        break;
      default:
        break; // beta, zeros
    }
    out.set(s.name, a);
  }
  return out;
}

/** What a training-mode forward pass measured in each BN layer, for the running statistics. */
export interface BatchMoments {
  /** BN layer name, e.g. `b2.bn3`. */
  name: string;
  /** Batch mean per channel. */
  mean: Tensor1D;
  /** Biased batch variance per channel. */
  variance: Tensor1D;
  /** Values per channel the moments were taken over (N·H·W). */
  count: number;
}

/** Output of a forward pass. */
export interface ENetOutput {
  /** `[N, classes]` unnormalised scores. */
  logits: Tensor2D;
  /** `[N, fc]` L9 after ReLU (the image's feature vector). */
  features: Tensor2D;
  /** `[N, fc]` L9 before its ReLU. */
  l9pre: Tensor2D;
  /** `[N, fc]` L8 after ReLU. */
  l8: Tensor2D;
  /** `[N, fc]` L8 before its ReLU. */
  l8pre: Tensor2D;
  /** `[N, s, s, trunk[2]]` the last conv block's output after its max-pooling. */
  trunk: Tensor4D;
}

/** BN epsilon, as PyTorch. */
export const BN_EPS = 1e-5;
/** PyTorch's BN momentum: running = (1 - m) * running + m * batch. */
export const BN_MOMENTUM = 0.1;

/**
 * The ENet model: its tensors, a forward pass, and helpers to save and restore them.
 *
 * @example The small ENet's L9 features of a batch
 * ```ts
 * import { ENet, SMALL } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { tf } from "../core/deps.ts";
 * await initBackend("auto");
 * const net = ENet.create(SMALL, 0);
 * const f = net.features(tf.zeros([2, SMALL.crop, SMALL.crop, 3]) as tf.Tensor4D);
 * console.log(f.shape); // [2, 256]
 * f.dispose();
 * net.dispose();
 * ```
 */
export class ENet {
  /** Architecture of this model. */
  readonly cfg: ENetConfig;
  /** Every tensor's name, shape and role, in saving order. */
  readonly specs: ParamSpec[];
  /** All tensors by name: trainable parameters are `Variable`s; the rest too, not trained. */
  readonly vars: Map<string, Variable>;

  /** A model with the given values for every tensor of {@link paramSpecs}. */
  constructor(cfg: ENetConfig, values: Map<string, Float32Array>) {
    this.cfg = cfg;
    this.specs = paramSpecs(cfg);
    this.vars = new Map();
    for (const s of this.specs) {
      const v = values.get(s.name);
      if (!v) throw new Error(`missing value for ${s.name}`);
      this.vars.set(
        s.name,
        // in a tidy: the initial tensor is freed, the variable owns the data alone (so the
        // optimisers can update it in place)
        tf.tidy(() => tf.variable(tensorCopy(v, s.shape), s.trainable, `enet/${s.name}/${uid++}`)),
      );
    }
  }

  /** A freshly initialised model. */
  static create(cfg: ENetConfig, seed: number, scheme: "kaiming" | "paper" = "kaiming"): ENet {
    const values = initialValues(cfg, seed, scheme);
    const net = new ENet(cfg, values);
    discard(values.values()); // the model holds copies
    return net;
  }

  /** The trainable variables, by name. */
  trainable(): Map<string, Variable> {
    return new Map([...this.vars].filter(([n]) => this.specs.find((s) => s.name === n)!.trainable));
  }

  #v(name: string): Variable {
    return this.vars.get(name)!;
  }

  /**
   * Forward pass on a normalised NHWC batch, as the diagram in the module documentation. In
   * training mode BN uses batch statistics (pushed onto `moments` for
   * {@link updateRunningStats}) and dropout is on, seeded by `dropoutSeed`. How each layer runs
   * (fused kernels, what is recomputed, when activations are freed) is the backend layer's
   * business: see {@link Layers}.
   */
  forward(x: Tensor4D, training = false, dropoutSeed = 0, moments?: BatchMoments[]): ENetOutput {
    const p = (name: string) => this.#v(name) as Tensor4D;
    const L = new Layers((name) => this.#v(name), { training, moments, dropoutSeed, eps: BN_EPS });
    L.input(x);
    // each branch: a 5x5 stem, then 3x3 conv + BN, [3x3 conv + BN + ReLU] x2
    const blocks = (b: string): BranchBlock[] =>
      [1, 2, 3].map((i) => ({ filter: p(`${b}.conv${i}`), bn: `${b}.bn${i}`, relu: i > 1 }));
    const b1 = L.branch(x, p("b1.conv0"), true, blocks("b1"));
    const b2 = L.branch(x, srmFilter(p("b2.srm")), this.cfg.trainSrm, blocks("b2"));
    // trunk over the two branches' channels: conv 7x7/2, 5x5, 3x3, each BN + ReLU + maxpool 3/2
    let h = L.maxPool(L.convBn([b1, b2], p("t.conv1"), "t.bn1", true, 2), 3, 2);
    h = L.maxPool(L.convBn([h], p("t.conv2"), "t.bn2", true), 3, 2);
    h = L.maxPool(L.convBn([h], p("t.conv3"), "t.bn3", true), 3, 2);
    // L8, L9 (the features), the 2-way output
    const l8pre = L.dense(tf.reshape(h, [h.shape[0], -1]) as Tensor2D, "fc1");
    const l8 = L.relu(l8pre);
    const l9pre = L.dense(L.dropout(l8, this.cfg.dropout, 0), "fc2");
    const features = L.relu(l9pre);
    const logits = L.dense(L.dropout(features, this.cfg.dropout, 1), "fc3");
    return { logits, features, l9pre, l8, l8pre, trunk: h };
  }

  /** L9 features in inference mode (BN running statistics, no dropout): `[N, fc]`. */
  features(x: Tensor4D): Tensor2D {
    return tf.tidy(() => {
      const { logits, features } = this.forward(x, false);
      logits.dispose();
      return features;
    });
  }

  /** Folds one training step's batch moments into the BN running statistics (PyTorch rule). */
  updateRunningStats(moments: BatchMoments[]): void {
    tf.tidy(() => {
      for (const m of moments) {
        const mean = this.#v(`${m.name}.mean`), vr = this.#v(`${m.name}.var`);
        const unbiased = tf.mul(m.variance, m.count / Math.max(1, m.count - 1));
        mean.assign(tf.add(tf.mul(mean, 1 - BN_MOMENTUM), tf.mul(m.mean, BN_MOMENTUM)));
        vr.assign(tf.add(tf.mul(vr, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }
    });
    for (const m of moments) {
      m.mean.dispose();
      m.variance.dispose();
    }
  }

  /** Current values of every tensor, in spec order (for saving). */
  async values(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const s of this.specs) out.set(s.name, (await this.#v(s.name).data()) as Float32Array);
    return out;
  }

  /** Overwrites every tensor from `values` (shapes must match). */
  load(values: Map<string, Float32Array>): void {
    for (const s of this.specs) {
      const v = values.get(s.name);
      if (!v) throw new Error(`missing value for ${s.name}`);
      tf.tidy(() => this.#v(s.name).assign(tensorCopy(v, s.shape)));
    }
  }

  /** Frees every tensor of the model. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let uid = 0;

/**
 * The SRM layer as one ordinary convolution: the `[5, 5, 3, 30]` kernels become a block-diagonal
 * `[5, 5, 3, 90]` filter (output channel `c * 30 + m` sees only input channel `c`), which equals
 * the reference's three per-channel convolutions concatenated, is differentiable with respect
 * to the kernels (for `--train-srm`), and runs on the fast Conv2D path of every backend.
 */
export function srmFilter(srm: Tensor4D): Tensor4D {
  return tf.tidy(() => {
    const [, , c, m] = srm.shape;
    const mask = new Float32Array(c * c * m);
    for (let i = 0; i < c; i++) for (let j = 0; j < m; j++) mask[i * c * m + i * m + j] = 1;
    return tf.mul(tf.tile(srm, [1, 1, 1, c]), tf.tensor4d(mask, [1, 1, c, c * m])) as Tensor4D;
  });
}
