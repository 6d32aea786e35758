import assert from "node:assert/strict";
import { tf } from "../../../lib/core/deps.ts";
import { BiasFreeMlp, flowParams, NiceFlow } from "../../../lib/oneclass/networks.ts";
import { Rng } from "../../../lib/core/rng.ts";
import { testBackend } from "../../_helpers.ts";

function randn(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

/** log|det| of a square matrix (row-major) by LU with partial pivoting, in float64. */
function logAbsDet(m: Float64Array, d: number): number {
  const a = Float64Array.from(m);
  let s = 0;
  for (let k = 0; k < d; k++) {
    let p = k;
    for (let i = k + 1; i < d; i++) if (Math.abs(a[i * d + k]) > Math.abs(a[p * d + k])) p = i;
    if (p !== k) {
      for (let j = 0; j < d; j++) [a[k * d + j], a[p * d + j]] = [a[p * d + j], a[k * d + j]];
    }
    s += Math.log(Math.abs(a[k * d + k]));
    for (let i = k + 1; i < d; i++) {
      const f = a[i * d + k] / a[k * d + k];
      for (let j = k; j < d; j++) a[i * d + j] -= f * a[k * d + j];
    }
  }
  return s;
}

Deno.test("flow: inverse(forward(x)) = x within 1e-4", async () => {
  await testBackend();
  for (const dim of [7, 64]) {
    const flow = NiceFlow.create({ kind: "flow", dim, couplings: 4, hidden: 32, depth: 2 }, dim);
    tf.tidy(() => {
      const x = tf.tensor2d(randn(10 * dim, 1), [10, dim]);
      const z = flow.forward(x);
      assert.ok(tf.max(tf.abs(tf.sub(z, x))).dataSync()[0] > 1e-2, "the flow is not the identity");
      const back = flow.inverse(z);
      assert.ok(tf.max(tf.abs(tf.sub(back, x))).dataSync()[0] < 1e-4);
    });
    flow.dispose();
  }
});

Deno.test("flow: log|det J| = 0 (autodiff Jacobian at several points)", async () => {
  await testBackend();
  const d = 6;
  const flow = NiceFlow.create({ kind: "flow", dim: d, couplings: 4, hidden: 16, depth: 2 }, 3);
  for (const seed of [1, 2, 3]) {
    const x0 = tf.tensor2d(randn(d, seed), [1, d]);
    const jac = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      const g = tf.grad((x: tf.Tensor) =>
        tf.slice(flow.forward(x as tf.Tensor2D), [0, i], [1, 1]).sum()
      )(x0);
      g.dataSync().forEach((v, j) => (jac[i * d + j] = v));
      g.dispose();
    }
    x0.dispose();
    assert.ok(Math.abs(logAbsDet(jac, d)) < 1e-5, `log|det J| = ${logAbsDet(jac, d)}`);
    // and the Jacobian is not the identity: the couplings do something
    assert.ok(jac.some((v, k) => Math.abs(v - (k % (d + 1) === 0 ? 1 : 0)) > 1e-3));
  }
  flow.dispose();
});

Deno.test("flow: same output in training and inference (no layer depends on the mode)", async () => {
  await testBackend();
  const flow = NiceFlow.create({ kind: "flow", dim: 10, couplings: 2, hidden: 8, depth: 1 }, 1);
  const x = tf.tensor2d(randn(40, 5), [4, 10]);
  const a = flow.forward(x).dataSync();
  const { value } = tf.variableGrads(() => tf.sum(flow.forward(x)) as tf.Scalar, [
    ...flow.vars.values(),
  ]);
  value.dispose();
  assert.deepEqual(flow.forward(x).dataSync(), a);
  flow.dispose();
});

Deno.test("flow: parameter shapes alternate the halves; odd dimensions work", () => {
  const p = flowParams({ kind: "flow", dim: 9, couplings: 2, hidden: 5, depth: 1 });
  assert.deepEqual(p.map((q) => q.shape), [
    [4, 5],
    [5],
    [5, 5],
    [5],
    [5, 5],
    [5],
    [5, 5],
    [5],
    [5, 5],
    [5],
    [5, 4],
    [4],
  ]);
});

Deno.test("mlp baseline: bias-free", async () => {
  await testBackend();
  const m = BiasFreeMlp.create({ kind: "mlp", dim: 6, hidden: 8, depth: 1, out: 3 }, 1);
  assert.deepEqual([...m.vars.keys()], ["l0.w", "l1.w", "l2.w"]);
  tf.tidy(() => assert.deepEqual([...m.forward(tf.zeros([2, 6])).dataSync()], [0, 0, 0, 0, 0, 0]));
  m.dispose();
});

Deno.test("flow: creating and disposing maps leaves no tensors behind", async () => {
  await testBackend();
  const before = tf.memory().numTensors;
  const flow = NiceFlow.create({ kind: "flow", dim: 8, couplings: 2, hidden: 4, depth: 1 }, 0);
  const mlp = BiasFreeMlp.create({ kind: "mlp", dim: 8, hidden: 4, depth: 1, out: 3 }, 0);
  assert.equal(tf.memory().numTensors - before, flow.vars.size + mlp.vars.size);
  flow.dispose();
  mlp.dispose();
  assert.equal(tf.memory().numTensors, before);
});
