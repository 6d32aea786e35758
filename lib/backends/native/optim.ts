/**
 * Optimiser updates (SGD with momentum, Adam) as oneDNN binary primitives on every thread.
 *
 * @module
 */

import { bindVectors } from "./bn.ts";

import {
  ALG,
  allocate,
  ARG,
  ARG_POST_OP0_SRC1,
  attrWith,
  buildPrim,
  cached,
  check,
  L,
  md,
  OP_DESC_SIZE,
  type PostOp,
  type Prim,
  release,
  run,
  TAG,
  temp,
} from "./_dnnl.ts";

// ---- optimiser updates ------------------------------------------------------------------
// Each update is a few oneDNN binary primitives over the flat arrays, vectorised and run on
// every OpenMP thread: a JavaScript loop computes Adam's square root and division one element
// at a time on one core (about 4 ns an element, 140 ms a step for the flow's 32 M weights).
// Values that change between steps (learning rate, bias corrections) are one-element operands,
// so the primitives are built once per array length.

/** dst ← post-ops(src0 alg src1) over `n` floats; src1 has `n` floats or one (broadcast). */
export function flatBinary(alg: number, n: number, n1: number, post: PostOp[]): Prim {
  return cached(`flat:${alg}:${n}:${n1}:${JSON.stringify(post)}`, () => {
    const op = new Uint8Array(OP_DESC_SIZE);
    const data = md([n], TAG.a);
    check(L().dnnl_binary_desc_init(op, alg, data, md([n1], TAG.a), data), "binary_desc_init");
    const p = buildPrim(op, [], null, attrWith(post));
    bindVectors(p, n, [ARG.src0, ARG.dst]);
    bindVectors(p, n1, [ARG.src1]);
    if (post.some((q) => q[0] === "mulScalar")) bindVectors(p, 1, [ARG_POST_OP0_SRC1]);
    return p;
  });
}

/** A one-element operand (its own array per slot, so several can be bound in one call). */
export function scalar(slot: string, v: number): Float32Array {
  const a = temp(`scalar:${slot}`, () => new Float32Array(1));
  a[0] = v;
  return a;
}

/**
 * SGD with momentum in place: `buf ← μ·buf + g; p ← p − lr·buf` (torch.optim.SGD's rule).
 */
export function sgdStep(
  p: Float32Array,
  buf: Float32Array,
  g: Float32Array,
  lr: number,
  momentum: number,
): void {
  const n = p.length;
  run(flatBinary(ALG.mul, n, 1, [["sum", momentum]]), [
    [ARG.src0, g],
    [ARG.src1, scalar("one", 1)],
    [ARG.dst, buf],
  ]);
  run(flatBinary(ALG.mul, n, 1, [["sum", 1]]), [
    [ARG.src0, buf],
    [ARG.src1, scalar("-lr", -lr)],
    [ARG.dst, p],
  ]);
}

/** Adam's constants for one step: `c1`, `c2` are the bias corrections 1 − βᵗ. */
export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  c1: number;
  c2: number;
}

/**
 * Adam in place, as torch.optim.Adam: `m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * p ← p − (lr/c1)·m / (√(v/c2) + ε)`.
 */
export function adamStep(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  a: AdamStep,
): void {
  const n = p.length;
  run(flatBinary(ALG.mul, n, 1, [["sum", a.beta1]]), [
    [ARG.src0, g],
    [ARG.src1, scalar("1-b1", 1 - a.beta1)],
    [ARG.dst, m],
  ]);
  run(flatBinary(ALG.mul, n, n, [["linear", 1 - a.beta2, 0], ["sum", a.beta2]]), [
    [ARG.src0, g],
    [ARG.src1, g],
    [ARG.dst, v],
  ]);
  const d = allocate(n); // √(v/c2) + ε
  run(flatBinary(ALG.mul, n, 1, [["sqrt"], ["linear", 1, a.eps]]), [
    [ARG.src0, v],
    [ARG.src1, scalar("1/c2", 1 / a.c2)],
    [ARG.dst, d],
  ]);
  run(flatBinary(ALG.div, n, n, [["mulScalar"], ["sum", 1]]), [
    [ARG.src0, m],
    [ARG.src1, d],
    [ARG_POST_OP0_SRC1, scalar("-step", -a.lr / a.c1)],
    [ARG.dst, p],
  ]);
  release(d);
}
