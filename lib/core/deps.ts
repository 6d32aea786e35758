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
/** One of imagescript's WebAssembly decoders. */
export type Codec = { init(): Promise<{ decode(b: Uint8Array): Record<string, unknown> }> };

/**
 * imagescript's decoders, loaded on first use and one by one: its main module also loads
 * native encoders (a Node addon), which would need --allow-ffi for nothing we use.
 */
export async function imageCodecs(): Promise<{ png: Codec; jpeg: Codec; gif: Codec }> {
  const [png, jpeg, gif] = await Promise.all([
    import("npm:imagescript@1.3.1/wasm/node/png.js"),
    import("npm:imagescript@1.3.1/wasm/node/jpeg.js"),
    import("npm:imagescript@1.3.1/wasm/node/gif.js"),
  ]);
  return { png: png.default, jpeg: jpeg.default, gif: gif.default };
}

/** The `sharp` module (libvips, a Node addon: needs --allow-ffi), loaded on first use. */
export async function sharpModule(): Promise<typeof import("npm:sharp@0.34.5")> {
  return (await import("npm:sharp@0.34.5")).default;
}

/**
 * libjpeg-turbo's decoder as mozjpeg builds it, in WebAssembly (`@jsquash/jpeg`): its Emscripten
 * module factory and the path of its `.wasm` file, loaded on first use.
 */
export async function mozjpegFactory(): Promise<{
  // deno-lint-ignore no-explicit-any
  factory: (overrides: Record<string, unknown>) => Promise<any>;
  wasm: string;
}> {
  const glue = "npm:@jsquash/jpeg@1.6.0/codec/dec/mozjpeg_dec.js";
  const mod = await import("npm:@jsquash/jpeg@1.6.0/codec/dec/mozjpeg_dec.js");
  const url = new URL("mozjpeg_dec.wasm", import.meta.resolve(glue));
  return { factory: mod.default, wasm: decodeURIComponent(url.pathname) };
}

/** Versions of the decoding libraries, as recorded with models and caches. */
export const DECODER_PACKAGES = {
  jsquashJpeg: "1.6.0",
  imagescript: "1.3.1",
};
