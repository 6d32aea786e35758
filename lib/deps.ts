/**
 * Third-party modules, pinned in one place with full `npm:` specifiers so the toolkit also works
 * when a script imports `mod.ts` by URL (a remote module cannot rely on our import map).
 *
 * @module
 */

export * as tf from "npm:@tensorflow/tfjs@4.22.0";
// imagescript's decoders, imported one by one: its main module also loads native encoders
// (a Node addon), which would need --allow-ffi for nothing we use.
export { default as pngCodec } from "npm:imagescript@1.3.1/wasm/node/png.js";
export { default as jpegCodec } from "npm:imagescript@1.3.1/wasm/node/jpeg.js";
export { default as tiffCodec } from "npm:imagescript@1.3.1/wasm/node/tiff.js";
