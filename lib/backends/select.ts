/**
 * Choosing the tfjs backend. `auto` takes a real WebGPU adapter when there is one (never a
 * software or fallback adapter such as llvmpipe), else the fastest CPU path available: the
 * native BLAS backend, then WebAssembly (SIMD), then tfjs's plain JavaScript `cpu` backend.
 * Any backend that cannot start is reported in one line and the next one is tried.
 *
 * @module
 */

import { tf, tfjsBackends } from "../core/deps.ts";
import { UsageError } from "../core/errors.ts";

let threads: number | undefined;

/**
 * Sets how many CPU threads the native backend uses (call before {@link initBackend}); by
 * default it chooses from the cores this process may use and the machine's load.
 *
 * @example Use one core on a busy machine
 * ```ts
 * import { initBackend, setThreads } from "./mod.ts";
 * setThreads(1); // before the backend starts
 * await initBackend("auto");
 * ```
 */
export function setThreads(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new UsageError(`threads must be a positive integer, got ${n}`);
  }
  threads = n;
}

/** The thread count set with {@link setThreads}, if any. */
export function requestedThreads(): number | undefined {
  return threads;
}

/** Backend names accepted by `--backend`. */
export const BACKENDS = ["auto", "native", "wasm", "cpu", "webgpu"] as const;
/** A backend name accepted by `--backend`. */
export type BackendName = typeof BACKENDS[number];

/** What {@link initBackend} chose, and why. */
export interface BackendChoice {
  /** The backend now active. */
  name: Exclude<BackendName, "auto">;
  /** One line each for backends that were tried and could not start. */
  notices: string[];
  /** Device description (adapter name, BLAS library, ...). */
  detail: string;
  /**
   * CPU threads the backend computes with (absent for WebGPU). Training is bit-reproducible for a
   * seed only with the same backend and thread count.
   */
  threads?: number;
}

/** Names of software WebGPU adapters (a CPU emulating a GPU). */
export const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|basic render|warp/i;

/** What {@link probeWebGpu} found. */
export interface WebGpuProbe {
  /** A usable adapter: a real GPU, or (when `software` is allowed) a software one. */
  ok: boolean;
  /** The adapter, or why there is none. */
  detail: string;
  /** The adapter is a software renderer (llvmpipe, lavapipe, SwiftShader, ...). */
  software: boolean;
}

/**
 * Whether this machine shows a GPU to processes (a DRM render node, an NVIDIA or AMD compute
 * device). Without one, `auto` does not probe WebGPU at all: the probe would only find a
 * software adapter, and on machines with Vulkan drivers the loader prints errors while it
 * looks (e.g. "XDG_RUNTIME_DIR is invalid or not set") that a user would read as a failure.
 */
export function gpuDevicePresent(): boolean {
  for (const dir of ["/dev/dri", "/dev"]) {
    try {
      for (const e of Deno.readDirSync(dir)) {
        if (/^(renderD\d+|nvidia\d+|kfd)$/.test(e.name)) return true;
      }
    } catch { /* absent or not readable: look on */ }
  }
  return false;
}

/**
 * Describes the WebGPU adapter, or says why there is no usable one. Software adapters are
 * usable only with `allowSoftware` (an explicit `--backend webgpu`).
 *
 * @example Is there a WebGPU adapter, and is it a real GPU?
 * ```ts
 * import { probeWebGpu } from "./mod.ts";
 * const p = await probeWebGpu(true);
 * console.log(p.ok, p.software, p.detail);
 * ```
 */
export async function probeWebGpu(allowSoftware = false): Promise<WebGpuProbe> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    return { ok: false, software: false, detail: "WebGPU is not available in this runtime" };
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { ok: false, software: false, detail: `no WebGPU adapter (${(e as Error).message})` };
  }
  if (!adapter) return { ok: false, software: false, detail: "no WebGPU adapter" };
  const info = adapter.info;
  const desc = info?.description ||
    [info?.vendor, info?.architecture, info?.device].filter((x) => x && x !== "0").join(" ") ||
    "WebGPU adapter";
  const software = !!(adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ||
    SOFTWARE_ADAPTER.test(desc);
  if (software && !allowSoftware) {
    return { ok: false, software, detail: `WebGPU adapter is a software renderer (${desc})` };
  }
  return { ok: true, software, detail: desc };
}

/**
 * Loads and activates one backend and describes it (with its CPU threads); throws with a one-line
 * reason if it cannot.
 */
async function start(
  name: Exclude<BackendName, "auto">,
  explicit: boolean,
): Promise<{ detail: string; threads?: number }> {
  switch (name) {
    case "cpu": {
      await tfjsBackends.cpu();
      await quietly(() => tf.setBackend("cpu"));
      // tfjs-backend-cpu prints a "use tfjs-node" hint on its first write when it thinks it
      // runs in Node.js; Deno is not Node.js and tfjs-node does not apply.
      (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
      return { detail: "tfjs JavaScript kernels", threads: 1 };
    }
    case "wasm": {
      const wasm = await tfjsBackends.wasm();
      const main = tfjsBackends.wasmUrl();
      const dir = main.slice(0, main.lastIndexOf("/") + 1);
      wasm.setWasmPaths(
        dir.startsWith("file://") ? decodeURIComponent(new URL(dir).pathname) : dir,
      );
      const { registerWasmExtras } = await import("./wasm_extras.ts");
      registerWasmExtras();
      if (!(await quietly(() => tf.setBackend("wasm")))) {
        throw new Error("the WebAssembly module did not load");
      }
      return { detail: "tfjs WebAssembly kernels (XNNPACK, SIMD, 1 thread)", threads: 1 };
    }
    case "webgpu": {
      const probe = await probeWebGpu(explicit);
      if (!probe.ok) throw new Error(probe.detail);
      await tfjsBackends.webgpu();
      if (!(await quietly(() => tf.setBackend("webgpu")))) {
        throw new Error("the tfjs WebGPU backend did not start");
      }
      return {
        detail: probe.software
          ? `${probe.detail}; warning: a software adapter, slower than the CPU backends`
          : probe.detail,
      };
    }
    case "native": {
      const { registerNativeBackend } = await import("./native/backend.ts");
      const { detail, threads: used } = registerNativeBackend(threads);
      if (!(await quietly(() => tf.setBackend("native")))) {
        throw new Error("the native backend did not start");
      }
      return { detail, threads: used };
    }
  }
}

/** Runs `f` with tfjs's console chatter (the "install tfjs-node" hint) suppressed. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const { warn, log } = console;
  const filter = (orig: (...a: unknown[]) => void) => (...a: unknown[]) => {
    const s = a.map(String).join(" ");
    if (
      /tfjs-node|Hi, looks like|={5,}|Initialization of backend|wasm file|Aborted\(|prepare wasm/
        .test(s)
    ) return;
    orig(...a);
  };
  console.warn = filter(warn);
  console.log = filter(log);
  try {
    return await f();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

/**
 * Activates the requested backend. With `auto`: WebGPU on a real GPU (probed only where the
 * machine shows a GPU device), else native, wasm, cpu in that order. With an explicit name:
 * that backend (for `webgpu`, any adapter, software ones with a warning), falling back the same
 * way after a one-line notice that says which backend runs instead.
 *
 * @example Start the fastest backend available
 * ```ts
 * import { initBackend } from "./mod.ts";
 * const b = await initBackend("auto");
 * console.log(b.name, b.detail, b.notices);
 * ```
 */
export async function initBackend(requested: BackendName = "auto"): Promise<BackendChoice> {
  if (!BACKENDS.includes(requested)) {
    throw new UsageError(`backend must be one of ${BACKENDS.join(", ")}, got "${requested}"`);
  }
  const order: Exclude<BackendName, "auto">[] = requested === "auto"
    ? [...(gpuDevicePresent() ? ["webgpu" as const] : []), "native", "wasm", "cpu"]
    : [requested, ...(["native", "wasm", "cpu"] as const).filter((b) => b !== requested)];
  const failed: string[] = [];
  for (const name of order) {
    try {
      const { detail, threads: used } = await start(name, requested === name);
      const notices = failed.length
        ? [`${failed.join("; ")}: using ${name} instead`]
        : detail.includes("warning:")
        ? [`${name}: ${detail.slice(detail.indexOf("warning:"))}`]
        : [];
      return { name, notices, detail, ...(used ? { threads: used } : {}) };
    } catch (e) {
      const why = (e as Error).message.split("\n")[0];
      // Under auto, no real WebGPU adapter is the normal case on a CPU machine: no notice.
      if (requested !== "auto" || name !== "webgpu") {
        failed.push(`backend ${name} unavailable: ${why}`);
      }
    }
  }
  throw new Error(`no tfjs backend could start: ${failed.join("; ")}`);
}

/**
 * Tells the backend a training step ended (the native backend trims its buffer pool to what a
 * step needs); a no-op on other backends.
 */
export function stepEnded(): void {
  (tf.backend() as unknown as { endStep?: () => void }).endStep?.();
}
