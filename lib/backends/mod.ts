/**
 * Where tfjs runs: backend selection (WebGPU on a real adapter, the native oneDNN backend,
 * WebAssembly, plain JavaScript), the thread count, and the optimisers.
 *
 * @module
 */

export {
  type BackendChoice,
  type BackendName,
  BACKENDS,
  initBackend,
  probeWebGpu,
  setThreads,
  type WebGpuProbe,
} from "./select.ts";
export { Adam, type Optimizer, SgdMomentum } from "./optim.ts";
