/**
 * The feature maps of the one-class stage.
 *
 * {@link NiceFlow}: a volume-preserving normalising flow made of NICE additive couplings (Dinh
 * et al., 2015). Coupling k splits the vector into halves (a, b) and adds a function of one half
 * to the other, alternating which half is updated:
 *
 * ```
 * even k: (a, b) -> (a, b + m_k(a))        odd k: (a, b) -> (a + m_k(b), b)
 * ```
 *
 * Each step is a shear, its Jacobian triangular with ones on the diagonal, so log|det J| = 0
 * exactly and the whole flow preserves volume: it cannot shrink the data onto the SVDD centre,
 * the trivial solution that plagues Deep SVDD. There is no scaling layer, no batch norm and no
 * dropout: the flow computes the same function while training and at inference, so the radius
 * measured during training is valid at test time. The inverse subtracts in reverse order.
 *
 * {@link BiasFreeMlp}: the ablation baseline, a bias-free ReLU MLP as in Deep SVDD (Ruff et al.,
 * 2018): without biases the map cannot output the constant c for every input.
 *
 * @module
 */

import { type Tensor2D, tf, type Variable } from "../core/deps.ts";
import { discard, tensorCopy } from "../backends/layers.ts";
import { Rng } from "../core/rng.ts";

/** Architecture of a {@link NiceFlow}. */
export interface FlowConfig {
  /** Marks a flow. */
  kind: "flow";
  /** Dimension of the feature vectors (4096 for the paper's L9). */
  dim: number;
  /** Number of additive couplings (4). */
  couplings: number;
  /** Width of the coupling networks' hidden layers (1000). */
  hidden: number;
  /** Hidden-to-hidden layers per coupling network (4). */
  depth: number;
}

/** Architecture of a {@link BiasFreeMlp}. */
export interface MlpConfig {
  /** Marks the MLP baseline. */
  kind: "mlp";
  /** Input dimension. */
  dim: number;
  /** Hidden width. */
  hidden: number;
  /** Hidden-to-hidden layers. */
  depth: number;
  /** Output dimension. */
  out: number;
}

/** A named tensor of a feature map with its shape. */
export interface MapParam {
  /** Name, e.g. `c2.l3.w`. */
  name: string;
  /** Shape (`[in, out]` for weights). */
  shape: number[];
}

/** What the one-class stage trains: a flow or the MLP baseline. */
export interface FeatureMap {
  /** The architecture. */
  readonly cfg: FlowConfig | MlpConfig;
  /** All tensors, by name, in a fixed order; all trainable. */
  readonly vars: Map<string, Variable>;
  /** `[n, dim]` → `[n, outDim]`. */
  forward(x: Tensor2D): Tensor2D;
  /** Output dimension. */
  readonly outDim: number;
  /** Frees the tensors. */
  dispose(): void;
}

/** Split point of the halves: the first half has `floor(dim / 2)` coordinates. */
export function half(dim: number): number {
  return Math.floor(dim / 2);
}

/** The tensors of a flow, in order. */
export function flowParams(cfg: FlowConfig): MapParam[] {
  const out: MapParam[] = [];
  const h = half(cfg.dim);
  for (let k = 0; k < cfg.couplings; k++) {
    const [nin, nout] = k % 2 === 0 ? [h, cfg.dim - h] : [cfg.dim - h, h];
    const sizes = [nin, ...Array(cfg.depth + 1).fill(cfg.hidden), nout];
    for (let l = 0; l + 1 < sizes.length; l++) {
      out.push({ name: `c${k}.l${l}.w`, shape: [sizes[l], sizes[l + 1]] });
      out.push({ name: `c${k}.l${l}.b`, shape: [sizes[l + 1]] });
    }
  }
  return out;
}

/** The tensors of the MLP baseline, in order (weights only: it has no biases). */
export function mlpParams(cfg: MlpConfig): MapParam[] {
  const sizes = [cfg.dim, ...Array(cfg.depth + 1).fill(cfg.hidden), cfg.out];
  return sizes.slice(1).map((n, l) => ({ name: `l${l}.w`, shape: [sizes[l], n] }));
}

/** The parameters of either kind of map. */
export function mapParams(cfg: FlowConfig | MlpConfig): MapParam[] {
  return cfg.kind === "flow" ? flowParams(cfg) : mlpParams(cfg);
}

/**
 * Initial values, as PyTorch's `nn.Linear` default: weights and biases U(±1/√fan_in), seeded.
 */
export function initialMapValues(
  cfg: FlowConfig | MlpConfig,
  seed: number,
): Map<string, Float32Array> {
  const rng = new Rng(`feature-map-init:${seed}`);
  const out = new Map<string, Float32Array>();
  for (const p of mapParams(cfg)) {
    const fanIn = p.name.endsWith(".w")
      ? p.shape[0]
      : mapParams(cfg).find((q) => q.name === p.name.replace(/\.b$/, ".w"))!.shape[0];
    const bound = 1 / Math.sqrt(fanIn);
    out.set(
      p.name,
      Float32Array.from(
        { length: p.shape.reduce((a, b) => a * b, 1) },
        () => (rng.next() * 2 - 1) * bound,
      ),
    );
  }
  return out;
}

function makeVars(
  params: MapParam[],
  values: Map<string, Float32Array>,
  prefix: string,
): Map<string, Variable> {
  const vars = new Map<string, Variable>();
  for (const p of params) {
    const v = values.get(p.name);
    if (!v) throw new Error(`missing value for ${p.name}`);
    vars.set(
      p.name,
      // in a tidy: the initial tensor is freed, the variable owns the data alone
      tf.tidy(() => tf.variable(tensorCopy(v, p.shape), true, `${prefix}/${p.name}/${uid++}`)),
    );
  }
  return vars;
}

let uid = 0;

/**
 * A volume-preserving flow of additive couplings.
 *
 * @example The flow is invertible and keeps volume
 * ```ts
 * import { NiceFlow } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { tf } from "../core/deps.ts";
 * await initBackend("auto");
 * const flow = NiceFlow.create({ kind: "flow", dim: 6, couplings: 4, hidden: 8, depth: 1 }, 0);
 * const x = tf.randomNormal([3, 6]) as tf.Tensor2D;
 * const back = flow.inverse(flow.forward(x));
 * console.log(tf.max(tf.abs(tf.sub(back, x))).dataSync()[0] < 1e-4); // true
 * flow.dispose();
 * ```
 */
export class NiceFlow implements FeatureMap {
  /** The architecture. */
  readonly cfg: FlowConfig;
  /** All tensors, by name. */
  readonly vars: Map<string, Variable>;

  /** A flow with the given values for every tensor of {@link flowParams}. */
  constructor(cfg: FlowConfig, values: Map<string, Float32Array>) {
    if (cfg.dim < 2) throw new RangeError("a flow needs at least 2 dimensions");
    this.cfg = cfg;
    this.vars = makeVars(flowParams(cfg), values, "flow");
  }

  /** A flow with fresh seeded weights. */
  static create(cfg: FlowConfig, seed: number): NiceFlow {
    const values = initialMapValues(cfg, seed);
    const flow = new NiceFlow(cfg, values);
    discard(values.values()); // the flow holds copies
    return flow;
  }

  /** Output dimension (equal to the input's). */
  get outDim(): number {
    return this.cfg.dim;
  }

  /** m_k: the coupling network of step k. */
  #net(k: number, x: Tensor2D): Tensor2D {
    let h = x;
    for (let l = 0; l <= this.cfg.depth + 1; l++) {
      h = tf.fused.matMul({
        a: h,
        b: this.vars.get(`c${k}.l${l}.w`)! as Tensor2D,
        bias: this.vars.get(`c${k}.l${l}.b`)!,
        activation: l <= this.cfg.depth ? "relu" : "linear",
      }) as Tensor2D;
    }
    return h;
  }

  /** x → z. */
  forward(x: Tensor2D): Tensor2D {
    return tf.tidy(() => {
      const h = half(this.cfg.dim);
      let [a, b] = tf.split(x, [h, this.cfg.dim - h], 1) as [Tensor2D, Tensor2D];
      for (let k = 0; k < this.cfg.couplings; k++) {
        if (k % 2 === 0) b = tf.add(b, this.#net(k, a));
        else a = tf.add(a, this.#net(k, b));
      }
      return tf.concat([a, b], 1);
    });
  }

  /** z → x: the couplings undone in reverse order. */
  inverse(z: Tensor2D): Tensor2D {
    return tf.tidy(() => {
      const h = half(this.cfg.dim);
      let [a, b] = tf.split(z, [h, this.cfg.dim - h], 1) as [Tensor2D, Tensor2D];
      for (let k = this.cfg.couplings - 1; k >= 0; k--) {
        if (k % 2 === 0) b = tf.sub(b, this.#net(k, a));
        else a = tf.sub(a, this.#net(k, b));
      }
      return tf.concat([a, b], 1);
    });
  }

  /** Frees the tensors. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

/**
 * Deep SVDD's bias-free ReLU MLP (the ablation baseline).
 *
 * @example Deep SVDD's network
 * ```ts
 * import { BiasFreeMlp } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { tf } from "../core/deps.ts";
 * await initBackend("auto");
 * const mlp = BiasFreeMlp.create({ kind: "mlp", dim: 6, hidden: 8, depth: 1, out: 3 }, 0);
 * console.log(mlp.forward(tf.zeros([2, 6]) as tf.Tensor2D).shape); // [2, 3]
 * mlp.dispose();
 * ```
 */
export class BiasFreeMlp implements FeatureMap {
  /** The architecture. */
  readonly cfg: MlpConfig;
  /** All tensors, by name. */
  readonly vars: Map<string, Variable>;

  /** An MLP with the given values for every tensor of {@link mlpParams}. */
  constructor(cfg: MlpConfig, values: Map<string, Float32Array>) {
    this.cfg = cfg;
    this.vars = makeVars(mlpParams(cfg), values, "mlp");
  }

  /** An MLP with fresh seeded weights. */
  static create(cfg: MlpConfig, seed: number): BiasFreeMlp {
    const values = initialMapValues(cfg, seed);
    const mlp = new BiasFreeMlp(cfg, values);
    discard(values.values());
    return mlp;
  }

  /** Output dimension. */
  get outDim(): number {
    return this.cfg.out;
  }

  /** x → z (ReLU between layers, none after the last). */
  forward(x: Tensor2D): Tensor2D {
    return tf.tidy(() => {
      let h = x;
      const n = this.cfg.depth + 2;
      for (let l = 0; l < n; l++) {
        h = tf.matMul(h, this.vars.get(`l${l}.w`)!);
        if (l < n - 1) h = tf.relu(h);
      }
      return h;
    });
  }

  /** Frees the tensors. */
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

/** Builds the map an architecture describes. */
export function createMap(
  cfg: FlowConfig | MlpConfig,
  values: Map<string, Float32Array>,
): FeatureMap {
  return cfg.kind === "flow" ? new NiceFlow(cfg, values) : new BiasFreeMlp(cfg, values);
}

/** A freshly initialised map of an architecture, seeded. */
export function initialMap(cfg: FlowConfig | MlpConfig, seed: number): FeatureMap {
  return cfg.kind === "flow" ? NiceFlow.create(cfg, seed) : BiasFreeMlp.create(cfg, seed);
}

/** Current values of every tensor of a map, in parameter order. */
export async function mapValues(m: FeatureMap): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, v] of m.vars) out.set(n, (await v.data()) as Float32Array);
  return out;
}
