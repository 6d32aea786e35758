import assert from "node:assert/strict";
import { tf } from "../../../lib/core/deps.ts";
import { Adam, SgdMomentum, stepLr } from "../../../lib/backends/optim.ts";
import { testBackend } from "../../_helpers.ts";

const g1 = [0.5, -1, 2], g2 = [1, 0.25, -0.5];

Deno.test("optim: SGD with momentum follows torch.optim.SGD", async () => {
  await testBackend();
  const p = tf.variable(tf.tensor1d([1, 2, 3]));
  const opt = new SgdMomentum(new Map([["p", p]]), 0.9);
  opt.step(new Map([["p", tf.tensor1d(g1)]]), 0.1);
  opt.step(new Map([["p", tf.tensor1d(g2)]]), 0.1);
  // buf1 = g1; p1 = p0 - 0.1 g1; buf2 = 0.9 g1 + g2; p2 = p1 - 0.1 buf2
  const expect = [1, 2, 3].map((v, i) => v - 0.1 * g1[i] - 0.1 * (0.9 * g1[i] + g2[i]));
  p.dataSync().forEach((v, i) => assert.ok(Math.abs(v - expect[i]) < 1e-6));
  opt.dispose();
  p.dispose();
});

Deno.test("optim: Adam follows torch.optim.Adam; state restores exactly", async () => {
  await testBackend();
  const p = tf.variable(tf.tensor1d([1, 2, 3]));
  const opt = new Adam(new Map([["p", p]]));
  opt.step(new Map([["p", tf.tensor1d(g1)]]), 0.01);
  const state = await opt.state();
  const snapshot = p.dataSync().slice();
  opt.step(new Map([["p", tf.tensor1d(g2)]]), 0.01);
  const expect = [1, 2, 3].map((v, i) => {
    let m = 0.1 * g1[i], s = 0.001 * g1[i] ** 2;
    v -= 0.01 * (m / 0.1) / (Math.sqrt(s / 0.001) + 1e-8);
    m = 0.9 * m + 0.1 * g2[i];
    s = 0.999 * s + 0.001 * g2[i] ** 2;
    return v - 0.01 * (m / (1 - 0.81)) / (Math.sqrt(s / (1 - 0.999 ** 2)) + 1e-8);
  });
  const after = p.dataSync().slice();
  after.forEach((v, i) => assert.ok(Math.abs(v - expect[i]) < 1e-5, `${v} vs ${expect[i]}`));
  // restore the state after step 1 into a fresh optimiser: step 2 must give the same weights
  const q = tf.variable(tf.tensor1d(snapshot));
  const opt2 = new Adam(new Map([["p", q]]));
  opt2.load(new Map(state.map((a) => [a.name, a])));
  opt2.step(new Map([["p", tf.tensor1d(g2)]]), 0.01);
  assert.deepEqual(q.dataSync(), after);
  for (const x of [opt, opt2, p, q]) x.dispose();
});

Deno.test("optim: step decay", () => {
  assert.equal(stepLr(1e-3, 1, 20), 1e-3);
  assert.equal(stepLr(1e-3, 20, 20), 1e-3);
  assert.ok(Math.abs(stepLr(1e-3, 21, 20) - 1e-4) < 1e-12);
  assert.ok(Math.abs(stepLr(1e-3, 60, 20) - 1e-5) < 1e-12);
});

Deno.test("optim: optimiser state is one tensor per slot, freed by dispose", async () => {
  await testBackend();
  const p = tf.variable(tf.tensor1d([1, 2, 3])), q = tf.variable(tf.tensor2d([[1, 2]]));
  const vars = new Map<string, tf.Variable>([["p", p], ["q", q]]);
  const before = tf.memory().numTensors;
  const sgd = new SgdMomentum(vars), adam = new Adam(vars);
  assert.equal(tf.memory().numTensors - before, 2 + 4); // momentum; m and v
  sgd.dispose();
  adam.dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([p, q]);
});
