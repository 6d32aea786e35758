/**
 * Optimisers with PyTorch's update rules, whose state can be saved and restored exactly (so a
 * resumed run continues as if it had never stopped).
 *
 * - SGD with momentum: `buf = μ·buf + g; p -= lr·buf`
 * - Adam: `m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; p -= lr·m̂ / (√v̂ + ε)`
 *
 * @module
 */

import { type Tensor, tf, type Variable } from "../core/deps.ts";
import type { NamedArray } from "../core/bundle.ts";
import { ADAM_STEP, SGD_STEP } from "./names.ts";
import { tensorCopy } from "./layers.ts";

/** An optimiser over a fixed set of named variables. */
export interface Optimizer {
  /** Applies one update with learning rate `lr`; `grads` maps variable names to gradients. */
  step(grads: Map<string, Tensor>, lr: number): void;
  /** The optimiser's state as named arrays (for checkpoints). */
  state(): Promise<NamedArray[]>;
  /** Restores state saved by {@link Optimizer.state}. */
  load(arrays: Map<string, NamedArray>): void;
  /** Frees the optimiser's tensors. */
  dispose(): void;
}

function slots(vars: Map<string, Variable>, suffix: string): Map<string, Variable> {
  return new Map(
    [...vars].map((
      [n, v],
    ) => [n, tf.tidy(() => tf.variable(tf.zerosLike(v), false, `${v.name}/${suffix}`))]),
  );
}

async function dump(prefix: string, m: Map<string, Variable>): Promise<NamedArray[]> {
  const out: NamedArray[] = [];
  for (const [n, v] of m) {
    out.push({ name: `${prefix}/${n}`, shape: v.shape, data: (await v.data()) as Float32Array });
  }
  return out;
}

function restore(prefix: string, m: Map<string, Variable>, arrays: Map<string, NamedArray>) {
  for (const [n, v] of m) {
    const a = arrays.get(`${prefix}/${n}`);
    if (!a) throw new Error(`optimiser state lacks ${prefix}/${n}`);
    tf.tidy(() => v.assign(tensorCopy(a.data, v.shape)));
  }
}

/**
 * SGD with (heavy-ball) momentum, as `torch.optim.SGD(momentum=μ)`.
 *
 * @example One SGD step, PyTorch's rule
 * ```ts
 * import { initBackend, SgdMomentum } from "./mod.ts";
 * import { tf } from "../core/deps.ts";
 * await initBackend("cpu");
 * const w = tf.variable(tf.tensor1d([1]));
 * const opt = new SgdMomentum(new Map([["w", w]]), 0.9);
 * opt.step(new Map([["w", tf.tensor1d([1])]]), 0.1);
 * console.log((await w.data())[0]); // 0.9
 * opt.dispose();
 * ```
 */
export class SgdMomentum implements Optimizer {
  /** The variables updated, by name. */
  readonly vars: Map<string, Variable>;
  /** Momentum factor μ. */
  readonly momentum: number;
  #buf: Map<string, Variable>;

  /** An optimiser over `vars` with zeroed momentum buffers. */
  constructor(vars: Map<string, Variable>, momentum = 0.9) {
    this.vars = vars;
    this.momentum = momentum;
    this.#buf = slots(vars, "momentum");
  }

  step(grads: Map<string, Tensor>, lr: number): void {
    const fused = !!tf.getKernel(SGD_STEP, tf.getBackend());
    tf.tidy(() => {
      for (const [n, v] of this.vars) {
        const g = grads.get(n);
        if (!g) continue;
        const b = this.#buf.get(n)!;
        if (fused) { // in place when it can be; assigning a variable its own data is free
          const [p2, b2] = tf.engine().runKernel(SGD_STEP, { param: v, grad: g, buf: b }, {
            lr,
            momentum: this.momentum,
          }) as Tensor[];
          b.assign(b2);
          v.assign(p2);
          continue;
        }
        b.assign(tf.add(tf.mul(b, this.momentum), g));
        v.assign(tf.sub(v, tf.mul(b, lr)));
      }
    });
  }

  state(): Promise<NamedArray[]> {
    return dump("momentum", this.#buf);
  }

  load(arrays: Map<string, NamedArray>): void {
    restore("momentum", this.#buf, arrays);
  }

  dispose(): void {
    for (const b of this.#buf.values()) b.dispose();
  }
}

/**
 * Adam, as `torch.optim.Adam` (no weight decay, no amsgrad).
 *
 * @example One Adam step on a variable
 * ```ts
 * import { Adam, initBackend } from "./mod.ts";
 * import { tf } from "../core/deps.ts";
 * await initBackend("cpu");
 * const w = tf.variable(tf.tensor1d([1, 2]));
 * const opt = new Adam(new Map([["w", w]]));
 * opt.step(new Map([["w", tf.tensor1d([0.5, -0.5])]]), 0.1);
 * console.log(await w.data()); // about [0.9, 2.1]
 * opt.dispose();
 * ```
 */
export class Adam implements Optimizer {
  /** The variables updated, by name. */
  readonly vars: Map<string, Variable>;
  /** Decay of the first-moment estimate. */
  readonly beta1: number;
  /** Decay of the second-moment estimate. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly eps: number;
  #m: Map<string, Variable>;
  #v: Map<string, Variable>;
  /** Updates done so far. */
  t = 0;

  /** An optimiser over `vars` with zeroed moments. */
  constructor(vars: Map<string, Variable>, beta1 = 0.9, beta2 = 0.999, eps = 1e-8) {
    this.vars = vars;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.#m = slots(vars, "m");
    this.#v = slots(vars, "v");
  }

  step(grads: Map<string, Tensor>, lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t, c2 = 1 - this.beta2 ** this.t;
    const fused = !!tf.getKernel(ADAM_STEP, tf.getBackend());
    tf.tidy(() => {
      for (const [n, p] of this.vars) {
        const g = grads.get(n);
        if (!g) continue;
        const m = this.#m.get(n)!, v = this.#v.get(n)!;
        if (fused) { // in place when it can be; assigning a variable its own data is free
          const attrs = { lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, c1, c2 };
          const [p2, m2, v2] = tf.engine().runKernel(
            ADAM_STEP,
            { param: p, grad: g, m, v },
            attrs,
          ) as Tensor[];
          m.assign(m2);
          v.assign(v2);
          p.assign(p2);
          continue;
        }
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const denom = tf.add(tf.sqrt(tf.div(v, c2)), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), lr / c1)));
      }
    });
  }

  async state(): Promise<NamedArray[]> {
    return [
      ...(await dump("m", this.#m)),
      ...(await dump("v", this.#v)),
      { name: "t", shape: [1], data: new Float32Array([this.t]) },
    ];
  }

  load(arrays: Map<string, NamedArray>): void {
    restore("m", this.#m, arrays);
    restore("v", this.#v, arrays);
    this.t = arrays.get("t")?.data[0] ?? 0;
  }

  dispose(): void {
    for (const x of [...this.#m.values(), ...this.#v.values()]) x.dispose();
  }
}

/** Step decay: `lr0 · gamma^floor((epoch - 1) / every)` for 1-based epochs. */
export function stepLr(lr0: number, epoch: number, every: number, gamma = 0.1): number {
  return lr0 * gamma ** Math.floor((epoch - 1) / Math.max(1, every));
}
