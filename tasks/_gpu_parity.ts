/**
 * The model on one backend against tfjs's reference `cpu` backend, on small shapes: what the
 * WebGPU tests check on lavapipe in CI and `deno task gpu-check` checks on a real GPU.
 *
 * @module
 */

import { tf } from "../lib/core/deps.ts";
import { Rng } from "../lib/core/rng.ts";
import { type BackendName, initBackend } from "../lib/backends/select.ts";
import { SgdMomentum } from "../lib/backends/optim.ts";
import { ENet, type ENetConfig, initialValues, SMALL } from "../lib/map/enet.ts";
import { trainStep } from "../lib/map/step.ts";
import { FlowSvdd } from "../lib/oneclass/flow.ts";

const cfg: ENetConfig = { ...SMALL, dropout: 0 };

function batch(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * cfg.crop * cfg.crop * 3 }, () => r.normal());
}

/** Logits and L9 features of the small ENet with fixed weights on a fixed batch. */
async function forward(): Promise<Record<string, Float32Array>> {
  const net = new ENet(cfg, initialValues(cfg, 7));
  const out = tf.tidy(() => {
    const o = net.forward(tf.tensor4d(batch(2, 1), [2, cfg.crop, cfg.crop, 3]), false);
    return [o.logits, o.features];
  });
  const [logits, features] = [await out[0].data(), await out[1].data()] as Float32Array[];
  tf.dispose(out);
  net.dispose();
  return { logits, features };
}

/** The weights after one SGD step (batch statistics, backward pass, update). */
async function step(): Promise<Record<string, Float32Array>> {
  const net = new ENet(cfg, initialValues(cfg, 8));
  const opt = new SgdMomentum(net.trainable(), 0.9);
  const { loss } = await trainStep(net, opt, batch(4, 2), [0, 1, 0, 1], { lr: 0.01 });
  if (!Number.isFinite(loss)) throw new Error(`the training step's loss is ${loss}`);
  const v = Object.fromEntries(await net.values());
  opt.dispose();
  net.dispose();
  return v;
}

/** SVDD scores after two epochs of a NICE flow with Adam. */
async function flow(): Promise<Record<string, Float32Array>> {
  const r = new Rng(3);
  const x = Float32Array.from({ length: 48 * 16 }, () => r.normal());
  const m = await new FlowSvdd({ hidden: 16, depth: 1, epochs: 2, batchSize: 16 }).fit(x, 48, 16);
  const s = await m.decisionFunction(x, 48);
  m.dispose();
  return { scores: s };
}

/** The checks, by name. */
export const CHECKS = {
  "ENet forward (logits, L9)": forward,
  "ENet training step (weights after it)": step,
  "NICE flow with Adam (SVDD scores)": flow,
};

/** One comparison: the largest difference, relative to the reference's largest magnitude. */
export interface ParityResult {
  /** The check. */
  check: string;
  /** Per output: max |got − ref| / max(1, max |ref|). */
  worst: Record<string, number>;
  /** Largest of them. */
  maxRel: number;
}

/**
 * Runs `check` on `backend` and on `cpu`, and compares them; restores `restore` (the backend the
 * caller uses) afterwards. A failure names the check, the backend and the kernel tfjs reported.
 */
export async function compareWithCpu(
  check: keyof typeof CHECKS,
  backend: BackendName,
  restore?: string,
): Promise<ParityResult> {
  const run = async (b: BackendName) => {
    await initBackend(b);
    try {
      return await CHECKS[check]();
    } catch (e) {
      const m = /Kernel '(\w+)'|(\w+) (?:kernel|shader|program)/i.exec((e as Error).message);
      throw new Error(
        `${check} on ${b}${m ? `, kernel ${m[1] ?? m[2]}` : ""}: ${
          (e as Error).message.split("\n")[0]
        }`,
      );
    }
  };
  try {
    const ref = await run("cpu");
    const got = await run(backend);
    const worst: Record<string, number> = {};
    for (const [name, r] of Object.entries(ref)) {
      const g = got[name];
      let d = 0, m = 1;
      for (let i = 0; i < r.length; i++) {
        d = Math.max(d, Math.abs(g[i] - r[i]));
        m = Math.max(m, Math.abs(r[i]));
      }
      worst[name] = d / m;
    }
    return { check, worst, maxRel: Math.max(...Object.values(worst)) };
  } finally {
    if (restore) await tf.setBackend(restore);
  }
}
