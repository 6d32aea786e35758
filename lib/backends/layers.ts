/**
 * Layers whose gradients the toolkit writes itself, so each backend can run them well: on the
 * `native` backend they are single oneDNN kernels; elsewhere they are composed of tfjs ops with
 * a hand-written gradient (cheaper than tfjs's generic one).
 *
 * @module
 */

import { type Tensor, type Tensor1D, type Tensor2D, type Tensor4D, tf } from "../core/deps.ts";
import {
  BN_APPLY,
  BN_TRAIN,
  BN_TRAIN_GRAD,
  CONV_BN,
  CONV_BN_GRAD,
  CONV_BN_INFER,
  COPY,
  RELU_GRAD,
} from "./names.ts";

function hasKernel(name: string): boolean {
  return !!tf.getKernel(name, tf.getBackend());
}

/**
 * A tensor holding a copy of `values` (which the caller keeps). On the native backend the copy
 * lives in the backend's buffer pool, so a variable made from it is updated in place from the
 * first optimiser step, without another copy of every weight.
 */
export function tensorCopy(values: Float32Array, shape: number[]): Tensor {
  if (!hasKernel(COPY)) return tf.tensor(values.slice(), shape);
  return tf.tidy(() => tf.engine().runKernel(COPY, { x: tf.tensor(values, shape) }) as Tensor);
}

/**
 * Gives the memory of arrays no one will read again back to the system now, rather than at
 * some later garbage collection (which, for a model's initial weights, can be hundreds of MB
 * held through the first training steps). The arrays are empty afterwards.
 */
export function discard(arrays: Iterable<Float32Array>): void {
  for (const a of arrays) (a.buffer as ArrayBuffer).transfer?.(0);
}

/**
 * The filter of two VALID stride-1 convolutions in a row, `conv(conv(x, w0), w1)`, as one
 * convolution: `w[u, v, c, o] = Σ_{a, b, m} w0[u − a, v − b, c, m] · w1[a, b, m, o]`, of size
 * `k0 + k1 − 1`. Built from tfjs ops, so gradients flow back to both filters. ENet's SRM layer
 * (3 → 90 channels) and the 3x3 convolution after it (90 → 64) compose into one 7x7
 * convolution from the image's 3 channels: a sixth of the arithmetic.
 */
export function composeFilters(w0: Tensor4D, w1: Tensor4D): Tensor4D {
  return tf.tidy(() => {
    const [k1h, k1w] = w1.shape;
    // each input channel of w0 as an image (batch = c), padded for a full correlation
    const img = tf.pad(tf.transpose(w0, [2, 0, 1, 3]), [[0, 0], [k1h - 1, k1h - 1], [
      k1w - 1,
      k1w - 1,
    ], [0, 0]]);
    const y = tf.conv2d(img as Tensor4D, tf.reverse(w1, [0, 1]) as Tensor4D, 1, "valid");
    return tf.transpose(y, [1, 2, 0, 3]) as Tensor4D; // [k0h + k1h − 1, k0w + k1w − 1, c, o]
  });
}

/**
 * Batch normalisation over N, H, W with the batch's own statistics (training mode).
 * `onMoments` receives the batch mean and biased variance, kept alive for the caller (to fold
 * into running statistics and dispose).
 */
export function batchNormTrain(
  x: Tensor4D,
  gamma: Tensor1D,
  beta: Tensor1D,
  eps: number,
  onMoments?: (mean: Tensor1D, variance: Tensor1D) => void,
): Tensor4D {
  if (hasKernel(BN_TRAIN)) {
    const f = tf.customGrad((...args: unknown[]) => {
      const [xx, g, b] = args as [Tensor4D, Tensor1D, Tensor1D];
      const save = args[3] as (ts: Tensor[]) => void;
      const [y, mean, variance] = tf.engine().runKernel(BN_TRAIN, { x: xx, gamma: g, beta: b }, {
        eps,
      }) as Tensor[];
      if (onMoments) {
        onMoments(tf.keep(mean.clone()) as Tensor1D, tf.keep(variance.clone()) as Tensor1D);
      }
      save([xx, g, mean, variance]);
      return {
        value: y,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [sx, sg, sm, sv] = saved;
          return tf.engine().runKernel(BN_TRAIN_GRAD, {
            dy,
            x: sx,
            gamma: sg,
            mean: sm,
            variance: sv,
          }, { eps }) as Tensor[];
        },
      };
    });
    return f(x, gamma, beta) as Tensor4D;
  }
  const m = x.shape[0] * x.shape[1] * x.shape[2];
  const f = tf.customGrad((...args: unknown[]) => {
    const [xx, g, b] = args as [Tensor4D, Tensor1D, Tensor1D];
    const save = args[3] as (ts: Tensor[]) => void;
    const mean = tf.mean(xx, [0, 1, 2]) as Tensor1D;
    const xc = tf.sub(xx, mean);
    const variance = tf.mean(tf.square(xc), [0, 1, 2]) as Tensor1D;
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(xc, rstd);
    if (onMoments) onMoments(tf.keep(mean), tf.keep(variance));
    save([xhat, rstd, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xh, rs, gm] = saved;
        const dbeta = tf.sum(dy, [0, 1, 2]);
        const dgamma = tf.sum(tf.mul(dy, xh), [0, 1, 2]);
        const centred = tf.sub(tf.sub(dy, tf.div(dbeta, m)), tf.mul(xh, tf.div(dgamma, m)));
        return [tf.mul(centred, tf.mul(gm, rs)), dgamma, dbeta];
      },
    };
  });
  return f(x, gamma, beta) as Tensor4D;
}

/** ReLU; on the native backend its gradient is one fused kernel instead of step-and-multiply. */
export function relu<T extends Tensor>(x: T): T {
  if (!hasKernel(RELU_GRAD)) return tf.relu(x);
  const f = tf.customGrad((...args: unknown[]) => {
    const xx = args[0] as Tensor;
    const save = args[1] as (ts: Tensor[]) => void;
    save([xx]);
    return {
      value: tf.relu(xx),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.engine().runKernel(RELU_GRAD, { dy, x: saved[0] }, {}) as Tensor,
    };
  });
  return f(x) as T;
}

/** Options of {@link convBn}. */
export interface ConvBnOptions {
  stride: number;
  eps: number;
  /** Apply ReLU after batch norm. */
  relu: boolean;
  /** Receives the batch mean and biased variance (kept alive; the caller disposes them). */
  onMoments?: (mean: Tensor1D, variance: Tensor1D) => void;
}

/**
 * A VALID convolution followed by batch normalisation with batch statistics and optionally
 * ReLU: the training-mode building block of ENet. On the native backend it is one kernel (and
 * one gradient kernel) whose intermediate tensors never reach tfjs; elsewhere the same maths
 * from tfjs ops. With `x2` the input is x and x2 concatenated along channels (`filter` spans
 * both), a concatenation that is never built: one convolution per input, summed.
 */
export function convBn(
  x: Tensor4D,
  filter: Tensor4D,
  gamma: Tensor1D,
  beta: Tensor1D,
  o: ConvBnOptions,
  x2?: Tensor4D,
): Tensor4D {
  if (!hasKernel(CONV_BN)) {
    const conv = (input: Tensor4D, from: number) => {
      const [kh, kw, , co] = filter.shape;
      const part = x2 ? tf.slice(filter, [0, 0, from, 0], [kh, kw, input.shape[3], co]) : filter;
      return tf.conv2d(input, part as Tensor4D, o.stride, "valid");
    };
    const y = x2 ? tf.add(conv(x, 0), conv(x2, x.shape[3])) as Tensor4D : conv(x, 0);
    const h = batchNormTrain(y, gamma, beta, o.eps, o.onMoments);
    return o.relu ? relu(h) : h;
  }
  const attrs = { strides: [o.stride, o.stride], eps: o.eps, relu: o.relu };
  const f = tf.customGrad((...args: unknown[]) => {
    const n = x2 ? 5 : 4;
    const [xx, w, g, b, xx2] = args.slice(0, n) as Tensor4D[];
    const save = args[n] as (ts: Tensor[]) => void;
    const inputs: tf.NamedTensorMap = { x: xx, filter: w, gamma: g, beta: b };
    if (xx2) inputs.x2 = xx2;
    const [z, y, mean, variance] = tf.engine().runKernel(CONV_BN, inputs, attrs) as Tensor[];
    if (o.onMoments) {
      o.onMoments(tf.keep(mean.clone()) as Tensor1D, tf.keep(variance.clone()) as Tensor1D);
    }
    save([xx, w, g, z, y, mean, variance, ...(xx2 ? [xx2] : [])]);
    return {
      value: z,
      gradFunc: (dz: Tensor, saved: Tensor[]) => {
        const [sx, sw, sg, sz, sy, sm, sv, sx2] = saved;
        const [dx, dw, dg, db, dx2] = tf.engine().runKernel(
          CONV_BN_GRAD,
          {
            dz,
            x: sx,
            filter: sw,
            gamma: sg,
            z: sz,
            y: sy,
            mean: sm,
            variance: sv,
            ...(sx2 ? { x2: sx2 } : {}),
          },
          { ...attrs, consumeDz: true },
        ) as Tensor[];
        // Neither the incoming gradient nor the saved conv output is read again by tfjs's
        // backward pass (which otherwise holds every tensor until the step ends): freeing
        // them now returns their memory to the pool for the next layer's gradients.
        dz.dispose();
        sy.dispose();
        return sx2 ? [dx, dw, dg, db, dx2] : [dx, dw, dg, db];
      },
    };
  });
  return (x2 ? f(x, filter, gamma, beta, x2) : f(x, filter, gamma, beta)) as Tensor4D;
}

/** One block of {@link convBnChain}: its filter, BN scale and shift, and whether ReLU follows. */
export interface ChainLayer {
  filter: Tensor4D;
  gamma: Tensor1D;
  beta: Tensor1D;
  relu: boolean;
  /** Receives the batch mean and biased variance (kept alive; the caller disposes them). */
  onMoments?: (mean: Tensor1D, variance: Tensor1D) => void;
}

/**
 * A plain stride-1 convolution in front of a {@link convBnChain} (ENet's first 5x5 layer of
 * each branch): its output, the widest activation of the network, is recomputed from the
 * image in the backward pass instead of kept.
 */
export interface ChainStem {
  filter: Tensor4D;
  /** Whether the filter is trained (the SRM filters usually are not: no gradient then). */
  needGrad: boolean;
}

/**
 * Several stride-1 {@link convBn} blocks in a row, with the same values and gradients, but the
 * backward pass keeps only each block's conv output and statistics: the outputs of the inner
 * blocks are freed as soon as the next block has read them and recomputed from those (one
 * batch-norm pass each, a few percent of a convolution) when the gradients need them. ENet's
 * branches are such chains; this halves the activation memory they hold during a training
 * step. With a `stem`, the chain's input is `conv(x, stem.filter)`, likewise recomputed; no
 * gradient then flows to `x` (an image), nor with `inputGrad: false` (x is an image: its
 * gradient, a full backward convolution, is not computed; zeros stand in). Without the native
 * kernels it is plain `convBn` calls.
 */
export function convBnChain(
  x: Tensor4D,
  layers: ChainLayer[],
  eps: number,
  opts: { stem?: ChainStem; inputGrad?: boolean } = {},
): Tensor4D {
  const { stem, inputGrad = true } = opts;
  const stemConv = (f: Tensor) => tf.conv2d(x, f as Tensor4D, 1, "valid");
  if (!hasKernel(CONV_BN) || !hasKernel(BN_APPLY) || layers.length < 2) {
    let h = stem ? stemConv(stem.filter) : x;
    for (const l of layers) {
      h = convBn(h, l.filter, l.gamma, l.beta, {
        stride: 1,
        eps,
        relu: l.relu,
        onMoments: l.onMoments,
      });
    }
    return h;
  }
  const k = layers.length;
  const attrs = (i: number) => ({ strides: [1, 1], eps, relu: layers[i].relu, consumeDz: true });
  const f = tf.customGrad((...args: unknown[]) => {
    const first = args[0] as Tensor4D; // the input, or the stem's filter
    const params = args.slice(1, 1 + 3 * k) as Tensor[];
    const save = args[1 + 3 * k] as (ts: Tensor[]) => void;
    const input = stem ? stemConv(first) : first;
    const ys: Tensor[] = [], stats: Tensor[] = [];
    let h: Tensor = input;
    for (let i = 0; i < k; i++) {
      const [z, y, mean, variance] = tf.engine().runKernel(CONV_BN, {
        x: h,
        filter: params[3 * i],
        gamma: params[3 * i + 1],
        beta: params[3 * i + 2],
      }, attrs(i)) as Tensor[];
      layers[i].onMoments?.(
        tf.keep(mean.clone()) as Tensor1D,
        tf.keep(variance.clone()) as Tensor1D,
      );
      // an inner block's output, or the stem's: recomputed in the backward pass
      if (h !== first) h.dispose();
      h = z;
      ys.push(y);
      stats.push(mean, variance);
    }
    save([first, ...params, ...ys, ...stats, h]);
    return {
      value: h,
      gradFunc: (dz: Tensor, saved: Tensor[]) => {
        const p = saved.slice(1, 1 + 3 * k);
        const sy = saved.slice(1 + 3 * k, 1 + 4 * k);
        const st = saved.slice(1 + 4 * k, 1 + 6 * k);
        const grads: Tensor[] = new Array(1 + 3 * k);
        let d = dz, out = saved[1 + 6 * k];
        for (let i = k - 1; i >= 0; i--) {
          const input = i > 0
            ? tf.engine().runKernel(BN_APPLY, {
              y: sy[i - 1],
              gamma: p[3 * (i - 1) + 1],
              beta: p[3 * (i - 1) + 2],
              mean: st[2 * (i - 1)],
              variance: st[2 * (i - 1) + 1],
            }, { eps, relu: layers[i - 1].relu }) as Tensor
            : stem
            ? stemConv(saved[0])
            : saved[0];
          const needDx = i > 0 || (stem ? stem.needGrad : inputGrad);
          const g = tf.engine().runKernel(CONV_BN_GRAD, {
            dz: d,
            x: input,
            filter: p[3 * i],
            gamma: p[3 * i + 1],
            z: out,
            y: sy[i],
            mean: st[2 * i],
            variance: st[2 * i + 1],
          }, { ...attrs(i), needDx }) as Tensor[];
          // as in convBn: nothing else reads these again, so their memory goes back now
          d.dispose();
          sy[i].dispose();
          if (i < k - 1) out.dispose();
          const dx = needDx ? g.shift()! : undefined;
          grads.splice(1 + 3 * i, 3, ...g);
          d = dx!;
          out = input;
        }
        if (!stem) grads[0] = inputGrad ? d : tf.zerosLike(saved[0]);
        else {
          // the filter's gradient, from the recomputed stem output's gradient and the image
          grads[0] = stem.needGrad
            ? tf.engine().runKernel("Conv2DBackpropFilter", { x, dy: d }, {
              strides: [1, 1],
              pad: "valid",
              dataFormat: "NHWC",
              filterShape: saved[0].shape,
            }) as Tensor
            : tf.zerosLike(saved[0]);
          if (stem.needGrad) d.dispose();
          out.dispose();
        }
        return grads;
      },
    };
  });
  return f(
    stem ? stem.filter : x,
    ...layers.flatMap((l) => [l.filter, l.gamma, l.beta]),
  ) as Tensor4D;
}

/**
 * The inference-mode block: convolution, batch norm with the running statistics, optional
 * ReLU. One fused kernel on the native backend (BN folded into the convolution, ReLU as a
 * post-op); tfjs ops elsewhere. With `x2`, the input is x and x2 concatenated along channels:
 * the native kernel never builds that concatenation (two convolutions into one output).
 */
export function convBnInference(
  x: Tensor4D,
  filter: Tensor4D,
  bn: { gamma: Tensor1D; beta: Tensor1D; mean: Tensor1D; variance: Tensor1D },
  o: { stride: number; eps: number; relu: boolean },
  x2?: Tensor4D,
): Tensor4D {
  if (hasKernel(CONV_BN_INFER)) {
    return tf.engine().runKernel(CONV_BN_INFER, { x, filter, ...bn, ...(x2 ? { x2 } : {}) }, {
      strides: [o.stride, o.stride],
      eps: o.eps,
      relu: o.relu,
    }) as Tensor4D;
  }
  return tf.tidy(() => {
    const y = tf.batchNorm4d(
      tf.conv2d(x2 ? tf.concat([x, x2], 3) : x, filter, o.stride, "valid"),
      bn.mean,
      bn.variance,
      bn.beta,
      bn.gamma,
      o.eps,
    );
    return o.relu ? tf.relu(y) : y;
  });
}

/** The batch moments a training-mode BN layer measured (for its running statistics). */
export interface LayerMoments {
  /** BN layer name. */
  name: string;
  /** Batch mean per channel. */
  mean: Tensor1D;
  /** Biased batch variance per channel. */
  variance: Tensor1D;
  /** Values per channel the moments were taken over (N·H·W). */
  count: number;
}

/** A conv + BN block of a {@link Layers.branch}: its filter, BN layer, and whether ReLU follows. */
export interface BranchBlock {
  /** Filter `[k, k, in, out]`. */
  filter: Tensor4D;
  /** BN layer name (its tensors are `<bn>.gamma`, `.beta`, `.mean`, `.var`). */
  bn: string;
  /** ReLU after the block. */
  relu: boolean;
}

/**
 * The layers a CNN like ENet is written in, with every performance decision taken here rather
 * than in the model: which fused kernel runs a conv + BN (+ ReLU), what the backward pass
 * recomputes instead of keeping, when a stem convolution and the next one are composed into one,
 * and, at inference, freeing each activation as soon as the next layer has read it (a forward
 * pass then holds about two layers, not the whole network). The model reads like its diagram.
 *
 * BN uses the batch's statistics while training (recorded in `moments` for the running
 * statistics) and the running statistics otherwise; `param(name)` returns a model tensor.
 */
export class Layers {
  readonly #param: (name: string) => Tensor;
  readonly #training: boolean;
  readonly #moments?: LayerMoments[];
  readonly #dropoutSeed: number;
  readonly #eps: number;
  #input?: Tensor;

  /** Layers over a model's tensors, in training or inference mode. */
  constructor(
    param: (name: string) => Tensor,
    o: { training: boolean; moments?: LayerMoments[]; dropoutSeed?: number; eps: number },
  ) {
    this.#param = param;
    this.#training = o.training;
    this.#moments = o.moments;
    this.#dropoutSeed = o.dropoutSeed ?? 0;
    this.#eps = o.eps;
  }

  /** Whether the layers run in training mode. */
  get training(): boolean {
    return this.#training;
  }

  /** Marks the network's input, which is never freed early. */
  input<T extends Tensor>(x: T): T {
    this.#input = x;
    return x;
  }

  /** At inference, frees `used` (an activation nothing reads again) and returns `result`. */
  #done<T>(used: Tensor, result: T): T {
    if (!this.#training && used !== this.#input) used.dispose();
    return result;
  }

  /** The callback that records a BN layer's batch moments over `count` values per channel. */
  #record(name: string, count: number) {
    const m = this.#moments;
    return m &&
      ((mean: Tensor1D, variance: Tensor1D) => m.push({ name, mean, variance, count }));
  }

  #bn(name: string) {
    const p = (s: string) => this.#param(`${name}.${s}`) as Tensor1D;
    return { gamma: p("gamma"), beta: p("beta"), mean: p("mean"), variance: p("var") };
  }

  /**
   * conv (VALID, `stride`) + BN (+ ReLU) over the channel concatenation of `inputs`, a
   * concatenation that is never built (one convolution per input into one output).
   */
  convBn(
    inputs: Tensor4D[],
    filter: Tensor4D,
    bn: string,
    relu: boolean,
    stride = 1,
  ): Tensor4D {
    const [x, x2] = inputs;
    const b = this.#bn(bn);
    if (this.#training) {
      const out = (len: number) => Math.floor((len - filter.shape[0]) / stride) + 1;
      const count = x.shape[0] * out(x.shape[1]) * out(x.shape[2]);
      return convBn(x, filter, b.gamma, b.beta, {
        stride,
        eps: this.#eps,
        relu,
        onMoments: this.#record(bn, count),
      }, x2);
    }
    const z = convBnInference(x, filter, b, { stride, eps: this.#eps, relu }, x2);
    return this.#done(x, x2 ? this.#done(x2, z) : z);
  }

  /**
   * A branch: a plain stem convolution over the input (no BN), then conv + BN blocks. Nothing
   * nonlinear sits between the stem and the first block, so where it saves arithmetic the two
   * run as one composed convolution over the input ({@link composeFilters}). While training,
   * the stem's and the inner blocks' outputs are recomputed in the backward pass instead of
   * kept ({@link convBnChain}).
   */
  branch(
    x: Tensor4D,
    stem: Tensor4D,
    stemTrained: boolean,
    blocks: BranchBlock[],
  ): Tensor4D {
    const filters = blocks.map((b) => b.filter);
    const compose = composes(stem, filters[0]);
    if (compose) filters[0] = composeFilters(stem, filters[0]);
    if (!this.#training) {
      let h = compose ? x : tf.conv2d(x, stem, 1, "valid");
      blocks.forEach((b, k) => h = this.convBn([h], filters[k], b.bn, b.relu));
      return h;
    }
    let [hh, ww] = compose
      ? [x.shape[1], x.shape[2]]
      : [x.shape[1] - stem.shape[0] + 1, x.shape[2] - stem.shape[1] + 1];
    return convBnChain(
      x,
      blocks.map((b, k) => {
        const filter = filters[k], bn = this.#bn(b.bn);
        [hh, ww] = [hh - filter.shape[0] + 1, ww - filter.shape[1] + 1];
        return {
          filter,
          gamma: bn.gamma,
          beta: bn.beta,
          relu: b.relu,
          onMoments: this.#record(b.bn, x.shape[0] * hh * ww),
        };
      }),
      this.#eps,
      compose ? { inputGrad: false } : { stem: { filter: stem, needGrad: stemTrained } },
    );
  }

  /** Max pooling (VALID). */
  maxPool(h: Tensor4D, size: number, stride: number): Tensor4D {
    return this.#done(h, tf.maxPool(h, size, stride, "valid"));
  }

  /** A fully connected layer `h·W + b` with the model tensors `<name>.w` and `<name>.b`. */
  dense(h: Tensor2D, name: string): Tensor2D {
    return tf.add(
      tf.matMul(h, this.#param(`${name}.w`) as Tensor2D),
      this.#param(`${name}.b`),
    ) as Tensor2D;
  }

  /** ReLU (one fused gradient kernel on the native backend). */
  relu<T extends Tensor>(x: T): T {
    return relu(x);
  }

  /** Dropout at `rate` while training (seeded; `k` numbers the layer); identity otherwise. */
  dropout(h: Tensor2D, rate: number, k: number): Tensor2D {
    return this.#training && rate > 0
      ? tf.dropout(h, rate, undefined, this.#dropoutSeed * 2 + k) as Tensor2D
      : h;
  }
}

/**
 * Whether a stem conv and the conv after it are cheaper as one composed convolution: when the
 * pair's multiply-adds per output are at least 3x the composed filter's (the composed one reads
 * only the image's few channels, on which convolutions run at a third of their usual speed).
 * True for ENet's SRM branch (58,590 vs 9,408 at the paper's widths), false for conv0's.
 */
export function composes(stem: Tensor4D, next: Tensor4D): boolean {
  const [s0, s1, c, m] = stem.shape, [n0, n1, , o] = next.shape;
  const pair = s0 * s1 * c * m + n0 * n1 * m * o;
  return pair >= 3 * (s0 + n0 - 1) * (s1 + n1 - 1) * c * o;
}
