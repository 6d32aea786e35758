/**
 * oneDNN (Intel's deep-learning kernel library, Debian package `libdnnl2`) through Deno FFI:
 * convolutions, batch normalisation, ReLU, max-pooling and GEMM, on float32 NHWC data held in
 * ordinary typed arrays. Primitives are built once per shape and cached. The library decides
 * the fastest implementation for the CPU (AVX-512 `brgconv` here); weights are handed to it in
 * tfjs's `[kh, kw, in, out]` layout and reordered to its preferred blocked layout on the fly.
 *
 * Written against the oneDNN 2.x C API (Debian bookworm ships 2.6/2.7). Enum values and struct
 * sizes below come from that version's headers (`oneapi/dnnl/dnnl_types.h`).
 *
 * @module
 */

// ---- constants from dnnl_types.h (oneDNN 2.6) -------------------------------------------
const F32 = 3;
const TAG = { any: 1, a: 2, ab: 3, nhwc: 20, hwio: 30 } as const;
const PROP = {
  training: 64,
  inference: 96,
  backward: 128,
  backwardData: 160,
  backwardWeights: 192,
} as const;
const ALG = {
  convDirect: 1,
  relu: 31,
  sqrt: 0x6f,
  linear: 0x7f,
  poolMax: 511,
  add: 0x1fff0,
  mul: 0x1fff1,
  div: 0x1fff4,
} as const;
/** Execution argument of the first post-op's second operand (DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | SRC_1). */
const ARG_POST_OP0_SRC1 = 16384 | 2;
const BN_FLAGS = { globalStats: 1, scale: 8, shift: 16 } as const;
const QUERY = {
  src: 129,
  diffSrc: 130,
  weights: 131,
  diffWeights: 132,
  dst: 133,
  diffDst: 134,
  workspace: 135,
  impl: 8,
};
const ARG = {
  src: 1,
  dst: 17,
  weights: 33,
  diffSrc: 129,
  diffDst: 145,
  diffWeights: 161,
  workspace: 64,
  mean: 49,
  variance: 50,
  scale: 51,
  shift: 52,
  diffScale: 255,
  diffShift: 256,
  bias: 41,
  src0: 1,
  src1: 2,
} as const;
const MD_SIZE = 696; // sizeof(dnnl_memory_desc_t)
const OP_DESC_SIZE = 8192; // larger than every op descriptor (convolution: 5976)

/**
 * Library paths tried, in order: the usual absolute locations first (so `--allow-ffi` can be
 * scoped to them), then the bare name for the system loader's search path. `CGVSNI_DNNL` names
 * another file.
 */
export const DNNL_LIBRARIES = [
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
  "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
  "/usr/lib64/libdnnl.so.2",
  "/usr/local/lib/libdnnl.so.2",
  "libdnnl.so.2",
  "libdnnl.2.dylib",
];

const SYMBOLS = {
  dnnl_version: { parameters: [], result: "pointer" },
  dnnl_engine_create: { parameters: ["buffer", "i32", "usize"], result: "i32" },
  dnnl_stream_create: { parameters: ["buffer", "pointer", "u32"], result: "i32" },
  dnnl_memory_desc_init_by_tag: {
    parameters: ["buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  dnnl_memory_desc_equal: { parameters: ["pointer", "buffer"], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: ["pointer"], result: "usize" },
  dnnl_convolution_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "pointer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "pointer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_convolution_backward_data_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_convolution_backward_weights_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "pointer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_batch_normalization_forward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "f32", "u32"],
    result: "i32",
  },
  dnnl_batch_normalization_backward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "f32", "u32"],
    result: "i32",
  },
  dnnl_eltwise_forward_desc_init: {
    parameters: ["buffer", "i32", "i32", "buffer", "f32", "f32"],
    result: "i32",
  },
  dnnl_eltwise_backward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "f32", "f32"],
    result: "i32",
  },
  dnnl_pooling_v2_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_pooling_v2_backward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_primitive_desc_create: {
    parameters: ["buffer", "buffer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_primitive_attr_create: { parameters: ["buffer"], result: "i32" },
  dnnl_post_ops_create: { parameters: ["buffer"], result: "i32" },
  dnnl_post_ops_append_eltwise: {
    parameters: ["pointer", "f32", "i32", "f32", "f32"],
    result: "i32",
  },
  dnnl_post_ops_append_sum: { parameters: ["pointer", "f32"], result: "i32" },
  dnnl_post_ops_append_binary: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  dnnl_binary_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_primitive_attr_set_post_ops: { parameters: ["pointer", "pointer"], result: "i32" },
  dnnl_reorder_primitive_desc_create: {
    parameters: ["buffer", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_primitive_desc_query: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  dnnl_primitive_desc_query_md: { parameters: ["pointer", "i32", "i32"], result: "pointer" },
  dnnl_primitive_create: { parameters: ["buffer", "pointer"], result: "i32" },
  dnnl_memory_create: { parameters: ["buffer", "pointer", "pointer", "pointer"], result: "i32" },
  dnnl_memory_set_data_handle: { parameters: ["pointer", "pointer"], result: "i32" },
  dnnl_primitive_execute: { parameters: ["pointer", "pointer", "i32", "buffer"], result: "i32" },
  dnnl_stream_wait: { parameters: ["pointer"], result: "i32" },
  dnnl_sgemm: {
    parameters: [
      "u8",
      "u8",
      "i64",
      "i64",
      "i64",
      "f32",
      "buffer",
      "i64",
      "buffer",
      "i64",
      "f32",
      "buffer",
      "i64",
    ],
    result: "i32",
  },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
type Ptr = Deno.PointerValue;

let lib: Lib | undefined;

/** Allocates result arrays (the native backend plugs in its buffer pool). */
let allocate: (n: number) => Float32Array = (n) => new Float32Array(n);
/** Gives back an array from {@link allocate} that is no longer used. */
let release: (a: Float32Array) => void = () => {};

/** Sets the allocator used for every array this module returns, and its release function. */
export function setAllocator(
  alloc: (n: number) => Float32Array,
  free: (a: Float32Array) => void,
): void {
  allocate = alloc;
  release = free;
}

const scratch = new Map<string, Float32Array | Uint8Array>();

/** A reusable temporary buffer (never returned to callers). */
function temp<T extends Float32Array | Uint8Array>(key: string, make: () => T): T {
  let t = scratch.get(key) as T | undefined;
  if (!t) {
    t = make();
    scratch.set(key, t);
  }
  return t;
}
let engine: Ptr = null;
let stream: Ptr = null;
let libraryPath = "";

function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`oneDNN ${what} failed (status ${status})`);
}

function outPtr(): BigUint64Array {
  return new BigUint64Array(1);
}

function bytes(a: BigUint64Array | BigInt64Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function toPtr(b: BigUint64Array): Ptr {
  return Deno.UnsafePointer.create(b[0]);
}

/**
 * Keeps the library loaded until the process exits. Deno closes a `Deno.dlopen` handle when the
 * isolate that opened it ends (a worker, a `deno test` module); the last close would unload
 * oneDNN and its OpenMP runtime while OpenMP's worker threads still run in it, and the process
 * dies with SIGSEGV. A second reference opened through the C loader with `RTLD_NODELETE` makes
 * every later close harmless. Best effort: where libc's `dlopen` is not reachable (not glibc)
 * nothing changes.
 */
function pinLibrary(path: string): void {
  const RTLD_NOW = 2, RTLD_NODELETE = 0x1000;
  for (const libc of ["libc.so.6", "libdl.so.2"]) {
    try {
      const c = Deno.dlopen(libc, {
        dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
      });
      const handle = c.symbols.dlopen(
        new TextEncoder().encode(path + "\0"),
        RTLD_NOW | RTLD_NODELETE,
      );
      c.close();
      if (handle) return;
    } catch {
      // try the next name
    }
  }
}

/**
 * Opens the library and creates the CPU engine and stream. Returns a description; throws a
 * one-line error if the library is missing or FFI is not permitted.
 */
export function openDnnl(): string {
  if (lib) return libraryPath;
  const errors: string[] = [];
  for (const path of DNNL_LIBRARIES) {
    try {
      lib = Deno.dlopen(path, SYMBOLS).symbols;
      pinLibrary(path);
      libraryPath = path;
      break;
    } catch (e) {
      const msg = (e as Error).message;
      if (e instanceof Deno.errors.NotCapable || /Requires ffi access/i.test(msg)) {
        throw new Error("FFI is not permitted (run with --allow-ffi to use the native backend)");
      }
      errors.push(msg.split("\n")[0]);
    }
  }
  if (!lib) {
    throw new Error(`oneDNN (libdnnl.so.2) not found; on Debian/Ubuntu: apt-get install libdnnl2`);
  }
  const e = outPtr();
  check(lib.dnnl_engine_create(bytes(e), 1, 0n), "engine_create");
  engine = toPtr(e);
  const s = outPtr();
  check(lib.dnnl_stream_create(bytes(s), engine, 1), "stream_create");
  stream = toPtr(s);
  const v = new Deno.UnsafePointerView(lib.dnnl_version()!);
  libraryPath = `oneDNN ${v.getInt32(0)}.${v.getInt32(4)}.${v.getInt32(8)} (${libraryPath})`;
  return libraryPath;
}

function L(): Lib {
  if (!lib) openDnnl();
  return lib!;
}

function dims(a: number[]): Uint8Array {
  const d = new BigInt64Array(12);
  a.forEach((v, i) => (d[i] = BigInt(v)));
  return bytes(d);
}

/** A memory descriptor for logical `dims` (oneDNN order: N, C, H, W / O, I, H, W) with `tag`. */
function md(d: number[], tag: number): Uint8Array {
  const m = new Uint8Array(MD_SIZE);
  check(L().dnnl_memory_desc_init_by_tag(m, d.length, dims(d), F32, tag), "memory_desc_init");
  return m;
}

/** A primitive with the memory descriptors of its arguments. */
interface Prim {
  /** What the primitive does, for error messages. */
  what: string;
  prim: Ptr;
  pd: Ptr;
  impl: string;
  /** Memory objects by argument id, created once, pointed at new data on each call. */
  mems: Map<number, Ptr>;
  /** Byte size of each argument's memory. */
  sizes: Map<number, number>;
}

const cache = new Map<string, Prim>();

function queryMd(pd: Ptr, what: number): Ptr {
  return L().dnnl_primitive_desc_query_md(pd, what, 0);
}

function buildPrim(
  opDesc: Uint8Array,
  args: [number, number][],
  hint: Ptr = null,
  attr: Ptr = null,
): Prim {
  const lb = L();
  const p = outPtr();
  check(
    lb.dnnl_primitive_desc_create(bytes(p), opDesc, attr, engine, hint),
    "primitive_desc_create",
  );
  const pd = toPtr(p);
  return finishPrim(pd, args);
}

function finishPrim(pd: Ptr, args: [number, number][]): Prim {
  const lb = L();
  const info = outPtr();
  lb.dnnl_primitive_desc_query(pd, QUERY.impl, 0, bytes(info));
  const impl = info[0] ? Deno.UnsafePointerView.getCString(toPtr(info)!) : "?";
  const pr = outPtr();
  check(lb.dnnl_primitive_create(bytes(pr), pd), "primitive_create");
  const mems = new Map<number, Ptr>();
  const sizes = new Map<number, number>();
  for (const [arg, query] of args) {
    const m = queryMd(pd, query);
    const o = outPtr();
    check(lb.dnnl_memory_create(bytes(o), m, engine, null), "memory_create");
    mems.set(arg, toPtr(o));
    sizes.set(arg, Number(lb.dnnl_memory_desc_get_size(m)));
  }
  return { what: "", prim: toPtr(pr), pd, impl, mems, sizes };
}

function cached(key: string, make: () => Prim): Prim {
  let p = cache.get(key);
  if (!p) {
    p = make();
    p.what = key;
    cache.set(key, p);
  }
  return p;
}

/**
 * Pointer to a typed array's data. Arrays of 64 bytes or less may live inside V8's heap, where
 * the garbage collector can move them; they are copied to a buffer of their own first, and
 * copied back by the caller if written (see {@link run}).
 */
function dataPtr(a: Float32Array | Uint8Array): { ptr: Ptr; copy?: Float32Array | Uint8Array } {
  if (a.byteLength > 64) return { ptr: Deno.UnsafePointer.of(a) };
  const copy = a instanceof Float32Array
    ? new Float32Array(new ArrayBuffer(128), 0, a.length)
    : new Uint8Array(new ArrayBuffer(128), 0, a.length);
  copy.set(a as never);
  return { ptr: Deno.UnsafePointer.of(copy), copy };
}

/** Executes `p` with typed arrays bound to argument ids; waits for completion. */
function run(p: Prim, data: [number, Float32Array | Uint8Array][]): void {
  const lb = L();
  const args = new BigUint64Array(data.length * 2);
  const copies: [Float32Array | Uint8Array, Float32Array | Uint8Array][] = [];
  data.forEach(([arg, arr], i) => {
    const mem = p.mems.get(arg);
    if (!mem) throw new Error(`oneDNN: argument ${arg} not bound`);
    const need = p.sizes.get(arg)!;
    if (arr.byteLength < need) {
      throw new Error(`oneDNN: argument ${arg} has ${arr.byteLength} bytes, needs ${need}`);
    }
    const { ptr, copy } = dataPtr(arr);
    if (copy) copies.push([arr, copy]);
    check(lb.dnnl_memory_set_data_handle(mem, ptr), "memory_set_data_handle");
    args[2 * i] = BigInt(arg);
    args[2 * i + 1] = BigInt(Deno.UnsafePointer.value(mem));
  });
  check(lb.dnnl_primitive_execute(p.prim, stream, data.length, bytes(args)), `execute ${p.what}`);
  check(lb.dnnl_stream_wait(stream), "stream_wait");
  for (const [orig, copy] of copies) orig.set(copy as never);
}

/** Reorders between a plain tag and the format a primitive chose for an argument. */
function reorder(
  key: string,
  plainDims: number[],
  plainTag: number,
  other: Ptr,
  toOther: boolean,
): Prim {
  return cached(key, () => {
    const lb = L();
    const plain = md(plainDims, plainTag);
    const plainPtr = Deno.UnsafePointer.of(plain);
    const p = outPtr();
    const [src, dst] = toOther ? [plainPtr, other] : [other, plainPtr];
    check(
      lb.dnnl_reorder_primitive_desc_create(bytes(p), src, engine, dst, engine, null),
      "reorder_desc",
    );
    const r = finishPrim(toPtr(p), [[ARG.src, QUERY.src], [ARG.dst, QUERY.dst]]);
    (r as Prim & { keep?: unknown }).keep = plain; // the descriptor must outlive the primitive
    return r;
  });
}

/** True if the primitive's chosen format for `query` equals the plain `tag`. */
function isPlain(pd: Ptr, query: number, d: number[], tag: number): boolean {
  return L().dnnl_memory_desc_equal(queryMd(pd, query), md(d, tag)) === 1;
}

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

function geomKey(g: ConvGeometry): string {
  return Object.values(g).join(",");
}

function convDescs(g: ConvGeometry) {
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
function convForwardDesc(g: ConvGeometry, prop: number, bias: Uint8Array | null): Uint8Array {
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

function convForwardPd(g: ConvGeometry, prop: number): Prim {
  return cached(`convfwd:${prop}:${geomKey(g)}`, () => {
    const op = convForwardDesc(g, prop, null);
    return buildPrim(op, [[ARG.src, QUERY.src], [ARG.weights, QUERY.weights], [
      ARG.dst,
      QUERY.dst,
    ]]);
  });
}

const wDims = (g: ConvGeometry) => [g.co, g.ci, g.kh, g.kw];

/** Weights in the primitive's format, from tfjs HWIO. */
function weightsFor(
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

const plainMemo = new Map<string, boolean>();
function isPlainCached(p: Prim, query: number, g: ConvGeometry): boolean {
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
  const hint = convForwardPd(g, PROP.training);
  const p = cached(`convbwd-data:${key}`, () => {
    const d = convDescs(g);
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_convolution_backward_data_desc_init(
        op,
        ALG.convDirect,
        d.src,
        d.wAny,
        d.dst,
        d.strides,
        d.padL,
        d.padR,
      ),
      "convolution_backward_data_desc_init",
    );
    if (g.dh !== 1 || g.dw !== 1) {
      throw new Error("dilated backward data is not supported natively");
    }
    return buildPrim(op, [[ARG.diffDst, QUERY.diffDst], [ARG.weights, QUERY.weights], [
      ARG.diffSrc,
      QUERY.diffSrc,
    ]], hint.pd);
  });
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
  const hint = convForwardPd(g, PROP.training);
  const p = cached(`convbwd-w:${key}`, () => {
    const d = convDescs(g);
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
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
      "convolution_backward_weights_desc_init",
    );
    if (g.dh !== 1 || g.dw !== 1) {
      throw new Error("dilated backward weights is not supported natively");
    }
    return buildPrim(op, [[ARG.src, QUERY.src], [ARG.diffDst, QUERY.diffDst], [
      ARG.diffWeights,
      QUERY.diffWeights,
    ]], hint.pd);
  });
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

/**
 * Batch norm forward over NHWC: with batch statistics (training), or with given ones
 * (`globalStats`: inference, as {@link batchNormApply} recomputes a block's output).
 */
function bnForwardPrim(
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
function bindVectors(p: Prim, c: number, args: number[]): void {
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

function poolPrim(g: PoolGeometry, prop: number): Prim {
  return cached(`poolfwd:${prop}:${Object.values(g)}`, () => {
    const op = new Uint8Array(OP_DESC_SIZE);
    check(
      L().dnnl_pooling_v2_forward_desc_init(
        op,
        prop,
        ALG.poolMax,
        md([g.n, g.c, g.h, g.w], TAG.nhwc),
        md([g.n, g.c, g.oh, g.ow], TAG.nhwc),
        dims([g.sh, g.sw]),
        dims([g.kh, g.kw]),
        dims([0, 0]),
        dims([g.padTop, g.padLeft]),
        dims([g.padBottom, g.padRight]),
      ),
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
      L().dnnl_pooling_v2_backward_desc_init(
        op,
        ALG.poolMax,
        md([g.n, g.c, g.h, g.w], TAG.nhwc),
        md([g.n, g.c, g.oh, g.ow], TAG.nhwc),
        dims([g.sh, g.sw]),
        dims([g.kh, g.kw]),
        dims([0, 0]),
        dims([g.padTop, g.padLeft]),
        dims([g.padBottom, g.padRight]),
      ),
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

/**
 * Row-major GEMM: C = op(A)·op(B) (+ C when `accumulate`), op = transpose when asked.
 * A is m×k (k×m if transA), B is k×n (n×k if transB), C is m×n.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  accumulate = false,
): void {
  const T = 84, N = 78; // 'T', 'N'
  const lda = transA ? m : k, ldb = transB ? k : n;
  const pa = dataPtr(a), pb = dataPtr(b), pc = dataPtr(c);
  check(
    L().dnnl_sgemm(
      transA ? T : N,
      transB ? T : N,
      BigInt(m),
      BigInt(n),
      BigInt(k),
      1,
      (pa.copy ?? a) as Float32Array,
      BigInt(lda),
      (pb.copy ?? b) as Float32Array,
      BigInt(ldb),
      accumulate ? 1 : 0,
      (pc.copy ?? c) as Float32Array,
      BigInt(n),
    ),
    "sgemm",
  );
  if (pc.copy) c.set(pc.copy as Float32Array);
}

/** Primitive attributes with a ReLU applied to the output (created once). */
/** A post-op: add the destination's old value times a scale, an element-wise function, or
 * multiply by a one-element operand (bound as {@link ARG_POST_OP0_SRC1}; first post-op only). */
type PostOp = ["sum", number] | ["relu"] | ["sqrt"] | ["linear", number, number] | ["mulScalar"];

const attrCache = new Map<string, Ptr>();

/** A primitive attribute with these post-ops, built once (null for none). */
function attrWith(post: PostOp[]): Ptr {
  if (!post.length) return null;
  const key = JSON.stringify(post);
  let attr = attrCache.get(key);
  if (attr) return attr;
  const lb = L();
  const a = outPtr(), o = outPtr();
  check(lb.dnnl_primitive_attr_create(bytes(a)), "primitive_attr_create");
  check(lb.dnnl_post_ops_create(bytes(o)), "post_ops_create");
  const eltwise = (alg: number, alpha = 0, beta = 0) =>
    check(lb.dnnl_post_ops_append_eltwise(toPtr(o), 1, alg, alpha, beta), "append_eltwise");
  for (const op of post) {
    if (op[0] === "sum") check(lb.dnnl_post_ops_append_sum(toPtr(o), op[1]), "append_sum");
    else if (op[0] === "relu") eltwise(ALG.relu);
    else if (op[0] === "sqrt") eltwise(ALG.sqrt);
    else if (op[0] === "linear") eltwise(ALG.linear, op[1], op[2]);
    else check(lb.dnnl_post_ops_append_binary(toPtr(o), ALG.mul, md([1], TAG.a)), "append_binary");
  }
  check(lb.dnnl_primitive_attr_set_post_ops(toPtr(a), toPtr(o)), "primitive_attr_set_post_ops");
  attr = toPtr(a);
  attrCache.set(key, attr);
  return attr;
}

/** Batch-norm statistics and parameters (inference: running statistics). */
export interface BnParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  eps: number;
}

/** A convolution with bias and post-ops (sum into the destination, ReLU), built once per shape. */
function biasConv(g: ConvGeometry, sum: boolean, withRelu: boolean): Prim {
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
function filterPart(
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
function convConcat(
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

/** ReLU applied in place (oneDNN eltwise with src = dst). */
function reluInPlace(x: Float32Array): void {
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

/** Names of the implementations oneDNN chose so far (for benchmarks and `--verbose`). */
export function implementations(): Map<string, string> {
  return new Map([...cache].map(([k, p]) => [k.split(":")[0], p.impl]));
}

// ---- optimiser updates ------------------------------------------------------------------
// Each update is a few oneDNN binary primitives over the flat arrays, vectorised and run on
// every OpenMP thread: a JavaScript loop computes Adam's square root and division one element
// at a time on one core (about 4 ns an element, 140 ms a step for the flow's 32 M weights).
// Values that change between steps (learning rate, bias corrections) are one-element operands,
// so the primitives are built once per array length.

/** dst ← post-ops(src0 alg src1) over `n` floats; src1 has `n` floats or one (broadcast). */
function flatBinary(alg: number, n: number, n1: number, post: PostOp[]): Prim {
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
function scalar(slot: string, v: number): Float32Array {
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
