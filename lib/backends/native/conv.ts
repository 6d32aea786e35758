/**
 * oneDNN convolutions: forward, and the gradients with respect to the input and the filter.
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
  isPlain,
  L,
  md,
  OP_DESC_SIZE,
  type Prim,
  PROP,
  QUERY,
  queryMd,
  reorder,
  run,
  TAG,
  temp,
} from "./_dnnl.ts";

/** Geometry of a 2-D convolution in tfjs terms (NHWC data, HWIO filter). */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
}

export function geomKey(g: ConvGeometry): string {
  return Object.values(g).join(",");
}

export function convDescs(g: ConvGeometry) {
  return {
    src: md([g.n, g.ci, g.h, g.w], TAG.nhwc),
    dst: md([g.n, g.co, g.oh, g.ow], TAG.nhwc),
    wAny: md([g.co, g.ci, g.kh, g.kw], TAG.any),
    strides: dims([g.sh, g.sw]),
    dil: dims([g.dh - 1, g.dw - 1]),
    padL: dims([g.padTop, g.padLeft]),
    padR: dims([g.padBottom, g.padRight]),
  };
}

/** A forward convolution's op descriptor (direct algorithm, weights in any format), with or without a bias. */
export function convForwardDesc(
  g: ConvGeometry,
  prop: number,
  bias: Uint8Array | null,
): Uint8Array {
  const d = convDescs(g);
  const op = new Uint8Array(OP_DESC_SIZE);
  check(
    L().dnnl_dilated_convolution_forward_desc_init(
      op,
      prop,
      ALG.convDirect,
      d.src,
      d.wAny,
      bias && Deno.UnsafePointer.of(bias) as never,
      d.dst,
      d.strides,
      d.dil,
      d.padL,
      d.padR,
    ),
    "convolution_forward_desc_init",
  );
  return op;
}

export function convForwardPd(g: ConvGeometry, prop: number): Prim {
  return cached(`convfwd:${prop}:${geomKey(g)}`, () => {
    const op = convForwardDesc(g, prop, null);
    return buildPrim(op, [[ARG.src, QUERY.src], [ARG.weights, QUERY.weights], [
      ARG.dst,
      QUERY.dst,
    ]]);
  });
}

export const wDims = (g: ConvGeometry) => [g.co, g.ci, g.kh, g.kw];

/** Weights in the primitive's format, from tfjs HWIO. */
export function weightsFor(
  p: Prim,
  key: string,
  g: ConvGeometry,
  filter: Float32Array,
  query: number,
): Float32Array {
  if (isPlainCached(p, query, g)) return filter;
  const r = reorder(`reorder-w-in:${query}:${key}`, wDims(g), TAG.hwio, queryMd(p.pd, query), true);
  const out = temp(`w-in:${query}:${key}`, () => new Float32Array(r.sizes.get(ARG.dst)! / 4));
  run(r, [[ARG.src, filter], [ARG.dst, out]]);
  return out;
}

export const plainMemo = new Map<string, boolean>();
export function isPlainCached(p: Prim, query: number, g: ConvGeometry): boolean {
  const k = `${Deno.UnsafePointer.value(p.prim)}:${query}`;
  let v = plainMemo.get(k);
  if (v === undefined) {
    v = isPlain(p.pd, query, wDims(g), TAG.hwio);
    plainMemo.set(k, v);
  }
  return v;
}

/** y = conv(x, w): x NHWC, w HWIO; returns NHWC. */
export function convForward(
  g: ConvGeometry,
  x: Float32Array,
  filter: Float32Array,
  training = true,
): Float32Array {
  const p = convForwardPd(g, training ? PROP.training : PROP.inference);
  const w = weightsFor(p, `fwd:${geomKey(g)}`, g, filter, QUERY.weights);
  const y = allocate(g.n * g.oh * g.ow * g.co);
  run(p, [[ARG.src, x], [ARG.weights, w], [ARG.dst, y]]);
  return y;
}

/**
 * A backward convolution primitive (`data` or `weights`), built once per geometry: `init`
 * fills the operation descriptor from the convolution's memory descriptors; the forward
 * training primitive is its hint. Dilated convolutions are not run natively.
 */
function convBackwardPrim(
  g: ConvGeometry,
  what: "data" | "weights",
  init: (op: Uint8Array, d: ReturnType<typeof convDescs>) => number,
  args: [number, number][],
): Prim {
  return cached(`convbwd-${what}:${geomKey(g)}`, () => {
    if (g.dh !== 1 || g.dw !== 1) {
      throw new Error(`dilated backward ${what} is not supported natively`);
    }
    const hint = convForwardPd(g, PROP.training);
    const op = new Uint8Array(OP_DESC_SIZE);
    check(init(op, convDescs(g)), `convolution_backward_${what}_desc_init`);
    return buildPrim(op, args, hint.pd);
  });
}

/**
 * dx from dy and w, NHWC. For stride 1 this is itself a forward convolution (of dy, padded by
 * k-1-pad, with the filter rotated 180° and its channel axes swapped), which runs on oneDNN's
 * fastest forward kernels (about 3x its backward-data kernel here); otherwise oneDNN's
 * backward-data primitive.
 */
export function convBackwardData(
  g: ConvGeometry,
  dy: Float32Array,
  filter: Float32Array,
): Float32Array {
  const key = geomKey(g);
  const pads = [
    g.kh - 1 - g.padTop,
    g.kw - 1 - g.padLeft,
    g.kh - 1 - g.padBottom,
    g.kw - 1 - g.padRight,
  ];
  if (g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && pads.every((p) => p >= 0)) {
    const flipped = temp(`flip:${key}`, () => new Float32Array(filter.length));
    const { kh, kw, ci, co } = g;
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const src = ((kh - 1 - a) * kw + (kw - 1 - b)) * ci * co, dst = (a * kw + b) * co * ci;
        for (let i = 0; i < ci; i++) {
          for (let o = 0; o < co; o++) flipped[dst + o * ci + i] = filter[src + i * co + o];
        }
      }
    }
    const t: ConvGeometry = {
      ...g,
      h: g.oh,
      w: g.ow,
      ci: g.co,
      co: g.ci,
      oh: g.h,
      ow: g.w,
      padTop: pads[0],
      padLeft: pads[1],
      padBottom: pads[2],
      padRight: pads[3],
    };
    return convForward(t, dy, flipped);
  }
  const p = convBackwardPrim(g, "data", (op, d) =>
    L().dnnl_convolution_backward_data_desc_init(
      op,
      ALG.convDirect,
      d.src,
      d.wAny,
      d.dst,
      d.strides,
      d.padL,
      d.padR,
    ), [[ARG.diffDst, QUERY.diffDst], [ARG.weights, QUERY.weights], [ARG.diffSrc, QUERY.diffSrc]]);
  const w = weightsFor(p, `bwd-data:${key}`, g, filter, QUERY.weights);
  const dx = allocate(g.n * g.h * g.w * g.ci);
  run(p, [[ARG.diffDst, dy], [ARG.weights, w], [ARG.diffSrc, dx]]);
  return dx;
}

/** dw (HWIO) from x and dy, NHWC. */
export function convBackwardWeights(
  g: ConvGeometry,
  x: Float32Array,
  dy: Float32Array,
): Float32Array {
  const key = geomKey(g);
  const p = convBackwardPrim(
    g,
    "weights",
    (op, d) =>
      L().dnnl_convolution_backward_weights_desc_init(
        op,
        ALG.convDirect,
        d.src,
        d.wAny,
        null,
        d.dst,
        d.strides,
        d.padL,
        d.padR,
      ),
    [[ARG.src, QUERY.src], [ARG.diffDst, QUERY.diffDst], [ARG.diffWeights, QUERY.diffWeights]],
  );
  const n = g.kh * g.kw * g.ci * g.co;
  if (isPlainCached(p, QUERY.diffWeights, g)) {
    const dw = allocate(n);
    run(p, [[ARG.src, x], [ARG.diffDst, dy], [ARG.diffWeights, dw]]);
    return dw;
  }
  const blocked = temp(
    `dw-blocked:${key}`,
    () => new Float32Array(p.sizes.get(ARG.diffWeights)! / 4),
  );
  run(p, [[ARG.src, x], [ARG.diffDst, dy], [ARG.diffWeights, blocked]]);
  const r = reorder(
    `reorder-w-out:${key}`,
    wDims(g),
    TAG.hwio,
    queryMd(p.pd, QUERY.diffWeights),
    false,
  );
  const dw = allocate(n);
  run(r, [[ARG.src, blocked], [ARG.dst, dw]]);
  return dw;
}
