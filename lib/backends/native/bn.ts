/**
 * oneDNN batch normalisation (training, inference, backward) and ReLU.
 *
 * @module
 */

import {
  ALG,
  allocate,
  ARG,
  BN_FLAGS,
  buildPrim,
  bytes,
  cached,
  check,
  engine,
  L,
  md,
  OP_DESC_SIZE,
  outPtr,
  type Prim,
  PROP,
  QUERY,
  run,
  TAG,
  temp,
  toPtr,
} from "./_dnnl.ts";

/**
 * Batch norm forward over NHWC: with batch statistics (training), or with given ones
 * (`globalStats`: inference, as {@link batchNormApply} recomputes a block's output).
 */
export function bnForwardPrim(
  shape: [number, number, number, number],
  eps: number,
  globalStats = false,
): Prim {
  const [n, h, w, c] = shape;
  return cached(`bnfwd:${globalStats}:${shape}:${eps}`, () => {
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_batch_normalization_forward_desc_init(
        op,
        globalStats ? PROP.inference : PROP.training,
        md([n, c, h, w], TAG.nhwc),
        eps,
        (globalStats ? BN_FLAGS.globalStats : 0) | BN_FLAGS.scale | BN_FLAGS.shift,
      ),
      "batch_normalization_forward_desc_init",
    );
    const p = buildPrim(op, [[ARG.src, QUERY.src], [ARG.dst, QUERY.dst]]);
    bindVectors(p, c, [ARG.scale, ARG.shift, ARG.mean, ARG.variance]);
    return p;
  });
}

/** Batch normalisation with batch statistics (NHWC): returns y, mean, biased variance. */
export function batchNormForward(
  shape: [number, number, number, number],
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
): { y: Float32Array; mean: Float32Array; variance: Float32Array } {
  const c = shape[3];
  const p = bnForwardPrim(shape, eps);
  const y = allocate(x.length), mean = new Float32Array(c), variance = new Float32Array(c);
  run(p, [[ARG.src, x], [ARG.dst, y], [ARG.scale, gamma], [ARG.shift, beta], [ARG.mean, mean], [
    ARG.variance,
    variance,
  ]]);
  return { y, mean, variance };
}

/**
 * Batch norm with given statistics, then optional ReLU: z = [ReLU](gamma (y - mean) /
 * sqrt(variance + eps) + beta). Recomputes a block's output in the backward pass from its saved
 * conv output, so the forward pass need not keep it.
 */
export function batchNormApply(
  shape: [number, number, number, number],
  y: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  withRelu: boolean,
): Float32Array {
  const p = bnForwardPrim(shape, eps, true);
  const z = allocate(y.length);
  run(p, [[ARG.src, y], [ARG.dst, z], [ARG.scale, gamma], [ARG.shift, beta], [ARG.mean, mean], [
    ARG.variance,
    variance,
  ]]);
  if (withRelu) reluInPlace(z);
  return z;
}

/**
 * Gradients of {@link batchNormForward}: dx, dgamma, dbeta. `inPlace` writes dx over `dy`
 * (oneDNN's batch norm backward supports it), saving an activation-sized buffer.
 */
export function batchNormBackward(
  shape: [number, number, number, number],
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  inPlace = false,
): { dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array } {
  const [n, h, w, c] = shape;
  const hint = bnForwardPrim(shape, eps);
  const p = cached(`bnbwd:${shape}:${eps}`, () => {
    const op = new Uint8Array(OP_DESC_SIZE);
    const data = md([n, c, h, w], TAG.nhwc);
    check(
      L().dnnl_batch_normalization_backward_desc_init(
        op,
        PROP.backward,
        data,
        data,
        eps,
        BN_FLAGS.scale | BN_FLAGS.shift,
      ),
      "batch_normalization_backward_desc_init",
    );
    const b = buildPrim(op, [[ARG.src, QUERY.src], [ARG.diffDst, QUERY.diffDst], [
      ARG.diffSrc,
      QUERY.diffSrc,
    ]], hint.pd);
    bindVectors(b, c, [ARG.scale, ARG.shift, ARG.mean, ARG.variance, ARG.diffScale, ARG.diffShift]);
    return b;
  });
  const dx = inPlace ? dy : allocate(x.length);
  const dgamma = new Float32Array(c), dbeta = new Float32Array(c);
  run(p, [
    [ARG.src, x],
    [ARG.diffDst, dy],
    [ARG.scale, gamma],
    [ARG.shift, temp(`zeros:${c}`, () => new Float32Array(Math.max(c, 32)))], // unused; oneDNN 2.6 wants it bound
    [ARG.mean, mean],
    [ARG.variance, variance],
    [ARG.diffSrc, dx],
    [ARG.diffScale, dgamma],
    [ARG.diffShift, dbeta],
  ]);
  return { dx, dgamma, dbeta };
}

/** Adds memory objects for per-channel vector arguments (scale, shift, mean, ...). */
export function bindVectors(p: Prim, c: number, args: number[]): void {
  for (const a of args) {
    if (p.mems.has(a)) continue;
    const o = outPtr();
    const m = md([c], TAG.a);
    check(
      L().dnnl_memory_create(bytes(o), Deno.UnsafePointer.of(m), engine, null),
      "memory_create",
    );
    p.mems.set(a, toPtr(o));
    p.sizes.set(a, c * 4);
  }
}

/**
 * ReLU forward (`dy` absent) or backward (`dy` given: dx = dy where x > 0), into `out` when
 * given (which may be `dy` itself: oneDNN's eltwise backward runs in place).
 */
export function relu(x: Float32Array, dy?: Float32Array, out?: Float32Array): Float32Array {
  const n = x.length;
  const p = cached(`relu:${dy ? "bwd" : "fwd"}:${n}`, () => {
    const data = md([n], TAG.a);
    if (!dy) {
      const op = new Uint8Array(OP_DESC_SIZE);
      check(
        L().dnnl_eltwise_forward_desc_init(op, PROP.inference, ALG.relu, data, 0, 0),
        "eltwise_forward_desc_init",
      );
      return buildPrim(op, [[ARG.src, QUERY.src], [ARG.dst, QUERY.dst]]);
    }
    const fop = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_eltwise_forward_desc_init(fop, PROP.training, ALG.relu, data, 0, 0),
      "eltwise_forward_desc_init",
    );
    const hint = buildPrim(fop, []);
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_eltwise_backward_desc_init(op, ALG.relu, data, data, 0, 0),
      "eltwise_backward_desc_init",
    );
    return buildPrim(op, [[ARG.src, QUERY.src], [ARG.diffDst, QUERY.diffDst], [
      ARG.diffSrc,
      QUERY.diffSrc,
    ]], hint.pd);
  });
  const dst = out ?? allocate(n);
  if (!dy) run(p, [[ARG.src, x], [ARG.dst, dst]]);
  else run(p, [[ARG.src, x], [ARG.diffDst, dy], [ARG.diffSrc, dst]]);
  return dst;
}

/** ReLU applied in place (oneDNN eltwise with src = dst). */
export function reluInPlace(x: Float32Array): void {
  const n = x.length;
  const p = cached(`relu:fwd:${n}`, () => {
    const data = md([n], TAG.a);
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_eltwise_forward_desc_init(op, PROP.inference, ALG.relu, data, 0, 0),
      "eltwise_forward_desc_init",
    );
    return buildPrim(op, [[ARG.src, QUERY.src], [ARG.dst, QUERY.dst]]);
  });
  run(p, [[ARG.src, x], [ARG.dst, x]]);
}
