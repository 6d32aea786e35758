/**
 * oneDNN (Intel's deep-learning kernel library, Debian package `libdnnl2`) through Deno FFI, one
 * topic per file: the loader, memory and primitive cache (`_dnnl.ts`), convolutions
 * (`conv.ts`), batch norm and ReLU (`bn.ts`), pooling (`pool.ts`), GEMM (`gemm.ts`), the fused
 * conv + BN blocks (`fused.ts`) and the optimiser updates (`optim.ts`). This module gathers
 * their public functions for the native backend.
 *
 * @module
 */

export { DNNL_LIBRARIES, implementations, openDnnl, setAllocator } from "./_dnnl.ts";
export * from "./conv.ts";
export * from "./bn.ts";
export * from "./pool.ts";
export * from "./gemm.ts";
export * from "./fused.ts";
export * from "./optim.ts";
