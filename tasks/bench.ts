/**
 * CPU speed and memory, side by side with PyTorch on the same machine, in one invocation:
 *
 * - ENet training (SGD step) and inference at crop 233, batch 16, 2 threads: images/s;
 * - flow training (4096-d, 4 couplings, hidden 1000, batch 64, Adam): feature vectors/s;
 * - peak resident memory of each (every measurement runs in its own process);
 * - GFLOP/s achieved by ENet training against a measured sgemm peak (oneDNN, 2048³).
 *
 *   deno task bench [--steps 5] [--backend native] [--write docs/bench.md]
 *   deno task bench --contention [--write docs/bench.md]
 *
 * With `--contention`, ENet inference is measured idle and with a second CPU-bound process on
 * the same cores, for the native backend's defaults (passive waiting, threads from the load),
 * OpenMP's own defaults (spinning, every core), one thread, WebAssembly (the strict sandbox's
 * backend) and PyTorch. `--write` replaces its own section of the file and keeps the others.
 *
 * PyTorch is Debian's python3-torch, the model tasks/py/enet_torch.py (checked equal to ours by
 * `deno task parity`), run both in its default NCHW layout and in channels-last; the ratio is
 * against the faster of the two.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { bool, type Command, num, runCommand, str } from "../cli/_args.ts";
import { UsageError } from "../lib/core/errors.ts";
import { tf } from "../lib/core/deps.ts";
import {
  type BackendName,
  initBackend,
  setThreads,
  SOFTWARE_ADAPTER,
} from "../lib/backends/select.ts";
import { ENet, PAPER, PRESETS, shapes } from "../lib/map/enet.ts";
import { NiceFlow } from "../lib/oneclass/networks.ts";
import { Adam, SgdMomentum } from "../lib/backends/optim.ts";
import { sqDistances, svddLoss } from "../lib/oneclass/svdd.ts";
import { trainStep } from "../lib/map/step.ts";
import { Rng } from "../lib/core/rng.ts";

const PY = fileURLToPath(new URL("./py/bench_torch.py", import.meta.url));
const MEASURE = fileURLToPath(new URL("./py/measure.py", import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/**
 * Forward FLOPs of ENet per image (multiply-adds x 2, convolutions and FC layers). `asRun`: as
 * cgvsni computes it, the SRM layer and the 3x3 after it composed into one 7x7 convolution over
 * the image; otherwise as written (the SRM layer as the block-diagonal 3 -> 90 conv PyTorch's
 * reference also runs).
 */
export function enetForwardFlops(cfg = PAPER, asRun = true): number {
  const s = shapes(cfg);
  const conv = (out: number, k: number, cin: number, cout: number) =>
    2 * out * out * k * k * cin * cout;
  const b = cfg.crop - 4; // after the 5x5
  let f = conv(b, 5, 3, cfg.conv0) + conv(b - 2, 3, cfg.conv0, cfg.width);
  f += asRun ? conv(b - 2, 7, 3, cfg.width) : conv(b, 5, 3, 90) + conv(b - 2, 3, 90, cfg.width);
  f += 2 * (conv(b - 4, 3, cfg.width, cfg.width) + conv(b - 6, 3, cfg.width, cfg.width));
  const t1 = Math.floor((s.branch - 7) / 2) + 1, p1 = s.trunk[0];
  const t2 = p1 - 4, p2 = s.trunk[1], t3 = p2 - 2;
  f += conv(t1, 7, 2 * cfg.width, cfg.trunk[0]) + conv(t2, 5, cfg.trunk[0], cfg.trunk[1]) +
    conv(t3, 3, cfg.trunk[1], cfg.trunk[2]);
  f += 2 * (s.fcIn * cfg.fc + cfg.fc * cfg.fc + cfg.fc * cfg.classes);
  return f;
}

/** One measurement in this process; prints a JSON line. */
async function worker(
  mode: string,
  steps: number,
  backend: BackendName,
  threads?: number,
  preset = "paper",
) {
  const cfg = PRESETS[preset], crop = cfg.crop;
  if (threads) setThreads(threads);
  const b = await initBackend(backend);
  // steps read their results asynchronously: WebGPU has no synchronous reads in Deno
  const timed = async (step: () => unknown, items: number) => {
    for (let i = 0; i < 2; i++) await step();
    const t = performance.now();
    for (let i = 0; i < steps; i++) await step();
    return (items * steps) / ((performance.now() - t) / 1000);
  };
  let rate = 0;
  const r = new Rng(0);
  if (mode.startsWith("enet")) {
    const net = ENet.create(cfg, 0);
    const x = Float32Array.from({ length: 16 * crop * crop * 3 }, () => r.normal());
    const y = Array.from({ length: 16 }, (_, i) => i % 2);
    if (mode === "enet-train") {
      const opt = new SgdMomentum(net.trainable(), 0.9);
      rate = await timed(() => trainStep(net, opt, x, y, { lr: 1e-3 }), 16);
    } else {
      const xt = tf.tensor4d(x, [16, crop, crop, 3]);
      rate = await timed(async () => {
        const logits = tf.tidy(() => net.forward(xt, false).logits);
        await logits.data();
        logits.dispose();
      }, 16);
    }
  } else if (mode === "flow-train") {
    const dim = cfg.fc, hidden = preset === "paper" ? 1000 : 256;
    const flow = NiceFlow.create({ kind: "flow", dim, couplings: 4, hidden, depth: 4 }, 0);
    const opt = new Adam(flow.vars);
    const x = tf.tensor2d(Float32Array.from({ length: 64 * dim }, () => r.normal()), [64, dim]);
    const c = tf.tensor1d(Float32Array.from({ length: dim }, () => r.normal()));
    rate = await timed(async () => {
      const { value, grads } = tf.tidy(() =>
        tf.variableGrads(
          () => svddLoss(sqDistances(flow.forward(x), c), 1, 0.05),
          [...flow.vars.values()],
        )
      );
      await value.data();
      tf.tidy(() => opt.step(new Map([...flow.vars].map(([k, v]) => [k, grads[v.name]])), 1e-3));
      tf.dispose([value, ...Object.values(grads)]);
    }, 64);
  } else if (mode === "sgemm") {
    const { sgemm, openDnnl } = await import("../lib/backends/native/dnnl.ts");
    openDnnl();
    const n = 2048,
      a = new Float32Array(n * n).fill(0.5),
      bm = new Float32Array(n * n).fill(0.25),
      cm = new Float32Array(n * n);
    rate = await timed(() => sgemm(false, false, n, n, n, a, bm, cm), 2 * n * n * n) / 1e9;
  }
  const live = (tf.backend() as unknown as { peakLiveBytes?: number }).peakLiveBytes;
  console.log(
    JSON.stringify({
      rate,
      backend: b.name,
      detail: b.detail,
      peak_live_mb: live ? live / 2 ** 20 : undefined,
    }),
  );
}

/** Runs a measurement in its own process, under measure.py (peak RSS of the child, CPU name). */
export async function spawn(
  python: string,
  cmd: string,
  args: string[],
  env: Record<string, string> = { OMP_NUM_THREADS: "2" },
): Promise<Record<string, number | string>> {
  const out = await new Deno.Command(python, {
    args: [MEASURE, cmd, ...args],
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ")
      }`,
    );
  }
  return JSON.parse(text);
}

/** The idle table: training, inference and flow, cgvsni vs PyTorch. */
async function idle(
  values: { steps: number; backend: string; python: string; preset: string },
): Promise<string> {
  const { steps, preset } = values;
  // PyTorch runs the paper configuration only (tasks/py/enet_torch.py)
  const withTorch = preset === "paper";
  const deno = Deno.execPath();
  const ours = (mode: string) =>
    spawn(values.python, deno, [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      SELF,
      "--worker",
      mode,
      "--steps",
      String(steps),
      "--backend",
      values.backend,
      "--preset",
      preset,
    ]);
  const torch = (mode: string, cl = false) =>
    spawn(values.python, values.python, [
      PY,
      mode,
      String(steps),
      ...(cl ? ["--channels-last"] : []),
    ]);
  const rows: string[][] = [];
  const fwd = enetForwardFlops();
  console.error(
    `ENet forward: ${(enetForwardFlops(PAPER, false) / 1e9).toFixed(1)} GFLOP per 233x233 image ` +
      `as written, ${(fwd / 1e9).toFixed(1)} as cgvsni runs it; training ~3x`,
  );
  const peak = values.backend === "native"
    ? await ours("sgemm")
    : { rate: NaN, cpu: "?", detail: "" } as Record<string, number | string>;
  let cpu = peak.cpu;
  let detail = peak.detail as string;
  for (
    const [mode, unit] of [["enet-train", "images/s"], ["enet-infer", "images/s"], [
      "flow-train",
      "vectors/s",
    ]] as const
  ) {
    const a = await ours(mode);
    detail ||= a.detail as string;
    if (cpu === "?") cpu = a.cpu;
    const t1 = withTorch ? await torch(mode) : undefined;
    const t2 = withTorch && mode.startsWith("enet") ? await torch(mode, true) : undefined;
    const best = t2 && t1 && (t2.rate as number) > (t1.rate as number) ? t2 : t1;
    const ratio = best ? (a.rate as number) / (best.rate as number) : NaN;
    const gflops = !withTorch
      ? NaN
      : mode === "enet-train"
      ? ((a.rate as number) * 3 * fwd) / 1e9
      : mode === "enet-infer"
      ? ((a.rate as number) * fwd) / 1e9
      : NaN;
    const mb = (m?: Record<string, number | string>) =>
      m ? (m.peak_rss_mb as number).toFixed(0) : undefined;
    rows.push([
      mode,
      `${(a.rate as number).toFixed(2)} ${unit}`,
      t1
        ? `${(t1.rate as number).toFixed(2)}${t2 ? ` / ${(t2.rate as number).toFixed(2)}` : ""}`
        : "–",
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "–",
      [mb(a), mb(t1), mb(t2)].filter(Boolean).join(" / "),
      a.peak_live_mb ? (a.peak_live_mb as number).toFixed(0) : "–",
      Number.isFinite(gflops) && Number.isFinite(peak.rate as number)
        ? `${gflops.toFixed(0)} (${((100 * gflops) / (peak.rate as number)).toFixed(0)} % of sgemm)`
        : "–",
    ]);
    console.error(
      `${mode}: cgvsni ${(a.rate as number).toFixed(2)} ${unit}` +
        (best ? ` vs PyTorch ${(best.rate as number).toFixed(2)} (${ratio.toFixed(2)}x)` : ""),
    );
  }
  const head = [
    "measurement",
    "cgvsni",
    "PyTorch NCHW / channels-last",
    "ratio (vs faster)",
    "peak RSS MB (cgvsni / NCHW / CL)",
    "cgvsni peak live tensors MB",
    "cgvsni GFLOP/s",
  ];
  const software = values.backend === "webgpu" && SOFTWARE_ADAPTER.test(detail);
  const sizes = preset === "paper"
    ? `ENet crop 233, batch 16; flow 4096-d, 4 couplings, hidden 1000, batch 64, Adam.`
    : `Small preset: ENet crop ${PRESETS[preset].crop}, batch 16; flow ${
      PRESETS[preset].fc
    }-d, 4 couplings, hidden 256, batch 64, Adam (no PyTorch side: it runs the paper preset only).`;
  const md = [
    ...(software
      ? [
        `**Software adapter: these figures measure a CPU emulating a GPU, not a GPU.** They show ` +
        `that the WebGPU path runs; they say nothing about speed on real hardware.`,
        "",
      ]
      : []),
    `Machine: ${cpu}, ${navigator.hardwareConcurrency} cores, OMP_NUM_THREADS=2, torch.set_num_threads(2). ` +
    `cgvsni backend: ${detail}.` +
    (values.backend === "native"
      ? ` sgemm peak (oneDNN, 2048³): ${(peak.rate as number).toFixed(0)} GFLOP/s.`
      : "") +
    ` ${sizes} ${steps} timed steps after 2 warm-up steps; ` +
    `each measurement in its own process.` +
    (withTorch
      ? ` GFLOP/s count the arithmetic cgvsni runs (${
        (fwd / 1e9).toFixed(1)
      } GFLOP per forward pass; ` +
        `${(enetForwardFlops(PAPER, false) / 1e9).toFixed(1)} as written, which PyTorch runs).`
      : ""),
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  return md;
}

/**
 * Waits until the 1-minute load average is below `below` (at most `maxS` seconds), so that an idle
 * figure is taken on an idle machine, not just after a loaded run: the native backend's default
 * thread count reads the load. Returns the load average it measured at.
 */
async function settle(below = 0.5, maxS = 150): Promise<number> {
  const t0 = performance.now();
  while (Deno.loadavg()[0] >= below && performance.now() - t0 < maxS * 1000) {
    await new Promise((r) => setTimeout(r, 5000));
  }
  return Deno.loadavg()[0];
}

/** Runs `f` while a second CPU-bound process (a busy loop) runs on the same cores. */
async function underLoad<T>(f: () => Promise<T>): Promise<T> {
  const busy = new Deno.Command(Deno.execPath(), {
    args: ["eval", "while (true) {}"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    return await f();
  } finally {
    busy.kill("SIGKILL");
    await busy.status;
  }
}

/** The contention table: ENet inference idle and loaded, for each way of running it. */
async function contention(values: { steps: number; python: string }): Promise<string> {
  const deno = Deno.execPath();
  const run = (backend: string, env: Record<string, string>, threads?: string) =>
    spawn(values.python, deno, [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      SELF,
      "--worker",
      "enet-infer",
      "--steps",
      String(values.steps),
      "--backend",
      backend,
      ...(threads ? ["--threads", threads] : []),
    ], env);
  const cores = String(navigator.hardwareConcurrency);
  const configs: [string, () => Promise<Record<string, number | string>>][] = [
    ["cgvsni native, defaults (passive waiting, threads from the load)", () => run("native", {})],
    [
      "cgvsni native, OpenMP's defaults (spinning, every core)",
      () => run("native", { OMP_WAIT_POLICY: "active", OMP_NUM_THREADS: cores }),
    ],
    ["cgvsni native, 1 thread", () => run("native", {}, "1")],
    ["cgvsni wasm (the strict sandbox: no FFI)", () => run("wasm", {})],
    [
      "PyTorch, channels-last, 2 threads",
      () =>
        spawn(values.python, values.python, [
          PY,
          "enet-infer",
          String(values.steps),
          "--channels-last",
        ], {}),
    ],
  ];
  const rows: string[][] = [];
  for (const [name, f] of configs) {
    const load = await settle();
    const a = await f();
    const b = await underLoad(f);
    const rate = (x: Record<string, number | string>) => (x.rate as number).toFixed(2);
    rows.push([
      name,
      rate(a),
      rate(b),
      `${((b.rate as number) / (a.rate as number)).toFixed(2)}`,
      load.toFixed(2),
      String(a.detail ?? ""),
      String(b.detail ?? ""),
    ]);
    console.error(`${name}: idle ${rate(a)}, loaded ${rate(b)} images/s`);
  }
  const head = [
    "ENet inference, crop 233, batch 16",
    "idle images/s",
    "loaded images/s",
    "loaded / idle",
    "load average before idle",
    "backend when idle",
    "backend when loaded",
  ];
  return [
    `${navigator.hardwareConcurrency} cores; "loaded": a second process runs a busy loop on the same cores ` +
    `(started 1 s before, killed after). "Idle" is measured once the 1-minute load average is below 0.5 ` +
    `(or after 150 s; the value is in the table). ${values.steps} timed batches after 2 warm-up batches, each measurement in its own process.`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** Replaces (or appends) the section `## title` of a Markdown file. */
export async function writeSection(file: string, title: string, body: string): Promise<void> {
  let text = "# Benchmarks\n";
  try {
    text = await Deno.readTextFile(file);
  } catch { /* a new file */ }
  const head = `## ${title}`;
  const parts = text.split(/^(?=## )/m);
  const i = parts.findIndex((p) => p.startsWith(head));
  const section = `${head}\n\n${body}\n\n`;
  if (i >= 0) parts[i] = section;
  else parts.push(section);
  await Deno.writeTextFile(file, parts.join("").trimEnd() + "\n");
  // in the repository's markdown style, so `deno fmt --check` stays clean
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", file] }).output();
}

/** The `bench` task. */
export const benchCommand: Command = {
  name: "bench",
  usage: "[--steps N] [--backend B] [--contention] [--write FILE]",
  summary: "Speed and memory of cgvsni and PyTorch side by side on this machine.",
  description: `
Every measurement runs in its own process, under tasks/py/measure.py (peak RSS). PyTorch is
Debian's python3-torch running tasks/py/enet_torch.py (checked equal by deno task parity).
Without --contention: ENet training and inference (crop 233, batch 16) and flow training, idle.
With --contention: ENet inference idle and with a busy second process, per way of running it.
--backend webgpu measures tfjs's WebGPU backend on any adapter; a software one (lavapipe) is
labelled as such and is far too slow for the paper preset: add --preset small there.`,
  permissions: "--allow-read --allow-write=docs --allow-run --allow-env --allow-ffi --allow-sys",
  writes: "--write FILE (docs/; its own section, the others kept)",
  flags: [
    { name: "steps", type: "string", arg: "N", default: "5", help: "timed steps per measurement" },
    {
      name: "backend",
      type: "string",
      arg: "B",
      default: "native",
      help: "cgvsni backend of the idle table",
    },
    {
      name: "preset",
      type: "string",
      arg: "P",
      default: "paper",
      help:
        "ENet preset of the idle table: paper|small (small: no PyTorch side; for slow adapters)",
    },
    { name: "contention", type: "boolean", help: "measure inference idle and under load instead" },
    { name: "write", type: "string", arg: "FILE", help: "write the table into this Markdown file" },
    {
      name: "python",
      type: "string",
      arg: "PATH",
      default: "/usr/bin/python3",
      help: "Python with torch",
    },
    {
      name: "worker",
      type: "string",
      arg: "MODE",
      help: "(internal) one measurement in this process",
    },
    { name: "threads", type: "string", arg: "N", help: "(internal) threads of the worker" },
  ],
  async run(a) {
    const steps = num(a, "steps", { int: true, min: 1 }) ?? 5;
    const backend = str(a, "backend", "native")!;
    const python = str(a, "python", "/usr/bin/python3")!;
    const preset = str(a, "preset", "paper")!;
    if (!(preset in PRESETS)) {
      throw new UsageError(
        `--preset must be ${Object.keys(PRESETS).join(" or ")}, got "${preset}"`,
      );
    }
    const mode = str(a, "worker");
    if (mode) {
      if (!["enet-train", "enet-infer", "flow-train", "sgemm"].includes(mode)) {
        throw new UsageError(
          `--worker must be enet-train, enet-infer, flow-train or sgemm, got "${mode}"`,
        );
      }
      await worker(
        mode,
        steps,
        backend as BackendName,
        num(a, "threads", { int: true, min: 1 }),
        preset,
      );
      return 0;
    }
    const date = new Date().toISOString().slice(0, 10);
    const write = str(a, "write");
    const [title, md] = bool(a, "contention")
      ? ["Under load (shared machines)", await contention({ steps, python })]
      : [
        `Idle, backend ${backend}${preset !== "paper" ? `, ${preset} preset` : ""}`,
        await idle({ steps, backend, python, preset }),
      ];
    console.log(md);
    if (write) {
      const cmd = `deno task bench --steps ${steps}${bool(a, "contention") ? " --contention" : ""}${
        backend !== "native" ? ` --backend ${backend}` : ""
      }${preset !== "paper" ? ` --preset ${preset}` : ""} --write ${write}`;
      await writeSection(write, title, `Command: \`${cmd}\` (${date}).\n\n${md}`);
    }
    return 0;
  },
};

if (import.meta.main) Deno.exit(await runCommand(benchCommand, Deno.args));
