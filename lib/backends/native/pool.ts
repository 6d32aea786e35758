/**
 * oneDNN max-pooling, forward and backward.
 *
 * @module
 */

import {
  ALG,
  allocate,
  ARG,
  buildPrim,
  cached,
  check,
  dims,
  L,
  md,
  OP_DESC_SIZE,
  type Prim,
  PROP,
  QUERY,
  run,
  TAG,
  temp,
} from "./_dnnl.ts";

/** The pooling descriptors both directions take: src, dst, strides, kernel, dilation, padding. */
function poolDescs(
  g: PoolGeometry,
): [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array] {
  return [
    md([g.n, g.c, g.h, g.w], TAG.nhwc),
    md([g.n, g.c, g.oh, g.ow], TAG.nhwc),
    dims([g.sh, g.sw]),
    dims([g.kh, g.kw]),
    dims([0, 0]),
    dims([g.padTop, g.padLeft]),
    dims([g.padBottom, g.padRight]),
  ];
}

/** Geometry of a max-pooling in tfjs terms (NHWC). */
export interface PoolGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
}

export function poolPrim(g: PoolGeometry, prop: number): Prim {
  return cached(`poolfwd:${prop}:${Object.values(g)}`, () => {
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_pooling_v2_forward_desc_init(op, prop, ALG.poolMax, ...poolDescs(g)),
      "pooling_forward_desc_init",
    );
    const args: [number, number][] = [[ARG.src, QUERY.src], [ARG.dst, QUERY.dst]];
    if (prop === PROP.training) args.push([ARG.workspace, QUERY.workspace]);
    return buildPrim(op, args);
  });
}

/** Max-pooling forward, NHWC. */
export function maxPoolForward(g: PoolGeometry, x: Float32Array): Float32Array {
  const p = poolPrim(g, PROP.inference);
  const y = allocate(g.n * g.oh * g.ow * g.c);
  run(p, [[ARG.src, x], [ARG.dst, y]]);
  return y;
}

/** Max-pooling backward: routes dy to the argmax of each window (forward recomputed). */
export function maxPoolBackward(g: PoolGeometry, x: Float32Array, dy: Float32Array): Float32Array {
  const fwd = poolPrim(g, PROP.training);
  const key = Object.values(g).join(",");
  const ws = temp(`pool-ws:${key}`, () => new Uint8Array(fwd.sizes.get(ARG.workspace)!));
  const y = temp(`pool-y:${key}`, () => new Float32Array(g.n * g.oh * g.ow * g.c));
  run(fwd, [[ARG.src, x], [ARG.dst, y], [ARG.workspace, ws]]);
  const p = cached(`poolbwd:${Object.values(g)}`, () => {
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_pooling_v2_backward_desc_init(op, ALG.poolMax, ...poolDescs(g)),
      "pooling_backward_desc_init",
    );
    return buildPrim(op, [[ARG.diffDst, QUERY.diffDst], [ARG.diffSrc, QUERY.diffSrc], [
      ARG.workspace,
      QUERY.workspace,
    ]], fwd.pd);
  });
  const dx = allocate(g.n * g.h * g.w * g.c);
  run(p, [[ARG.diffDst, dy], [ARG.workspace, ws], [ARG.diffSrc, dx]]);
  return dx;
}
