/**
 * The `native` tfjs backend: tfjs's own CPU backend (same tensor storage, same kernels for
 * everything small) with the hot kernels replaced by oneDNN calls through FFI:
 *
 * | tfjs kernel                         | native implementation                     |
 * |-------------------------------------|-------------------------------------------|
 * | Conv2D, Conv2DBackpropInput/Filter  | oneDNN convolution fwd / bwd-data / bwd-w  |
 * | BatchMatMul                         | oneDNN sgemm                              |
 * | Relu                                | oneDNN eltwise                            |
 * | MaxPool, MaxPoolGrad                | oneDNN pooling (forward recomputed in bwd)|
 * | CgvsniBatchNormTrain (+ Grad)       | oneDNN batch normalisation                |
 * | CgvsniReluGrad                      | oneDNN eltwise backward                   |
 * | Concat, SplitV                      | block copies (tfjs's are per element)     |
 * | CgvsniSgdStep, CgvsniAdamStep       | one fused loop per parameter tensor        |
 * | CgvsniConvBn (+ Grad)               | conv + BN + ReLU in one kernel: no tfjs    |
 * |                                     | tensors for the intermediates              |
 *
 * Model code stays plain tfjs: it runs unchanged (and is tested equal within float tolerance)
 * on the `cpu`, `wasm` and `webgpu` backends.
 *
 * @module
 */

import { tf } from "../deps.ts";
import { MathBackendCPU } from "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
import * as dnnl from "./dnnl.ts";
import {
  ADAM_STEP,
  BN_TRAIN,
  BN_TRAIN_GRAD,
  CONV_BN,
  CONV_BN_GRAD,
  RELU_GRAD,
  SGD_STEP,
} from "./names.ts";

type Info = { dataId: object; shape: number[]; dtype: string };
type Cpu = {
  readSync(id: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): Info;
};
type Attrs = Record<string, unknown>;

let registered = false;
let description = "";

/** Arrays of at least this many floats (1 MiB) are recycled. */
const POOL_MIN = 1 << 18;
/** Most bytes kept in the pool: a quarter of the machine's memory, at most 16 GiB. */
const POOL_MAX_BYTES = (() => {
  try {
    return Math.min(16 * 1024 ** 3, Deno.systemMemoryInfo().total / 4);
  } catch {
    return 2 * 1024 ** 3; // no --allow-sys: a safe default
  }
})();

/**
 * tfjs's CPU backend plus a pool of large output buffers. Page faults on freshly allocated
 * memory cost about as much as the arithmetic on it (a 200 MB activation takes ~0.4 s to fault
 * in on a VM); tfjs frees tensor memory only when the garbage collector runs, so without the
 * pool nearly every large output is fresh memory. Buffers our kernels allocate are returned to
 * the pool when their tensor is disposed; reads from outside get a copy, so a recycled buffer
 * can never change data someone holds.
 */
class NativeBackend extends MathBackendCPU {
  #pool = new Map<number, Float32Array[]>();
  #pooledBytes = 0;
  #ours = new WeakSet<Float32Array>();

  constructor() {
    super();
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** An output buffer of `n` floats (contents undefined: the kernel must write all of it). */
  alloc(n: number): Float32Array {
    if (n < POOL_MIN) return new Float32Array(n);
    const reused = this.#pool.get(n)?.pop();
    if (reused) {
      this.#pooledBytes -= reused.byteLength;
      return reused;
    }
    const fresh = new Float32Array(n);
    this.#ours.add(fresh);
    return fresh;
  }

  /** Sizes (floats) and counts of pooled buffers, for diagnostics. */
  poolSummary(): [number, number][] {
    return [...this.#pool].filter(([, l]) => l.length).map(([n, l]) => [n, l.length]);
  }

  /** Bytes held in the pool (free buffers kept for reuse). */
  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  /** Returns a buffer from {@link alloc} that no tensor holds. */
  release(a: Float32Array): void {
    if (!this.#ours.has(a) || this.#pooledBytes + a.byteLength > POOL_MAX_BYTES) return;
    const list = this.#pool.get(a.length) ?? [];
    list.push(a);
    this.#pool.set(a.length, list);
    this.#pooledBytes += a.byteLength;
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
    return (v instanceof Float32Array && this.#ours.has(v) ? v.slice() : v) as never;
  }

  /** The stored array of a tensor, without copying (for kernels only). */
  values(t: Info): Float32Array {
    const v =
      (this as unknown as { data: { get(id: object): { values: unknown } } }).data.get(t.dataId)
        .values;
    if (!(v instanceof Float32Array)) {
      throw new Error(`native kernels need float32 tensors, got ${t.dtype}`);
    }
    return v;
  }
}

function f32(b: Cpu, t: Info): Float32Array {
  return (b as unknown as NativeBackend).values(t);
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

/** Copies `rows` blocks of `len` floats between strided positions of two arrays. */
function copyBlocks(
  src: Float32Array,
  srcOff: number,
  srcStride: number,
  dst: Float32Array,
  dstOff: number,
  dstStride: number,
  rows: number,
  len: number,
): void {
  if (len >= 256) {
    for (let r = 0; r < rows; r++) {
      const s = srcOff + r * srcStride;
      dst.set(src.subarray(s, s + len), dstOff + r * dstStride);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = srcOff + r * srcStride, d = dstOff + r * dstStride;
    for (let k = 0; k < len; k++) dst[d + k] = src[s + k];
  }
}

/** Registers a kernel for `native` that falls back to the cpu one when `fast` returns null. */
function override(
  name: string,
  fast: (inputs: Record<string, Info>, attrs: Attrs, b: Cpu) => Info | Info[] | null,
) {
  const slow = tf.getKernel(name, "cpu") ? cpuKernel(name) : null;
  tf.unregisterKernel(name, "native");
  tf.registerKernel({
    kernelName: name,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args as unknown as {
        inputs: Record<string, Info>;
        attrs: Attrs;
        backend: Cpu;
      };
      const out = fast(inputs, attrs, backend);
      if (out) return out as never;
      if (!slow) throw new Error(`${name}: no native implementation for these arguments`);
      return slow(args) as never;
    },
  });
}

/**
 * Opens oneDNN and registers the `native` backend (idempotent). Returns a description of the
 * library; throws a one-line reason when it cannot (library missing, no `--allow-ffi`).
 */
export function registerNativeBackend(): string {
  if (registered) return description;
  description = dnnl.openDnnl();
  tf.registerBackend("native", () => {
    const b = new NativeBackend();
    dnnl.setAllocator((n) => b.alloc(n), (a) => b.release(a));
    return b;
  }, 0);
  for (const k of tf.getKernelsForBackend("cpu")) {
    tf.registerKernel({ ...k, backendName: "native" });
  }

  override("Conv2D", ({ x, filter }, a, b) => {
    if (a.dataFormat === "NCHW") return null;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides as [number, number],
      (a.dilations ?? 1) as [number, number],
      a.pad as "valid",
      a.dimRoundingMode as "floor",
    );
    const y = dnnl.convForward(convGeometry(info), f32(b, x), f32(b, filter));
    return b.makeTensorInfo(info.outShape, "float32", y);
  });

  override("Conv2DBackpropInput", ({ dy, filter }, a, b) => {
    if (a.dataFormat === "NCHW") return null;
    const info = tf.backend_util.computeConv2DInfo(
      a.inputShape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides as [number, number],
      1,
      a.pad as "valid",
      a.dimRoundingMode as "floor",
    );
    const dx = dnnl.convBackwardData(convGeometry(info), f32(b, dy), f32(b, filter));
    return b.makeTensorInfo(a.inputShape as number[], "float32", dx);
  });

  override("Conv2DBackpropFilter", ({ x, dy }, a, b) => {
    if (a.dataFormat === "NCHW") return null;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape as [number, number, number, number],
      a.strides as [number, number],
      1,
      a.pad as "valid",
      a.dimRoundingMode as "floor",
    );
    const dw = dnnl.convBackwardWeights(convGeometry(info), f32(b, x), f32(b, dy));
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
    if (xs.length === 0 || xs.some((t) => t.dtype !== "float32")) return null;
    const rank = xs[0].shape.length;
    const axis = tf.util.parseAxisParam(a.axis as number, xs[0].shape)[0];
    const outer = xs[0].shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const inners = xs.map((t) => t.shape.slice(axis).reduce((p, d) => p * d, 1));
    const total = inners.reduce((p, d) => p + d, 0);
    const out = alloc(b, outer * total);
    let off = 0;
    xs.forEach((t, i) => {
      copyBlocks(f32(b, t), 0, inners[i], out, off, total, outer, inners[i]);
      off += inners[i];
    });
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((p, t) => p + t.shape[axis], 0);
    return rank ? b.makeTensorInfo(shape, "float32", out) : null;
  });

  override("SplitV", ({ x }, a, b) => {
    if (x.dtype !== "float32") return null;
    const axis = tf.util.parseAxisParam(a.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as never,
      a.numOrSizeSplits as number | number[],
      axis,
    ) as number[];
    const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const unit = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const total = x.shape[axis] * unit;
    const src = f32(b, x);
    let off = 0;
    return sizes.map((sz) => {
      const inner = sz * unit;
      const out = alloc(b, outer * inner);
      copyBlocks(src, off, total, out, 0, inner, outer, inner);
      off += inner;
      const shape = [...x.shape];
      shape[axis] = sz;
      return b.makeTensorInfo(shape, "float32", out);
    });
  });

  tf.registerKernel({
    kernelName: BN_TRAIN,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args as unknown as {
        inputs: Record<string, Info>;
        attrs: Attrs;
        backend: Cpu;
      };
      const { x, gamma, beta } = inputs;
      const shape = x.shape as [number, number, number, number];
      const r = dnnl.batchNormForward(
        shape,
        f32(backend, x),
        f32(backend, gamma),
        f32(backend, beta),
        attrs.eps as number,
      );
      const c = shape[3];
      return [
        backend.makeTensorInfo(shape, "float32", r.y),
        backend.makeTensorInfo([c], "float32", r.mean),
        backend.makeTensorInfo([c], "float32", r.variance),
      ] as never;
    },
  });

  tf.registerKernel({
    kernelName: BN_TRAIN_GRAD,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args as unknown as {
        inputs: Record<string, Info>;
        attrs: Attrs;
        backend: Cpu;
      };
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
      const c = shape[3];
      return [
        backend.makeTensorInfo(shape, "float32", r.dx),
        backend.makeTensorInfo([c], "float32", r.dgamma),
        backend.makeTensorInfo([c], "float32", r.dbeta),
      ] as never;
    },
  });

  tf.registerKernel({
    kernelName: RELU_GRAD,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, backend } = args as unknown as { inputs: Record<string, Info>; backend: Cpu };
      const { dy, x } = inputs;
      return backend.makeTensorInfo(
        x.shape,
        "float32",
        dnnl.relu(f32(backend, x), f32(backend, dy)),
      ) as never;
    },
  });

  const convBnGeometry = (x: Info, filterShape: number[], a: Attrs) =>
    convGeometry(tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape as [number, number, number, number],
      a.strides as [number, number],
      1,
      "valid",
    ));

  tf.registerKernel({
    kernelName: CONV_BN,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, attrs, backend: b } = args as unknown as {
        inputs: Record<string, Info>;
        attrs: Attrs;
        backend: Cpu;
      };
      const { x, filter, gamma, beta } = inputs;
      const g = convBnGeometry(x, filter.shape, attrs);
      const r = dnnl.convBnForward(
        g,
        f32(b, x),
        f32(b, filter),
        f32(b, gamma),
        f32(b, beta),
        attrs.eps as number,
        !!attrs.relu,
      );
      const shape = [g.n, g.oh, g.ow, g.co];
      return [
        b.makeTensorInfo(shape, "float32", r.z),
        b.makeTensorInfo(shape, "float32", r.y),
        b.makeTensorInfo([g.co], "float32", r.mean),
        b.makeTensorInfo([g.co], "float32", r.variance),
      ] as never;
    },
  });

  tf.registerKernel({
    kernelName: CONV_BN_GRAD,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, attrs, backend: b } = args as unknown as {
        inputs: Record<string, Info>;
        attrs: Attrs;
        backend: Cpu;
      };
      const { dz, x, filter, gamma, z, y, mean, variance } = inputs;
      const g = convBnGeometry(x, filter.shape, attrs);
      const r = dnnl.convBnBackward(
        g,
        f32(b, dz),
        f32(b, x),
        f32(b, filter),
        f32(b, gamma),
        { z: f32(b, z), y: f32(b, y), mean: f32(b, mean), variance: f32(b, variance) },
        attrs.eps as number,
        !!attrs.relu,
      );
      return [
        b.makeTensorInfo(x.shape, "float32", r.dx!),
        b.makeTensorInfo(filter.shape, "float32", r.dw),
        b.makeTensorInfo([g.co], "float32", r.dgamma),
        b.makeTensorInfo([g.co], "float32", r.dbeta),
      ] as never;
    },
  });

  tf.registerKernel({
    kernelName: SGD_STEP,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args as unknown as {
        inputs: Record<string, Info>;
        attrs: Attrs;
        backend: Cpu;
      };
      const p = f32(backend, inputs.param),
        g = f32(backend, inputs.grad),
        v = f32(backend, inputs.buf);
      const lr = attrs.lr as number, mu = attrs.momentum as number;
      const np = alloc(backend, p.length), nv = alloc(backend, p.length);
      for (let i = 0; i < p.length; i++) {
        const b = mu * v[i] + g[i];
        nv[i] = b;
        np[i] = p[i] - lr * b;
      }
      return [
        backend.makeTensorInfo(inputs.param.shape, "float32", np),
        backend.makeTensorInfo(inputs.param.shape, "float32", nv),
      ] as never;
    },
  });

  tf.registerKernel({
    kernelName: ADAM_STEP,
    backendName: "native",
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args as unknown as {
        inputs: Record<string, Info>;
        attrs: Attrs;
        backend: Cpu;
      };
      const p = f32(backend, inputs.param), g = f32(backend, inputs.grad);
      const m = f32(backend, inputs.m), v = f32(backend, inputs.v);
      const { lr, beta1, beta2, eps, c1, c2 } = attrs as Record<string, number>;
      const np = alloc(backend, p.length),
        nm = alloc(backend, p.length),
        nv = alloc(backend, p.length);
      for (let i = 0; i < p.length; i++) {
        const mi = beta1 * m[i] + (1 - beta1) * g[i];
        const vi = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        nm[i] = mi;
        nv[i] = vi;
        np[i] = p[i] - (lr / c1) * (mi / (Math.sqrt(vi / c2) + eps));
      }
      const shape = inputs.param.shape;
      return [
        backend.makeTensorInfo(shape, "float32", np),
        backend.makeTensorInfo(shape, "float32", nm),
        backend.makeTensorInfo(shape, "float32", nv),
      ] as never;
    },
  });

  registered = true;
  return description;
}
