/**
 * Third-party modules, pinned in one place with full `npm:` specifiers so the toolkit also works
 * when a script imports `mod.ts` by URL (a remote module cannot rely on our import map).
 *
 * @module
 */

export * as tf from "npm:@tensorflow/tfjs@4.22.0";
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
