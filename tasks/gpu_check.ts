/**
 * The prepared GPU check: one command, at most a few minutes, for a machine with a GPU.
 *
 *   deno task gpu-check [--preset paper] [--steps 3] [--budget 280]
 *
 * 1. prints the WebGPU adapter;
 * 2. runs the WebGPU parity checks (tasks/_gpu_parity.ts: ENet forward, a training step, a NICE
 *    flow with Adam, each against the cpu backend);
 * 3. measures ENet training and inference (images/s at batch 16 and 64) and flow training
 *    (4096-d, hidden 1000, batch 64, vectors/s), with the GPU memory tfjs reports.
 *
 * Every figure is one JSON line on standard output; a measurement that would pass `--budget`
 * seconds is skipped with a line saying so. On a software adapter (lavapipe) use
 * `--preset small`: the paper preset takes minutes per step there.
 *
 * @module
 */

import { tf } from "../lib/core/deps.ts";
import { Rng } from "../lib/core/rng.ts";
import { initBackend, probeWebGpu } from "../lib/backends/select.ts";
import { Adam, SgdMomentum } from "../lib/backends/optim.ts";
import { ENet, PRESETS } from "../lib/map/enet.ts";
import { trainStep } from "../lib/map/step.ts";
import { NiceFlow } from "../lib/oneclass/networks.ts";
import { sqDistances, svddLoss } from "../lib/oneclass/svdd.ts";
import { type Command, num, runCommand, str } from "../cli/_args.ts";
import { UsageError } from "../lib/core/errors.ts";
import { CHECKS, compareWithCpu } from "./_gpu_parity.ts";

const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

/** GPU memory as tfjs reports it on this backend (fields vary by backend). */
function gpuMemory(): Record<string, number> {
  const m = tf.memory() as unknown as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(m).filter(([k, v]) => typeof v === "number" && /GPU|Bytes/.test(k)),
  ) as Record<string, number>;
}

/** The `gpu-check` task. */
export const gpuCheckCommand: Command = {
  name: "gpu-check",
  usage: "[--preset paper|small] [--steps N] [--budget SECONDS]",
  summary:
    "On a GPU: the adapter, WebGPU parity with the cpu backend, ENet and flow speed (JSON lines).",
  permissions: "--allow-read --allow-env",
  writes: "standard output",
  flags: [
    {
      name: "preset",
      type: "string",
      arg: "P",
      default: "paper",
      help: "ENet preset of the speed figures",
    },
    {
      name: "steps",
      type: "string",
      arg: "N",
      default: "3",
      help: "timed steps per figure (after one warm-up)",
    },
    {
      name: "budget",
      type: "string",
      arg: "S",
      default: "280",
      help: "seconds; later figures are skipped past it",
    },
  ],
  async run(a) {
    const t0 = performance.now();
    const preset = str(a, "preset", "paper")!;
    const cfg = PRESETS[preset];
    if (!cfg) throw new UsageError(`--preset must be paper or small, got "${preset}"`);
    const steps = num(a, "steps", { int: true, min: 1 }) ?? 3;
    const budget = num(a, "budget", { min: 1 }) ?? 280;
    const probe = await probeWebGpu(true);
    line({ figure: "adapter", ok: probe.ok, software: probe.software, detail: probe.detail });
    if (!probe.ok) return 1;
    let failed = false;
    for (const check of Object.keys(CHECKS) as (keyof typeof CHECKS)[]) {
      try {
        const r = await compareWithCpu(check, "webgpu");
        failed ||= r.maxRel > 1e-3;
        line({ figure: "parity", check, maxRel: r.maxRel, pass: r.maxRel <= 1e-3, worst: r.worst });
      } catch (e) {
        failed = true;
        line({ figure: "parity", check, pass: false, error: (e as Error).message });
      }
    }
    const b = await initBackend("webgpu");
    const left = () => budget - (performance.now() - t0) / 1000;
    const timed = async (name: string, items: number, step: () => Promise<unknown>, extra = {}) => {
      if (left() <= 0) return line({ figure: name, ...extra, skipped: "over the time budget" });
      const w = performance.now();
      await step(); // warm-up: compiles the shaders
      const warm = (performance.now() - w) / 1000;
      if (warm * (steps + 1) > left()) {
        return line({ figure: name, ...extra, skipped: `one step takes ${warm.toFixed(1)} s` });
      }
      const t = performance.now();
      for (let i = 0; i < steps; i++) await step();
      const rate = (items * steps) / ((performance.now() - t) / 1000);
      line({
        figure: name,
        ...extra,
        rate,
        unit: name.startsWith("flow") ? "vectors/s" : "images/s",
        memory: gpuMemory(),
        backend: b.detail,
      });
    };
    const r = new Rng(0);
    for (const n of [16, 64]) {
      const net = ENet.create(cfg, 0);
      const x = Float32Array.from({ length: n * cfg.crop * cfg.crop * 3 }, () => r.normal());
      const y = Array.from({ length: n }, (_, i) => i % 2);
      const opt = new SgdMomentum(net.trainable(), 0.9);
      await timed("enet-train", n, () => trainStep(net, opt, x, y, { lr: 1e-3 }), {
        preset,
        batch: n,
      });
      const xt = tf.tensor4d(x, [n, cfg.crop, cfg.crop, 3]);
      await timed("enet-infer", n, async () => {
        const logits = tf.tidy(() => net.forward(xt, false).logits);
        await logits.data();
        logits.dispose();
      }, { preset, batch: n });
      xt.dispose();
      opt.dispose();
      net.dispose();
    }
    const flow = NiceFlow.create(
      { kind: "flow", dim: 4096, couplings: 4, hidden: 1000, depth: 4 },
      0,
    );
    const fo = new Adam(flow.vars);
    const fx = tf.tensor2d(Float32Array.from({ length: 64 * 4096 }, () => r.normal()), [64, 4096]);
    const c = tf.tensor1d(Float32Array.from({ length: 4096 }, () => r.normal()));
    await timed("flow-train", 64, async () => {
      const { value, grads } = tf.tidy(() =>
        tf.variableGrads(() => svddLoss(sqDistances(flow.forward(fx), c), 1, 0.05), [
          ...flow.vars.values(),
        ])
      );
      await value.data();
      tf.tidy(() => fo.step(new Map([...flow.vars].map(([k, v]) => [k, grads[v.name]])), 1e-3));
      tf.dispose([value, ...Object.values(grads)]);
    }, { dim: 4096, hidden: 1000, batch: 64 });
    line({
      figure: "done",
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
      parity: failed ? "failed" : "passed",
    });
    return failed ? 1 : 0;
  },
};

if (import.meta.main) Deno.exit(await runCommand(gpuCheckCommand, Deno.args));
