/**
 * The model code on tfjs's WebGPU backend against its reference `cpu` backend, on tiny shapes:
 * the small-preset ENet forward (logits and L9 features), one training step, a NICE flow step
 * with Adam, and SVDD scores. CI runs them on lavapipe, Mesa's software Vulkan device (Debian
 * `mesa-vulkan-drivers`, installed by .ci/run); a real GPU runs the same tests. Where an adapter
 * cannot run a kernel, the failure names the kernel and the reason.
 */
import assert from "node:assert/strict";
import { tf } from "../../../lib/core/deps.ts";
import { Rng } from "../../../lib/core/rng.ts";
import { initBackend, probeWebGpu } from "../../../lib/backends/select.ts";
import { SgdMomentum } from "../../../lib/backends/optim.ts";
import { ENet, initialValues, SMALL } from "../../../lib/map/enet.ts";
import { trainStep } from "../../../lib/map/step.ts";
import { FlowSvdd } from "../../../lib/oneclass/flow.ts";
import { maxAbsDiff, testBackend } from "../../_helpers.ts";

const probe = await probeWebGpu(true);

/** Runs `f` on `backend`, then goes back to the backend the other tests use. */
async function on<T>(backend: "cpu" | "webgpu", f: () => Promise<T>): Promise<T> {
  const before = (await testBackend()).name;
  await initBackend(backend);
  try {
    return await f();
  } catch (e) {
    // name the kernel tfjs was running when the adapter failed
    const m = /(\w+) (?:kernel|shader|program)|Kernel '(\w+)'/i.exec((e as Error).message);
    throw new Error(
      `${backend}${m ? `: kernel ${m[1] ?? m[2]}` : ""} failed on ${probe.detail}: ${
        (e as Error).message
      }`,
    );
  } finally {
    await tf.setBackend(before);
  }
}

const cfg = { ...SMALL, dropout: 0 };
const batch = (n: number, seed: number) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * cfg.crop * cfg.crop * 3 }, () => r.normal());
};

/** Logits and L9 features of the small ENet with fixed weights on a fixed batch. */
async function forward(): Promise<{ logits: Float32Array; features: Float32Array }> {
  const values = initialValues(cfg, 7);
  const net = new ENet(cfg, values);
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
async function step(): Promise<Map<string, Float32Array>> {
  const net = new ENet(cfg, initialValues(cfg, 8));
  const opt = new SgdMomentum(net.trainable(), 0.9);
  const { loss } = await trainStep(net, opt, batch(4, 2), [0, 1, 0, 1], { lr: 0.01 });
  assert.ok(Number.isFinite(loss));
  const v = await net.values();
  opt.dispose();
  net.dispose();
  return v;
}

/** SVDD scores after two flow epochs with Adam. */
async function flow(): Promise<Float32Array> {
  const r = new Rng(3);
  const x = Float32Array.from({ length: 48 * 16 }, () => r.normal());
  const m = await new FlowSvdd({ hidden: 16, depth: 1, epochs: 2, batchSize: 16 }).fit(x, 48, 16, {
    threshold: "train",
  });
  const s = await m.score(x, 48);
  m.dispose();
  return s;
}

const opts = { ignore: !probe.ok, sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: `webgpu: ENet logits and L9 features match the cpu backend (${probe.detail})`,
  ...opts,
  async fn() {
    const ref = await on("cpu", forward);
    const got = await on("webgpu", forward);
    assert.ok(
      maxAbsDiff(got.logits, ref.logits) <= 1e-3,
      `logits differ by ${maxAbsDiff(got.logits, ref.logits)}`,
    );
    const rel = maxAbsDiff(got.features, ref.features) / Math.max(1, ...ref.features.map(Math.abs));
    assert.ok(rel <= 1e-3, `L9 differs by ${rel} (relative)`);
  },
});

Deno.test({
  name: "webgpu: one ENet training step leaves the weights the cpu backend gets",
  ...opts,
  async fn() {
    const ref = await on("cpu", step);
    const got = await on("webgpu", step);
    for (const [name, v] of ref) {
      const d = maxAbsDiff(got.get(name)!, v);
      assert.ok(d <= 1e-3, `${name} differs by ${d}`);
    }
  },
});

Deno.test({
  name: "webgpu: a NICE flow trained with Adam gives the cpu backend's SVDD scores",
  ...opts,
  async fn() {
    const ref = await on("cpu", flow);
    const got = await on("webgpu", flow);
    const scale = Math.max(1, ...ref.map(Math.abs));
    assert.ok(maxAbsDiff(got, ref) / scale <= 1e-3, `scores differ by ${maxAbsDiff(got, ref)}`);
  },
});
