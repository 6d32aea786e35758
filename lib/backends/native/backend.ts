/**
 * The `native` tfjs backend: tfjs's own CPU backend (same tensor storage, same kernels for
 * everything small) with the hot kernels replaced by oneDNN calls through FFI:
 *
 * | tfjs kernel                         | native implementation                     |
 * |-------------------------------------|-------------------------------------------|
 * | Conv2D, Conv2DBackpropInput/Filter  | oneDNN convolution fwd / bwd-data / bwd-w  |
 * | BatchMatMul, _FusedMatMul           | oneDNN sgemm (+ bias and ReLU in one pass)|
 * | Relu                                | oneDNN eltwise                            |
 * | MaxPool, MaxPoolGrad                | oneDNN pooling (forward recomputed in bwd)|
 * | CgvsniBatchNormTrain (+ Grad)       | oneDNN batch normalisation                |
 * | CgvsniReluGrad                      | oneDNN eltwise backward                   |
 * | Concat, SplitV, Slice, PadV2, Add,  | plain loops over contiguous runs          |
 * | Sub, Multiply, RealDiv, Step, Sum   | (elementwise.ts), bit-identical to tfjs's |
 * | CgvsniSgdStep, CgvsniAdamStep       | oneDNN binary ops + post-ops, in place     |
 * | CgvsniConvBn (+ Grad)               | conv + BN + ReLU in one kernel: no tfjs    |
 * |                                     | tensors for the intermediates              |
 *
 * Model code stays plain tfjs: it runs unchanged (and is tested equal within float tolerance)
 * on the `cpu`, `wasm` and `webgpu` backends.
 *
 * @module
 */

import { tf, tfjsBackends } from "../../core/deps.ts";
import * as dnnl from "./dnnl.ts";
import { chooseThreads, preferPassiveWaiting, setOmpThreads } from "./threads.ts";
import * as ew from "./elementwise.ts";
import {
  ADAM_STEP,
  BN_APPLY,
  BN_TRAIN,
  BN_TRAIN_GRAD,
  CONV_BN,
  CONV_BN_GRAD,
  CONV_BN_INFER,
  COPY,
  RELU_GRAD,
  SGD_STEP,
} from "../names.ts";

const { MathBackendCPU } = await tfjsBackends.cpu();

type Info = { dataId: object; shape: number[]; dtype: string };
type Cpu = {
  readSync(id: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): Info;
};
type Attrs = Record<string, unknown>;

/** What {@link registerNativeBackend} set up: the library's description and the OpenMP threads. */
export interface NativeSetup {
  /** The library, its thread count and why (for logs). */
  detail: string;
  /** The OpenMP threads it computes with. */
  threads: number;
}

/** Set once the backend is registered. */
let registered: NativeSetup | undefined;

/** Arrays of at least this many floats (1 MiB) are recycled. */
const POOL_MIN = 1 << 18;
/** Most bytes kept in the pool: a quarter of the machine's memory, at most 16 GiB. */
const POOL_MAX_BYTES = (() => {
  try {
    const mb = Number(Deno.env.get("CGVSNI_POOL_MB"));
    if (Number.isFinite(mb) && mb >= 0 && Deno.env.get("CGVSNI_POOL_MB")) return mb * 1024 ** 2;
  } catch { /* no env permission: the default */ }
  try {
    return Math.min(16 * 1024 ** 3, Deno.systemMemoryInfo().total / 4);
  } catch {
    return 2 * 1024 ** 3; // no --allow-sys: a safe default
  }
})();

/**
 * tfjs's CPU backend plus a pool of large output buffers. Page faults on freshly allocated
 * memory cost about as much as the arithmetic on it (a 200 MB activation takes ~0.4 s to fault
 * in on a VM), and tfjs leaves freed tensor memory to the garbage collector, which returns it
 * late: without care a training step both faults in all its memory and holds twice what it
 * uses. So buffers our kernels allocate go back to the pool when their tensor is disposed, and
 * buffers the pool does not keep are freed at once (`ArrayBuffer.transfer(0)`). After each
 * training step ({@link NativeBackend.endStep}) the pool is trimmed to what the step held at its
 * peak, so the next forward pass runs without page faults and nothing idles in the
 * pool at the memory peak. Reads from outside get a copy, so a recycled buffer can never change
 * data someone holds.
 */
class NativeBackend extends MathBackendCPU {
  /** Free buffers, any size; a request takes the smallest that fits within 25 % of its size. */
  #pool: ArrayBuffer[] = [];
  #pooledBytes = 0;
  #ours = new WeakSet<ArrayBuffer>();
  /** The array {@link alloc} last handed out over each pooled buffer. */
  #handed = new WeakMap<ArrayBuffer, Float32Array>();
  /** Handed-out arrays that a tensor holds now. */
  #held = new WeakSet<Float32Array>();
  #live = 0;
  /** Live bytes when this step began (weights, optimiser state), and the most above it so far. */
  #stepBase = 0;
  #stepPeak = 0;
  #lastPeak = 0;
  /** Most bytes live at once in the previous step: live + pooled stays within it (0: none yet). */
  #footprint = 0;
  /** Most bytes of large buffers in use at once (diagnostics for memory benchmarks). */
  peakLiveBytes = 0;

  constructor() {
    super();
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** An output buffer of `n` floats (contents undefined: the kernel must write all of it). */
  alloc(n: number): Float32Array {
    if (n < POOL_MIN) return new Float32Array(n);
    const bytes = n * 4;
    let best = -1;
    for (let i = 0; i < this.#pool.length; i++) {
      const len = this.#pool[i].byteLength;
      if (len >= bytes && len <= bytes * 1.25 && (best < 0 || len < this.#pool[best].byteLength)) {
        best = i;
      }
    }
    let buf: ArrayBuffer;
    if (best >= 0) {
      buf = this.#pool[best];
      this.#pool.splice(best, 1);
      this.#pooledBytes -= buf.byteLength;
    } else {
      // A miss: free pooled buffers (largest first) until live + pooled + this request fit in
      // the most live at once so far (the previous step's peak, or this step's in the first),
      // so that idle pool memory never adds to the peak.
      const budget = Math.max(this.#footprint, this.#stepBase + this.#stepPeak);
      if (this.#pooledBytes > 0) {
        this.#pool.sort((x, y) => x.byteLength - y.byteLength);
        while (this.#pool.length && this.#live + this.#pooledBytes + bytes > budget) {
          const old = this.#pool.pop()!;
          this.#pooledBytes -= old.byteLength;
          this.#free(old);
        }
      }
      buf = new ArrayBuffer(bytes);
      this.#ours.add(buf);
    }
    this.#live += buf.byteLength;
    this.peakLiveBytes = Math.max(this.peakLiveBytes, this.#live);
    this.#stepPeak = Math.max(this.#stepPeak, this.#live - this.#stepBase);
    const out = new Float32Array(buf, 0, n);
    this.#handed.set(buf, out);
    return out;
  }

  /** Bytes held in the pool (free buffers kept for reuse). */
  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** Returns a buffer from {@link alloc} that no tensor holds: pooled, or freed now. */
  release(a: Float32Array): void {
    const buf = a.buffer as ArrayBuffer;
    if (!this.#ours.has(buf) || buf.byteLength === 0 || this.#handed.get(buf) !== a) return;
    this.#handed.delete(buf);
    this.#held.delete(a);
    this.#live -= buf.byteLength;
    // keep about what a step holds at its peak (the end of the forward pass): the next step asks
    // for that much again, and more would only sit idle at the peak
    const cap = Math.min(POOL_MAX_BYTES, 1.1 * Math.max(this.#stepPeak, this.#lastPeak));
    if (this.#pooledBytes + buf.byteLength > cap) {
      this.#free(buf);
      return;
    }
    this.#pool.push(buf);
    this.#pooledBytes += buf.byteLength;
  }

  #free(buf: ArrayBuffer): void {
    this.#ours.delete(buf);
    buf.transfer(0); // detach: the memory goes back to the system now, not at the next GC
  }

  /**
   * Marks the end of a training step: keeps in the pool only about what this step held at its
   * peak (what the next one will ask for) and frees the rest.
   */
  endStep(): void {
    const keep = Math.min(POOL_MAX_BYTES, this.#stepPeak * 1.1);
    this.#lastPeak = this.#stepPeak;
    this.#footprint = this.#stepBase + this.#stepPeak;
    this.#pool.sort((x, y) => x.byteLength - y.byteLength);
    while (this.#pool.length && this.#pooledBytes > keep) {
      const buf = this.#pool.pop()!;
      this.#pooledBytes -= buf.byteLength;
      this.#free(buf);
    }
    this.#stepPeak = 0;
    this.#stepBase = this.#live;
  }

  /**
   * Stores a kernel's output. A pooled array goes in as it is once; a view into a pooled buffer
   * (tfjs's `slice`/`unstack` return `subarray`s of their input) or a second tensor over the same
   * array is copied first, since the buffer is recycled when its own tensor is disposed.
   */
  override write(values: unknown, shape: number[], dtype: string): never {
    if (values instanceof Float32Array && this.#ours.has(values.buffer as ArrayBuffer)) {
      if (this.#handed.get(values.buffer as ArrayBuffer) !== values || this.#held.has(values)) {
        values = values.slice();
      } else this.#held.add(values);
    }
    return super.write(values as never, shape, dtype as never) as never;
  }

  override disposeData(dataId: object, force = false): boolean {
    const d = (this as unknown as {
      data: { get(id: object): { values: unknown; refCount: number } | undefined };
    }).data
      .get(dataId);
    const last = d !== undefined && (force || d.refCount <= 1);
    const values = d?.values;
    const r = super.disposeData(dataId as never, force);
    if (last && values instanceof Float32Array) this.release(values);
    return r;
  }

  override readSync(dataId: object): never {
    const v = super.readSync(dataId as never) as unknown;
    return (v instanceof Float32Array && this.#ours.has(v.buffer as ArrayBuffer)
      ? v.slice()
      : v) as never;
  }

  /**
   * The stored array of a tensor, for a kernel to overwrite in place, or `undefined` when that
   * would be visible elsewhere (another tensor shares the data). An array that came from outside
   * (e.g. the caller's array given to `tf.tensor`) is first copied, so the caller's memory is
   * never written.
   */
  writable(t: Info): Float32Array | undefined {
    const d =
      (this as unknown as { data: { get(id: object): { values: unknown; refCount: number } } }).data
        .get(t.dataId);
    if (d.refCount !== 1 || !(d.values instanceof Float32Array)) return undefined;
    if (this.#handed.get(d.values.buffer as ArrayBuffer) !== d.values) {
      const copy = this.alloc(d.values.length); // pooled when large, so later steps write in place
      copy.set(d.values);
      if (this.#handed.get(copy.buffer as ArrayBuffer) === copy) this.#held.add(copy);
      d.values = copy;
    }
    return d.values as Float32Array;
  }

  /** The stored array of a float32 tensor, without copying, or null when tfjs keeps another kind. */
  stored(t: Info): Float32Array | null {
    if (t.dtype !== "float32") return null;
    const v =
      (this as unknown as { data: { get(id: object): { values: unknown } } }).data.get(t.dataId)
        .values;
    return v instanceof Float32Array ? v : null;
  }

  /** The stored array of a tensor, without copying (for kernels only). */
  values(t: Info): Float32Array {
    const v = this.stored(t);
    if (!v) throw new Error(`native kernels need float32 tensors, got ${t.dtype}`);
    return v;
  }
}

/** The output of an optimiser kernel: the input itself when updated in place, else a new tensor. */
function sameOrNew(
  b: Cpu,
  input: Info,
  wrote: Float32Array | undefined,
  values: Float32Array,
): Info {
  if (!wrote) return b.makeTensorInfo(input.shape, "float32", values);
  (b as unknown as { incRef(id: object): void }).incRef(input.dataId);
  return { dataId: input.dataId, shape: input.shape, dtype: "float32" };
}

function f32(b: Cpu, t: Info): Float32Array {
  return (b as unknown as NativeBackend).values(t);
}

/** A float32 tensor's array when it is stored as one (tfjs sometimes keeps other arrays). */
function stored(b: Cpu, t: Info): Float32Array | null {
  return (b as unknown as NativeBackend).stored(t);
}

function alloc(b: Cpu, n: number): Float32Array {
  return (b as unknown as NativeBackend).alloc(n);
}

function cpuKernel(name: string) {
  const k = tf.getKernel(name, "cpu");
  if (!k) throw new Error(`tfjs cpu kernel ${name} missing`);
  return k.kernelFunc;
}

function convGeometry(
  info: ReturnType<typeof tf.backend_util.computeConv2DInfo>,
): dnnl.ConvGeometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    oh: info.outHeight,
    ow: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    padBottom: info.padInfo.bottom,
    padRight: info.padInfo.right,
  };
}

type Kernel = (inputs: Record<string, Info>, attrs: Attrs, b: Cpu) => Info | Info[];

/** Registers a kernel for `native` (replacing any registered under that name). */
function register(name: string, f: Kernel) {
  if (tf.getKernel(name, "native")) tf.unregisterKernel(name, "native");
  tf.registerKernel({
    kernelName: name,
    backendName: "native",
    kernelFunc: ({ inputs, attrs, backend }) =>
      f(
        inputs as unknown as Record<string, Info>,
        attrs as Attrs,
        backend as unknown as Cpu,
      ) as never,
  });
}

/** How many times each replaced kernel fell back to tfjs's cpu kernel, since the process began. */
const fallbacks = new Map<string, number>();

/**
 * How many times each kernel the native backend replaces handed its arguments back to tfjs's
 * JavaScript kernel (a layout, dtype or option it does not run), by kernel name.
 *
 * @example After a convolution with an activation oneDNN's override does not take
 * ```ts ignore
 * console.log(nativeFallbacks()); // { FusedConv2D: 1 }
 * ```
 */
export function nativeFallbacks(): Record<string, number> {
  return Object.fromEntries(fallbacks);
}

/** Replaces a tfjs kernel for `native`, falling back to the cpu one when `fast` returns null. */
function override(name: string, fast: (...a: Parameters<Kernel>) => ReturnType<Kernel> | null) {
  const slow = tf.getKernel(name, "cpu") ? cpuKernel(name) : null;
  register(name, (inputs, attrs, backend) => {
    const out = fast(inputs, attrs, backend);
    if (out) return out;
    fallbacks.set(name, (fallbacks.get(name) ?? 0) + 1);
    if (!slow) throw new Error(`${name}: no native implementation for these arguments`);
    return slow({ inputs, attrs, backend } as never) as Info | Info[];
  });
}

/**
 * Opens oneDNN and registers the `native` backend (idempotent). Returns a description of the
 * library and the thread count; throws a one-line reason when it cannot (library missing, no
 * `--allow-ffi`).
 */
export function registerNativeBackend(requestedThreads?: number): NativeSetup {
  if (registered) return registered;
  const passive = preferPassiveWaiting();
  const library = dnnl.openDnnl();
  const { threads, why } = chooseThreads(requestedThreads);
  let used = threads;
  try {
    used = setOmpThreads(threads);
  } catch { /* not a GNU OpenMP build: the runtime's own default stands */ }
  const detail = `${library}, ${used} thread(s) (${why})${passive ? ", passive waiting" : ""}`;
  tf.registerBackend("native", () => {
    const b = new NativeBackend();
    dnnl.setAllocator((n) => b.alloc(n), (a) => b.release(a));
    return b;
  }, 0);
  for (const k of tf.getKernelsForBackend("cpu")) {
    tf.registerKernel({ ...k, backendName: "native" });
  }

  // a forward convolution's shapes, from its input, its filter and tfjs's attributes
  const conv2DInfo = (x: Info, filter: Info, a: Attrs) =>
    tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides as [number, number],
      (a.dilations ?? 1) as [number, number],
      a.pad as "valid",
      a.dimRoundingMode as "floor",
    );

  override("Conv2D", ({ x, filter }, a, b) => {
    if (a.dataFormat === "NCHW") return null;
    const info = conv2DInfo(x, filter, a);
    const y = dnnl.convForward(convGeometry(info), f32(b, x), f32(b, filter));
    return b.makeTensorInfo(info.outShape, "float32", y);
  });

  // a convolution with its bias and activation (tfjs-layers' Conv2D with a bias, as in
  // MobileNetV2): the convolution by oneDNN, then the bias and the activation per element
  override("FusedConv2D", ({ x, filter, bias, preluActivationWeights }, a, b) => {
    const act = a.activation as string | undefined;
    if (
      a.dataFormat === "NCHW" || preluActivationWeights || x.dtype !== "float32" ||
      (act && act !== "linear" && act !== "relu" && act !== "relu6")
    ) return null;
    const info = conv2DInfo(x, filter, a);
    // a bias per output channel (or one value): any other broadcast goes to the cpu kernel
    const co = info.outChannels, bv = bias ? f32(b, bias) : undefined;
    if (
      bias && !((bv!.length === co || bv!.length === 1) &&
        bias.shape.slice(0, -1).every((d) => d === 1))
    ) return null;
    const y = dnnl.convForward(convGeometry(info), f32(b, x), f32(b, filter));
    if (bv || (act && act !== "linear")) {
      const hi = act === "relu6" ? 6 : Infinity,
        lo = act === "relu" || act === "relu6" ? 0 : -Infinity;
      // channels last: element i is of channel i % co; each sum rounded to float32 as tfjs's is
      for (let i = 0, c = 0; i < y.length; i++) {
        const v = bv ? Math.fround(y[i] + bv[bv.length === 1 ? 0 : c]) : y[i];
        y[i] = v < lo ? lo : v > hi ? hi : v;
        if (++c === co) c = 0;
      }
    }
    return b.makeTensorInfo(info.outShape, "float32", y);
  });

  // the geometry of a convolution's gradient, from the input and filter shapes it had
  const gradGeometry = (input: number[], filter: number[], a: Record<string, unknown>) =>
    convGeometry(tf.backend_util.computeConv2DInfo(
      input as [number, number, number, number],
      filter as [number, number, number, number],
      a.strides as [number, number],
      1,
      a.pad as "valid",
      a.dimRoundingMode as "floor",
    ));

  override("Conv2DBackpropInput", ({ dy, filter }, a, b) => {
    if (a.dataFormat === "NCHW") return null;
    const g = gradGeometry(a.inputShape as number[], filter.shape, a);
    const dx = dnnl.convBackwardData(g, f32(b, dy), f32(b, filter));
    return b.makeTensorInfo(a.inputShape as number[], "float32", dx);
  });

  override("Conv2DBackpropFilter", ({ x, dy }, a, b) => {
    if (a.dataFormat === "NCHW") return null;
    const g = gradGeometry(x.shape, a.filterShape as number[], a);
    const dw = dnnl.convBackwardWeights(g, f32(b, x), f32(b, dy));
    return b.makeTensorInfo(a.filterShape as number[], "float32", dw);
  });

  override("BatchMatMul", ({ a: A, b: B }, at, b) => {
    if (
      A.dtype !== "float32" || B.dtype !== "float32" || A.shape.length < 2 || B.shape.length < 2
    ) return null;
    const ta = !!at.transposeA, tb = !!at.transposeB;
    const ar = A.shape.length, br = B.shape.length;
    const m = ta ? A.shape[ar - 1] : A.shape[ar - 2], k = ta ? A.shape[ar - 2] : A.shape[ar - 1];
    const n = tb ? B.shape[br - 2] : B.shape[br - 1];
    const batchA = A.shape.slice(0, -2).reduce((p, d) => p * d, 1);
    const batchB = B.shape.slice(0, -2).reduce((p, d) => p * d, 1);
    const outBatchShape = ar >= br ? A.shape.slice(0, -2) : B.shape.slice(0, -2);
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
    if (ar !== br && Math.min(batchA, batchB) !== 1) return null;
    const batch = Math.max(batchA, batchB);
    const av = f32(b, A), bv = f32(b, B);
    const out = alloc(b, batch * m * n);
    if (batch === 1) dnnl.sgemm(ta, tb, m, n, k, av, bv, out);
    else {
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
        const bi = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
        const ci = out.subarray(i * m * n, (i + 1) * m * n);
        dnnl.sgemm(ta, tb, m, n, k, ai.slice(), bi.slice(), ci);
      }
    }
    return b.makeTensorInfo([...outBatchShape, m, n], "float32", out);
  });

  override("_FusedMatMul", ({ a: A, b: B, bias, preluActivationWeights }, at, b) => {
    const act = at.activation as string | undefined;
    if (preluActivationWeights || (act && act !== "linear" && act !== "relu")) return null;
    // tfjs hands 2-D products over as [1, m, k] x [1, k, n]; other batch sizes go to the cpu kernel
    const batch = (t: Info) => t.shape.slice(0, -2).reduce((p, d) => p * d, 1);
    if (A.shape.length < 2 || B.shape.length < 2 || batch(A) !== 1 || batch(B) !== 1) return null;
    const [ra, rb] = [A.shape.length, B.shape.length];
    const ta = !!at.transposeA, tb = !!at.transposeB;
    const m = ta ? A.shape[ra - 1] : A.shape[ra - 2], k = ta ? A.shape[ra - 2] : A.shape[ra - 1];
    const n = tb ? B.shape[rb - 2] : B.shape[rb - 1];
    const bv = bias ? f32(b, bias) : undefined;
    if (bv && bv.length !== n) return null;
    const out = alloc(b, m * n);
    dnnl.sgemm(ta, tb, m, n, k, f32(b, A), f32(b, B), out);
    if (bv || act === "relu") {
      const relu = act === "relu";
      for (let i = 0; i < m; i++) {
        const row = i * n;
        for (let j = 0; j < n; j++) {
          const v = out[row + j] + (bv ? bv[j] : 0);
          out[row + j] = relu && v < 0 ? 0 : v;
        }
      }
    }
    const shape = ra >= rb ? [...A.shape.slice(0, -2), m, n] : [...B.shape.slice(0, -2), m, n];
    return b.makeTensorInfo(shape, "float32", out);
  });

  override("Relu", ({ x }, _a, b) => {
    if (x.dtype !== "float32") return null;
    return b.makeTensorInfo(x.shape, "float32", dnnl.relu(f32(b, x)));
  });

  const poolGeometry = (xShape: number[], a: Attrs): dnnl.PoolGeometry | null => {
    const info = tf.backend_util.computePool2DInfo(
      xShape as [number, number, number, number],
      a.filterSize as [number, number],
      a.strides as [number, number],
      1,
      a.pad as "valid",
      a.dimRoundingMode as "floor",
    );
    if (info.filterWidth === 1 && info.filterHeight === 1) return null;
    return {
      n: info.batchSize,
      h: info.inHeight,
      w: info.inWidth,
      c: info.inChannels,
      oh: info.outHeight,
      ow: info.outWidth,
      kh: info.filterHeight,
      kw: info.filterWidth,
      sh: info.strideHeight,
      sw: info.strideWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
      padBottom: info.padInfo.bottom,
      padRight: info.padInfo.right,
    };
  };

  override("MaxPool", ({ x }, a, b) => {
    const g = poolGeometry(x.shape, a);
    if (!g || x.dtype !== "float32") return null;
    return b.makeTensorInfo([g.n, g.oh, g.ow, g.c], "float32", dnnl.maxPoolForward(g, f32(b, x)));
  });

  override("MaxPoolGrad", ({ dy, input }, a, b) => {
    const g = poolGeometry(input.shape, a);
    if (!g) return null;
    return b.makeTensorInfo(
      input.shape,
      "float32",
      dnnl.maxPoolBackward(g, f32(b, input), f32(b, dy)),
    );
  });

  override("Concat", (inputs, a, b) => {
    const xs = Object.values(inputs) as Info[];
    if (xs.length === 0 || xs.some((t) => t.dtype !== "float32") || !xs[0].shape.length) {
      return null;
    }
    const axis = tf.util.parseAxisParam(a.axis as number, xs[0].shape)[0];
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((p, t) => p + t.shape[axis], 0);
    const out = alloc(b, shape.reduce((p, d) => p * d, 1));
    const at = shape.map(() => 0);
    for (const t of xs) {
      ew.insert(f32(b, t), t.shape, out, shape, at);
      at[axis] += t.shape[axis];
    }
    return b.makeTensorInfo(shape, "float32", out);
  });

  override("SplitV", ({ x }, a, b) => {
    if (x.dtype !== "float32") return null;
    const axis = tf.util.parseAxisParam(a.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as never,
      a.numOrSizeSplits as number | number[],
      axis,
    ) as number[];
    const begin = x.shape.map(() => 0);
    return sizes.map((sz) => {
      const shape = [...x.shape];
      shape[axis] = sz;
      const out = alloc(b, shape.reduce((p, d) => p * d, 1));
      ew.slice(f32(b, x), x.shape, begin, shape, out);
      begin[axis] += sz;
      return b.makeTensorInfo(shape, "float32", out);
    });
  });

  const binaryKernel =
    (op: ew.BinaryOp) => ({ a: A, b: B }: Record<string, Info>, _a: Attrs, b: Cpu) => {
      const av = stored(b, A), bv = stored(b, B);
      const shape = ew.broadcastShape(A.shape, B.shape);
      if (!av || !bv || !shape) return null;
      const out = alloc(b, shape.reduce((p, d) => p * d, 1));
      ew.binary(op, av, A.shape, bv, B.shape, out);
      return b.makeTensorInfo(shape, "float32", out);
    };
  override("Add", binaryKernel("add"));
  override("Sub", binaryKernel("sub"));
  override("Multiply", binaryKernel("mul"));
  override("RealDiv", binaryKernel("div"));

  override("Sum", ({ x }, a, b) => {
    const xv = stored(b, x);
    if (!xv) return null;
    const axes = tf.util.parseAxisParam(a.axis as number | number[], x.shape);
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = alloc(b, kept.reduce((p, d) => p * d, 1));
    if (!ew.sum(xv, x.shape, axes, out)) {
      (b as unknown as NativeBackend).release(out);
      return null;
    }
    return b.makeTensorInfo(
      a.keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i)),
      "float32",
      out,
    );
  });

  override("Step", ({ x }, a, b) => {
    const xv = stored(b, x);
    if (!xv) return null;
    const out = alloc(b, xv.length);
    ew.step(xv, a.alpha as number, out);
    return b.makeTensorInfo(x.shape, "float32", out);
  });

  override("Slice", ({ x }, a, b) => {
    const xv = stored(b, x);
    if (!xv) return null;
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as never,
      a.begin as number[],
      a.size as number[],
    );
    tf.slice_util.assertParamsValid(x as never, begin, size);
    const out = alloc(b, size.reduce((p, d) => p * d, 1));
    ew.slice(xv, x.shape, begin, size, out);
    return b.makeTensorInfo(size, "float32", out);
  });

  override("PadV2", ({ x }, a, b) => {
    const xv = stored(b, x);
    if (!xv) return null;
    const p = a.paddings as [number, number][];
    const shape = x.shape.map((d, i) => d + p[i][0] + p[i][1]);
    const out = alloc(b, shape.reduce((q, d) => q * d, 1));
    ew.pad(
      xv,
      x.shape,
      p.map((q) => q[0]),
      p.map((q) => q[1]),
      a.constantValue as number,
      out,
    );
    return b.makeTensorInfo(shape, "float32", out);
  });

  register(COPY, ({ x }, _a, b) => {
    const out = alloc(b, f32(b, x).length);
    out.set(f32(b, x));
    return b.makeTensorInfo(x.shape, "float32", out);
  });

  // zeros in the pool (optimiser state): updated in place from the first step, no copy
  override("ZerosLike", ({ x }, _a, b) => {
    if (x.dtype !== "float32") return null;
    const out = alloc(b, x.shape.reduce((p, d) => p * d, 1));
    out.fill(0);
    return b.makeTensorInfo(x.shape, "float32", out);
  });

  // batch norm's outputs: one the input's shape, two per channel
  const perChannel = (
    backend: Cpu,
    shape: [number, number, number, number],
    [full, a, b]: Float32Array[],
  ) => [
    backend.makeTensorInfo(shape, "float32", full),
    backend.makeTensorInfo([shape[3]], "float32", a),
    backend.makeTensorInfo([shape[3]], "float32", b),
  ];

  register(BN_TRAIN, (inputs, attrs, backend) => {
    const { x, gamma, beta } = inputs;
    const shape = x.shape as [number, number, number, number];
    const r = dnnl.batchNormForward(
      shape,
      f32(backend, x),
      f32(backend, gamma),
      f32(backend, beta),
      attrs.eps as number,
    );
    return perChannel(backend, shape, [r.y, r.mean, r.variance]);
  });

  register(BN_TRAIN_GRAD, (inputs, attrs, backend) => {
    const { dy, x, gamma, mean, variance } = inputs;
    const shape = x.shape as [number, number, number, number];
    const r = dnnl.batchNormBackward(
      shape,
      f32(backend, dy),
      f32(backend, x),
      f32(backend, gamma),
      f32(backend, mean),
      f32(backend, variance),
      attrs.eps as number,
    );
    return perChannel(backend, shape, [r.dx, r.dgamma, r.dbeta]);
  });

  register(
    RELU_GRAD,
    ({ dy, x }, _a, b) => b.makeTensorInfo(x.shape, "float32", dnnl.relu(f32(b, x), f32(b, dy))),
  );

  const convBnGeometry = (x: Info, filterShape: number[], a: Attrs) =>
    convGeometry(tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape as [number, number, number, number],
      a.strides as [number, number],
      1,
      "valid",
    ));

  // a block's geometry, and the second input's when the block reads two (concatenated along
  // channels, the filter spanning both)
  const blockInputs = (inputs: Record<string, Info>, attrs: Attrs, b: Cpu) => {
    const { x, x2, filter } = inputs;
    const [kh, kw, , co] = filter.shape;
    const g = convBnGeometry(x, [kh, kw, x.shape[3], co], attrs);
    const second: dnnl.SecondInput | undefined = x2
      ? [convBnGeometry(x2, [kh, kw, x2.shape[3], co], attrs), f32(b, x2)]
      : undefined;
    return { g, second };
  };

  register(CONV_BN, (inputs, attrs, b) => {
    const { x, filter, gamma, beta } = inputs;
    const { g, second } = blockInputs(inputs, attrs, b);
    const r = dnnl.convBnForward(
      g,
      f32(b, x),
      f32(b, filter),
      f32(b, gamma),
      f32(b, beta),
      attrs.eps as number,
      !!attrs.relu,
      second,
    );
    const shape = [g.n, g.oh, g.ow, g.co];
    return [
      b.makeTensorInfo(shape, "float32", r.z),
      b.makeTensorInfo(shape, "float32", r.y),
      b.makeTensorInfo([g.co], "float32", r.mean),
      b.makeTensorInfo([g.co], "float32", r.variance),
    ];
  });

  register(BN_APPLY, (inputs, attrs, b) => {
    const { y } = inputs;
    const z = dnnl.batchNormApply(
      y.shape as [number, number, number, number],
      f32(b, y),
      f32(b, inputs.gamma),
      f32(b, inputs.beta),
      f32(b, inputs.mean),
      f32(b, inputs.variance),
      attrs.eps as number,
      !!attrs.relu,
    );
    return b.makeTensorInfo(y.shape, "float32", z);
  });

  register(CONV_BN_INFER, (inputs, attrs, b) => {
    const { x, filter } = inputs;
    const { g, second } = blockInputs(inputs, attrs, b);
    const bn = {
      gamma: f32(b, inputs.gamma),
      beta: f32(b, inputs.beta),
      mean: f32(b, inputs.mean),
      variance: f32(b, inputs.variance),
      eps: attrs.eps as number,
    };
    const z = dnnl.convBnInference(g, f32(b, x), f32(b, filter), bn, !!attrs.relu, second);
    return b.makeTensorInfo([g.n, g.oh, g.ow, g.co], "float32", z);
  });

  register(CONV_BN_GRAD, (inputs, attrs, b) => {
    const { dz, x, x2, filter, gamma, z, y, mean, variance } = inputs;
    const { g, second } = blockInputs(inputs, attrs, b);
    // the caller gives dz up: its buffer holds the ReLU and BN gradients (when no one shares it)
    const scratch = attrs.consumeDz ? (b as unknown as NativeBackend).writable(dz) : undefined;
    const r = dnnl.convBnBackward(
      g,
      scratch ?? f32(b, dz),
      f32(b, x),
      f32(b, filter),
      f32(b, gamma),
      { z: f32(b, z), y: f32(b, y), mean: f32(b, mean), variance: f32(b, variance) },
      attrs.eps as number,
      !!attrs.relu,
      attrs.needDx !== false,
      !!scratch,
      second,
    );
    const rest = [
      b.makeTensorInfo(filter.shape, "float32", r.dw),
      b.makeTensorInfo([g.co], "float32", r.dgamma),
      b.makeTensorInfo([g.co], "float32", r.dbeta),
    ];
    if (r.dx2) rest.push(b.makeTensorInfo(x2.shape, "float32", r.dx2));
    return r.dx ? [b.makeTensorInfo(x.shape, "float32", r.dx), ...rest] : rest;
  });

  // Optimiser updates, in place when nothing else shares the variables' data (new arrays
  // holding the old values otherwise), by oneDNN on every thread.
  const inPlace = (b: Cpu, t: Info): [Float32Array, boolean] => {
    const w = (b as unknown as NativeBackend).writable(t);
    if (w) return [w, true];
    const copy = alloc(b, f32(b, t).length);
    copy.set(f32(b, t));
    return [copy, false];
  };

  register(SGD_STEP, (inputs, attrs, b) => {
    const [p, pw] = inPlace(b, inputs.param), [buf, bw] = inPlace(b, inputs.buf);
    dnnl.sgdStep(p, buf, f32(b, inputs.grad), attrs.lr as number, attrs.momentum as number);
    return [
      sameOrNew(b, inputs.param, pw ? p : undefined, p),
      sameOrNew(b, inputs.buf, bw ? buf : undefined, buf),
    ];
  });

  register(ADAM_STEP, (inputs, attrs, b) => {
    const [p, pw] = inPlace(b, inputs.param);
    const [m, mw] = inPlace(b, inputs.m), [v, vw] = inPlace(b, inputs.v);
    dnnl.adamStep(p, m, v, f32(b, inputs.grad), attrs as unknown as dnnl.AdamStep);
    return [
      sameOrNew(b, inputs.param, pw ? p : undefined, p),
      sameOrNew(b, inputs.m, mw ? m : undefined, m),
      sameOrNew(b, inputs.v, vw ? v : undefined, v),
    ];
  });

  registered = { detail, threads: used };
  return registered;
}
