/**
 * The fused blocks: conv + BN (+ ReLU) in one kernel for training and inference, and a
 * convolution over two inputs whose channel concatenation is never built.
 *
 * @module
 */

import {
  convBackwardData,
  convBackwardWeights,
  convForward,
  convForwardDesc,
  type ConvGeometry,
  geomKey,
  weightsFor,
} from "./conv.ts";

import { batchNormBackward, batchNormForward, bindVectors, relu, reluInPlace } from "./bn.ts";

import {
  allocate,
  ARG,
  attrWith,
  buildPrim,
  cached,
  md,
  type PostOp,
  type Prim,
  PROP,
  QUERY,
  release,
  run,
  TAG,
  temp,
} from "./_dnnl.ts";

/** Batch-norm statistics and parameters (inference: running statistics). */
export interface BnParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  eps: number;
}

/** A convolution with bias and post-ops (sum into the destination, ReLU), built once per shape. */
export function biasConv(g: ConvGeometry, sum: boolean, withRelu: boolean): Prim {
  return cached(`convinf:${sum}:${withRelu}:${geomKey(g)}`, () => {
    const bias = md([g.co], TAG.a);
    const op = convForwardDesc(g, PROP.inference, bias);
    const post: PostOp[] = [];
    if (sum) post.push(["sum", 1]);
    if (withRelu) post.push(["relu"]);
    const prim = buildPrim(
      op,
      [[ARG.src, QUERY.src], [ARG.weights, QUERY.weights], [ARG.dst, QUERY.dst]],
      null,
      attrWith(post),
    );
    bindVectors(prim, g.co, [ARG.bias]);
    (prim as Prim & { keep?: unknown }).keep = bias;
    return prim;
  });
}

/**
 * Input channels `[from, from + g.ci)` of an HWIO filter that has `ci` input channels in all,
 * each output channel multiplied by `scale[o]` when given, into a scratch array named `slot`.
 */
export function filterPart(
  filter: Float32Array,
  g: ConvGeometry,
  ci: number,
  from: number,
  scale: Float32Array | null,
  slot: string,
): Float32Array {
  if (from === 0 && ci === g.ci && !scale) return filter;
  const out = temp(`part:${slot}:${geomKey(g)}`, () => new Float32Array(g.kh * g.kw * g.ci * g.co));
  for (let k = 0; k < g.kh * g.kw; k++) {
    for (let i = 0; i < g.ci; i++) {
      const src = (k * ci + from + i) * g.co, dst = (k * g.ci + i) * g.co;
      if (scale) { for (let o = 0; o < g.co; o++) out[dst + o] = filter[src + o] * scale[o]; }
      else out.set(filter.subarray(src, src + g.co), dst);
    }
  }
  return out;
}

/** A second input concatenated to the first along channels: its geometry and data. */
export type SecondInput = [ConvGeometry, Float32Array];

/**
 * y = [ReLU](conv(concat(x, x2), filter·scale) + bias) without building the concatenation:
 * the first convolution writes y, the second (over x2 and the filter's remaining input
 * channels) adds to it through oneDNN's sum post-op, with the ReLU fused after.
 */
export function convConcat(
  g: ConvGeometry,
  x: Float32Array,
  filter: Float32Array,
  second: SecondInput | undefined,
  scale: Float32Array | null,
  bias: Float32Array,
  withRelu: boolean,
): Float32Array {
  const y = allocate(g.n * g.oh * g.ow * g.co);
  const ci = g.ci + (second ? second[0].ci : 0);
  const p1 = biasConv(g, false, withRelu && !second);
  const w1 = filterPart(filter, g, ci, 0, scale, "a");
  const b = temp(`bias:${g.co}`, () => new Float32Array(Math.max(g.co, 32)));
  b.set(bias);
  run(p1, [
    [ARG.src, x],
    [ARG.weights, weightsFor(p1, `cat-a:${geomKey(g)}`, g, w1, QUERY.weights)],
    [
      ARG.bias,
      b,
    ],
    [ARG.dst, y],
  ]);
  if (second) {
    const [g2, x2] = second;
    const p2 = biasConv(g2, true, withRelu);
    const w2 = weightsFor(
      p2,
      `cat-b:${geomKey(g2)}`,
      g2,
      filterPart(filter, g2, ci, g.ci, scale, "b"),
      QUERY.weights,
    );
    const zero = temp(`zeros:${g.co}`, () => new Float32Array(Math.max(g.co, 32)));
    run(p2, [[ARG.src, x2], [ARG.weights, w2], [ARG.bias, zero], [ARG.dst, y]]);
  }
  return y;
}

/**
 * Inference block: z = [ReLU](BN(conv(x, w))) with BN's running statistics folded into the
 * convolution (w' = w·γ/√(σ²+ε) per output channel, bias β − μ·γ/√(σ²+ε)) and the ReLU fused
 * as a post-op: one pass over the output instead of three. With `second`, the input is the
 * channel concatenation of x and x2, never built (`filter` spans both).
 */
export function convBnInference(
  g: ConvGeometry,
  x: Float32Array,
  filter: Float32Array,
  bn: BnParams,
  withRelu: boolean,
  second?: SecondInput,
): Float32Array {
  const scale = new Float32Array(g.co), bias = new Float32Array(g.co);
  for (let o = 0; o < g.co; o++) {
    scale[o] = bn.gamma[o] / Math.sqrt(bn.variance[o] + bn.eps);
    bias[o] = bn.beta[o] - bn.mean[o] * scale[o];
  }
  return convConcat(g, x, filter, second, scale, bias, withRelu);
}

/** What {@link convBnForward} keeps for the backward pass, besides its input. */
export interface ConvBnSaved {
  /** Convolution output (BN input). */
  y: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * One ENet block in a single call: z = [ReLU](BN(conv(x, w))), with batch statistics. The
 * intermediate BN output is written in place, so the block leaves two large arrays (y, z).
 * With `second` the input is the channel concatenation of x and x2, never built.
 */
export function convBnForward(
  g: ConvGeometry,
  x: Float32Array,
  filter: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  withRelu: boolean,
  second?: SecondInput,
): { z: Float32Array } & ConvBnSaved {
  const y = second
    ? convConcat(g, x, filter, second, null, new Float32Array(g.co), false)
    : convForward(g, x, filter);
  const shape: [number, number, number, number] = [g.n, g.oh, g.ow, g.co];
  const { y: z, mean, variance } = batchNormForward(shape, y, gamma, beta, eps);
  if (withRelu) reluInPlace(z);
  return { z, y, mean, variance };
}

/**
 * Gradients of {@link convBnForward}: dx (unless `needDx` is false), dw, dgamma, dbeta. With
 * `dzScratch` the ReLU and BN gradients are computed in place in `dz` (which the caller gives
 * up); otherwise in temporaries returned to the pool before this returns.
 */
export function convBnBackward(
  g: ConvGeometry,
  dz: Float32Array,
  x: Float32Array,
  filter: Float32Array,
  gamma: Float32Array,
  saved: ConvBnSaved & { z: Float32Array },
  eps: number,
  withRelu: boolean,
  needDx = true,
  dzScratch = false,
  second?: SecondInput,
): {
  dx?: Float32Array;
  dx2?: Float32Array;
  dw: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
} {
  const shape: [number, number, number, number] = [g.n, g.oh, g.ow, g.co];
  const dt = withRelu ? relu(saved.z, dz, dzScratch ? dz : undefined) : dz;
  const inPlace = dzScratch || dt !== dz; // a temporary of our own may be overwritten too
  const { dx: dy, dgamma, dbeta } = batchNormBackward(
    shape,
    dt,
    saved.y,
    gamma,
    saved.mean,
    saved.variance,
    eps,
    inPlace,
  );
  if (dt !== dz && dt !== dy) release(dt);
  if (second) {
    // each input's share of the filter: its gradient, and its own input gradient
    const [g2, x2] = second, ci = g.ci + g2.ci;
    const dw1 = convBackwardWeights(g, x, dy), dw2 = convBackwardWeights(g2, x2, dy);
    const dw = allocate(g.kh * g.kw * ci * g.co);
    for (let k = 0; k < g.kh * g.kw; k++) {
      dw.set(dw1.subarray(k * g.ci * g.co, (k + 1) * g.ci * g.co), k * ci * g.co);
      dw.set(dw2.subarray(k * g2.ci * g.co, (k + 1) * g2.ci * g.co), (k * ci + g.ci) * g.co);
    }
    release(dw1);
    release(dw2);
    const dx = needDx
      ? convBackwardData(g, dy, filterPart(filter, g, ci, 0, null, "a"))
      : undefined;
    const dx2 = needDx
      ? convBackwardData(g2, dy, filterPart(filter, g2, ci, g.ci, null, "b"))
      : undefined;
    if (dy !== dz) release(dy);
    return { dx, dx2, dw, dgamma, dbeta };
  }
  const dw = convBackwardWeights(g, x, dy);
  const dx = needDx ? convBackwardData(g, dy, filter) : undefined;
  if (dy !== dz) release(dy);
  return { dx, dw, dgamma, dbeta };
}
