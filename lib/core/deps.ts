/**
 * Third-party modules, pinned in one place with full `npm:` specifiers so the toolkit also works
 * when a script imports `mod.ts` by URL (a remote module cannot rely on our import map).
 *
 * @module
 */

export * as tf from "npm:@tensorflow/tfjs@4.22.0";
import type * as tfTypes from "npm:@tensorflow/tfjs@4.22.0";

/** A tfjs tensor (every tensor the toolkit hands out is one). */
export type Tensor = tfTypes.Tensor;
/** A 1-D tfjs tensor. */
export type Tensor1D = tfTypes.Tensor1D;
/** A 2-D tfjs tensor (rows of vectors). */
export type Tensor2D = tfTypes.Tensor2D;
/** A 4-D tfjs tensor (NHWC images or HWIO filters). */
export type Tensor4D = tfTypes.Tensor4D;
/** A trainable tfjs tensor (a model's weight). */
export type Variable = tfTypes.Variable;

/** tfjs's backends, each loaded only when chosen (same version as tfjs itself). */
export const tfjsBackends = {
  /** The plain JavaScript kernels (also the base of the native backend). */
  cpu: () => import("npm:@tensorflow/tfjs-backend-cpu@4.22.0"),
  /** WebAssembly (XNNPACK). */
  wasm: () => import("npm:@tensorflow/tfjs-backend-wasm@4.22.0"),
  /** The folder of the WebAssembly backend's `.wasm` files, as a URL. */
  wasmUrl: () => import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0"),
  /** WebGPU. */
  webgpu: () => import("npm:@tensorflow/tfjs-backend-webgpu@4.22.0"),
};
/** The JPEG encoder (`jpeg-js`, pure JavaScript), loaded on first use. */
export async function jpegEncoder(): Promise<{
  encode(
    img: { data: Uint8Array; width: number; height: number },
    quality: number,
  ): { data: Uint8Array };
}> {
  return (await import("npm:jpeg-js@0.4.4")).default;
}

/** One of imagescript's WebAssembly decoders. */
export type Codec = { init(): Promise<{ decode(b: Uint8Array): Record<string, unknown> }> };

/**
 * imagescript's decoders, loaded on first use and one by one: its main module also loads
 * native encoders (a Node addon), which would need --allow-ffi for nothing we use.
 */
export async function imageCodecs(): Promise<{ png: Codec; jpeg: Codec; tiff: Codec }> {
  const [png, jpeg, tiff] = await Promise.all([
    import("npm:imagescript@1.3.1/wasm/node/png.js"),
    import("npm:imagescript@1.3.1/wasm/node/jpeg.js"),
    import("npm:imagescript@1.3.1/wasm/node/tiff.js"),
  ]);
  return { png: png.default, jpeg: jpeg.default, tiff: tiff.default };
}
