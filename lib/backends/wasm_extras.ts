/**
 * Kernels the tfjs WebAssembly backend lacks but training needs, built from kernels it has.
 *
 * Conv2DBackpropFilter: the filter gradient of a VALID convolution with stride s is itself a
 * convolution, of the input (batch and channels swapped) with the output gradient used as a
 * filter dilated by s:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, i, j} x[n, i·s + kh, j·s + kw, ci] · dy[n, i, j, co]
 *
 * Conv2DBackpropInput (stride 1, VALID; replaces the backend's slow direct loop): the input
 * gradient is a VALID convolution of the output gradient padded by k-1 on every side with the
 * filter rotated 180° and its channel axes swapped.
 *
 * @module
 */

import { tf } from "../core/deps.ts";

type Info = { dataId: object; shape: number[]; dtype: string };
type Backend = { disposeData(id: object): void };

let registered = false;

type KernelArgs = { inputs: unknown; attrs: unknown; backend: unknown };

/** Calls another `wasm` kernel directly (its outputs are untracked TensorInfos). */
function runner(backend: unknown) {
  return (name: string, ins: Record<string, Info>, at: Record<string, unknown>): Info =>
    tf.getKernel(name, "wasm")!.kernelFunc({
      inputs: ins as never,
      attrs: at as never,
      backend: backend as never,
    }) as unknown as Info;
}

/** Registers the missing kernels for the `wasm` backend (idempotent). */
export function registerWasmExtras(): void {
  if (registered || tf.getKernel("Conv2DBackpropFilter", "wasm")) return;
  registered = true;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const b = backend as unknown as Backend;
      const { x, dy } = inputs as unknown as { x: Info; dy: Info };
      const { strides, pad, filterShape, dataFormat } = attrs as unknown as {
        strides: number | [number, number];
        pad: string;
        filterShape: [number, number, number, number];
        dataFormat: string;
      };
      const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides;
      if (pad !== "valid" || (dataFormat && dataFormat !== "NHWC")) {
        throw new Error("wasm Conv2DBackpropFilter supports only VALID padding and NHWC");
      }
      const run = runner(backend);
      const [kh, kw, ci, co] = filterShape;
      const xt = run("Transpose", { x }, { perm: [3, 1, 2, 0] }); // [ci, H, W, n]
      const dyt = run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, n, co]
      const c = run("Conv2D", { x: xt, filter: dyt }, {
        strides: [1, 1],
        pad: "valid",
        dataFormat: "NHWC",
        dilations: [sh, sw],
      }); // [ci, kh', kw', co] with kh' ≥ kh
      b.disposeData(xt.dataId);
      b.disposeData(dyt.dataId);
      let cut = c;
      if (c.shape[1] !== kh || c.shape[2] !== kw) {
        cut = run("Slice", { x: c }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
        b.disposeData(c.dataId);
      }
      const out = run("Transpose", { x: cut }, { perm: [1, 2, 0, 3] }); // [kh, kw, ci, co]
      b.disposeData(cut.dataId);
      return out as never;
    },
  });
  const original = tf.getKernel("Conv2DBackpropInput", "wasm")!;
  tf.unregisterKernel("Conv2DBackpropInput", "wasm");
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args as KernelArgs;
      const { dy, filter } = inputs as { dy: Info; filter: Info };
      const { strides, pad, dataFormat, inputShape } = attrs as {
        strides: number | [number, number];
        pad: string;
        dataFormat: string;
        inputShape: number[];
      };
      const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides;
      if (sh !== 1 || sw !== 1 || pad !== "valid" || (dataFormat && dataFormat !== "NHWC")) {
        return original.kernelFunc(args as never); // the one strided layer keeps the direct loop
      }
      const b = backend as Backend;
      const run = runner(backend);
      const [kh, kw] = filter.shape;
      const padded = run("PadV2", { x: dy }, {
        paddings: [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]],
        constantValue: 0,
      });
      const flipped = run("Reverse", { x: filter }, { dims: [0, 1] });
      const swapped = run("Transpose", { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, co, ci]
      b.disposeData(flipped.dataId);
      const out = run("Conv2D", { x: padded, filter: swapped }, {
        strides: [1, 1],
        pad: "valid",
        dataFormat: "NHWC",
        dilations: [1, 1],
      });
      b.disposeData(padded.dataId);
      b.disposeData(swapped.dataId);
      if (out.shape.join() !== inputShape.join()) {
        throw new Error("Conv2DBackpropInput: shape mismatch");
      }
      return out as never;
    },
  });
}
