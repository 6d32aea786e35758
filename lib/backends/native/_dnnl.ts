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
export const F32 = 3;
export const TAG = { any: 1, a: 2, ab: 3, nhwc: 20, hwio: 30 } as const;
export const PROP = {
  training: 64,
  inference: 96,
  backward: 128,
  backwardData: 160,
  backwardWeights: 192,
} as const;
export const ALG = {
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
export const ARG_POST_OP0_SRC1 = 16384 | 2;
export const BN_FLAGS = { globalStats: 1, scale: 8, shift: 16 } as const;
export const QUERY = {
  src: 129,
  diffSrc: 130,
  weights: 131,
  diffWeights: 132,
  dst: 133,
  diffDst: 134,
  workspace: 135,
  impl: 8,
};
export const ARG = {
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
export const MD_SIZE = 696; // sizeof(dnnl_memory_desc_t)
export const OP_DESC_SIZE = 8192; // larger than every op descriptor (convolution: 5976)

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

// the C signatures: B buffer, P pointer, I i32, U32 u32, USIZE usize, F f32, I64 i64
const B = "buffer", P = "pointer", I = "i32", U32 = "u32", USIZE = "usize", F = "f32", I64 = "i64";

export const SYMBOLS = {
  dnnl_version: { parameters: [], result: "pointer" },
  dnnl_engine_create: { parameters: [B, I, USIZE], result: "i32" },
  dnnl_stream_create: { parameters: [B, P, U32], result: "i32" },
  dnnl_memory_desc_init_by_tag: {
    parameters: [B, I, B, I, I],
    result: "i32",
  },
  dnnl_memory_desc_equal: { parameters: [P, B], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: [P], result: "usize" },
  dnnl_convolution_forward_desc_init: {
    parameters: [B, I, I, B, B, P, B, B, B, B],
    result: "i32",
  },
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: [B, I, I, B, B, P, B, B, B, B, B],
    result: "i32",
  },
  dnnl_convolution_backward_data_desc_init: {
    parameters: [B, I, B, B, B, B, B, B],
    result: "i32",
  },
  dnnl_convolution_backward_weights_desc_init: {
    parameters: [B, I, B, B, P, B, B, B, B],
    result: "i32",
  },
  dnnl_batch_normalization_forward_desc_init: {
    parameters: [B, I, B, F, U32],
    result: "i32",
  },
  dnnl_batch_normalization_backward_desc_init: {
    parameters: [B, I, B, B, F, U32],
    result: "i32",
  },
  dnnl_eltwise_forward_desc_init: {
    parameters: [B, I, I, B, F, F],
    result: "i32",
  },
  dnnl_eltwise_backward_desc_init: {
    parameters: [B, I, B, B, F, F],
    result: "i32",
  },
  dnnl_pooling_v2_forward_desc_init: {
    parameters: [B, I, I, B, B, B, B, B, B, B],
    result: "i32",
  },
  dnnl_pooling_v2_backward_desc_init: {
    parameters: [B, I, B, B, B, B, B, B, B],
    result: "i32",
  },
  dnnl_primitive_desc_create: {
    parameters: [B, B, P, P, P],
    result: "i32",
  },
  dnnl_primitive_attr_create: { parameters: [B], result: "i32" },
  dnnl_post_ops_create: { parameters: [B], result: "i32" },
  dnnl_post_ops_append_eltwise: {
    parameters: [P, F, I, F, F],
    result: "i32",
  },
  dnnl_post_ops_append_sum: { parameters: [P, F], result: "i32" },
  dnnl_post_ops_append_binary: { parameters: [P, I, B], result: "i32" },
  dnnl_binary_desc_init: {
    parameters: [B, I, B, B, B],
    result: "i32",
  },
  dnnl_primitive_attr_set_post_ops: { parameters: [P, P], result: "i32" },
  dnnl_reorder_primitive_desc_create: {
    parameters: [B, P, P, P, P, P],
    result: "i32",
  },
  dnnl_primitive_desc_query: { parameters: [P, I, I, B], result: "i32" },
  dnnl_primitive_desc_query_md: { parameters: [P, I, I], result: "pointer" },
  dnnl_primitive_create: { parameters: [B, P], result: "i32" },
  dnnl_memory_create: { parameters: [B, P, P, P], result: "i32" },
  dnnl_memory_set_data_handle: { parameters: [P, P], result: "i32" },
  dnnl_primitive_execute: { parameters: [P, P, I, B], result: "i32" },
  dnnl_stream_wait: { parameters: [P], result: "i32" },
  dnnl_sgemm: {
    parameters: ["u8", "u8", I64, I64, I64, F, B, I64, B, I64, F, B, I64],
    result: "i32",
  },
} as const;

export type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
export type Ptr = Deno.PointerValue;

export let lib: Lib | undefined;

/** Allocates result arrays (the native backend plugs in its buffer pool). */
export let allocate: (n: number) => Float32Array = (n) => new Float32Array(n);
/** Gives back an array from {@link allocate} that is no longer used. */
export let release: (a: Float32Array) => void = () => {};

/** Sets the allocator used for every array this module returns, and its release function. */
export function setAllocator(
  alloc: (n: number) => Float32Array,
  free: (a: Float32Array) => void,
): void {
  allocate = alloc;
  release = free;
}

export const scratch = new Map<string, Float32Array | Uint8Array>();

/** A reusable temporary buffer (never returned to callers). */
export function temp<T extends Float32Array | Uint8Array>(key: string, make: () => T): T {
  let t = scratch.get(key) as T | undefined;
  if (!t) {
    t = make();
    scratch.set(key, t);
  }
  return t;
}
export let engine: Ptr = null;
export let stream: Ptr = null;
export let libraryPath = "";

export function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`oneDNN ${what} failed (status ${status})`);
}

export function outPtr(): BigUint64Array {
  return new BigUint64Array(1);
}

export function bytes(a: BigUint64Array | BigInt64Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function toPtr(b: BigUint64Array): Ptr {
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
export function pinLibrary(path: string): void {
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

export function L(): Lib {
  if (!lib) openDnnl();
  return lib!;
}

export function dims(a: number[]): Uint8Array {
  const d = new BigInt64Array(12);
  a.forEach((v, i) => (d[i] = BigInt(v)));
  return bytes(d);
}

/** A memory descriptor for logical `dims` (oneDNN order: N, C, H, W / O, I, H, W) with `tag`. */
export function md(d: number[], tag: number): Uint8Array {
  const m = new Uint8Array(MD_SIZE);
  check(L().dnnl_memory_desc_init_by_tag(m, d.length, dims(d), F32, tag), "memory_desc_init");
  return m;
}

/** A primitive with the memory descriptors of its arguments. */
export interface Prim {
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

export const cache = new Map<string, Prim>();

export function queryMd(pd: Ptr, what: number): Ptr {
  return L().dnnl_primitive_desc_query_md(pd, what, 0);
}

export function buildPrim(
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

export function finishPrim(pd: Ptr, args: [number, number][]): Prim {
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

export function cached(key: string, make: () => Prim): Prim {
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
export function dataPtr(
  a: Float32Array | Uint8Array,
): { ptr: Ptr; copy?: Float32Array | Uint8Array } {
  if (a.byteLength > 64) return { ptr: Deno.UnsafePointer.of(a) };
  const copy = a instanceof Float32Array
    ? new Float32Array(new ArrayBuffer(128), 0, a.length)
    : new Uint8Array(new ArrayBuffer(128), 0, a.length);
  copy.set(a as never);
  return { ptr: Deno.UnsafePointer.of(copy), copy };
}

/** Executes `p` with typed arrays bound to argument ids; waits for completion. */
export function run(p: Prim, data: [number, Float32Array | Uint8Array][]): void {
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
export function reorder(
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
export function isPlain(pd: Ptr, query: number, d: number[], tag: number): boolean {
  return L().dnnl_memory_desc_equal(queryMd(pd, query), md(d, tag)) === 1;
}

/** A post-op: add the destination's old value times a scale, an element-wise function, or
 * multiply by a one-element operand (bound as {@link ARG_POST_OP0_SRC1}; first post-op only). */
export type PostOp = ["sum", number] | ["relu"] | ["sqrt"] | ["linear", number, number] | [
  "mulScalar",
];

export const attrCache = new Map<string, Ptr>();

/** A primitive attribute with these post-ops, built once (null for none). */
export function attrWith(post: PostOp[]): Ptr {
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

/** Names of the implementations oneDNN chose so far (for benchmarks and `--verbose`). */
export function implementations(): Map<string, string> {
  return new Map([...cache].map(([k, p]) => [k.split(":")[0], p.impl]));
}
