/**
 * The linear head as an estimator: the fit is the optimum of scikit-learn's objective (checked
 * by its gradient, computed here independently), the threshold is the quantile of out-of-fold
 * p(CG) over whole sources (each fold refitted here), and the saved form round-trips and is
 * checked when read.
 */
import assert from "node:assert/strict";
import { ModelError, UsageError } from "../../../lib/core/errors.ts";
import { Rng } from "../../../lib/core/rng.ts";
import { quantile } from "../../../lib/core/stats.ts";
import { DIRECT_NEWTON_MAX, LINEAR_HEAD_FORMAT, LogisticHead } from "../../../lib/head/logistic.ts";

/** Photographs of eight sources (each source shifted a little) and renders, seeded. */
function data(n = 240, d = 6, seed = "head-data") {
  const rng = new Rng(seed), x = new Float32Array(n * d), y: number[] = [], groups: number[] = [];
  const shift = Array.from({ length: 8 }, () => rng.normal() * 0.5);
  for (let i = 0; i < n; i++) {
    const render = i % 3 === 0 ? 1 : 0;
    y.push(render);
    groups.push(render ? 1000 + i : i % 8);
    for (let j = 0; j < d; j++) {
      x[i * d + j] = rng.normal() + (render ? 0.8 * (j % 2 ? 1 : -0.5) : shift[i % 8]);
    }
    x[i * d + d - 1] = 3; // a constant column: left unscaled, weight 0
  }
  return { x, y, groups, n, d };
}

Deno.test("linear head: the fit is the optimum of the L2, class-balanced logistic objective", () => {
  const { x, y, groups, n, d } = data();
  const h = new LogisticHead({ c: 0.1 }).fit(x, n, d, y, groups);
  const s = h.toJSON();
  assert.equal(s.format, LINEAR_HEAD_FORMAT);
  assert.equal(s.scale[d - 1], 1); // the constant column is not scaled
  assert.ok(Math.abs(s.weights[d - 1]) < 1e-9);
  // the gradient of ½‖w‖² + C Σ sᵢ log(1 + exp(−yᵢ(w·zᵢ + b))), at the fit, is zero
  const pos = y.filter((v) => v === 1).length;
  const grad = new Float64Array(d + 1);
  for (let j = 0; j < d; j++) grad[j] = s.weights[j];
  for (let i = 0; i < n; i++) {
    let t = s.intercept;
    const z: number[] = [];
    for (let j = 0; j < d; j++) {
      const mean = x.filter((_, k) => k % d === j).reduce((a, v) => a + v, 0) / n;
      assert.ok(Math.abs(mean - s.mean[j]) < 1e-5);
      z.push((x[i * d + j] - s.mean[j]) / s.scale[j]);
      t += s.weights[j] * z[j];
    }
    const weight = n / (2 * (y[i] ? pos : n - pos)),
      g = 0.1 * weight * (1 / (1 + Math.exp(-t)) - y[i]);
    for (let j = 0; j < d; j++) grad[j] += g * z[j];
    grad[d] += g;
  }
  assert.ok(Math.max(...grad.map(Math.abs)) < 1e-6, `gradient ${[...grad]}`);
  // and the fit separates: the renders' p(CG) above the photographs' on the whole
  const p = h.pCg(x, n);
  const mean = (r: number) => {
    const of = p.filter((_, i) => y[i] === r);
    return of.reduce((a, v) => a + v, 0) / of.length;
  };
  assert.ok(mean(1) > 0.5 && mean(0) < 0.5, `${mean(1)} ${mean(0)}`);
});

Deno.test("linear head: wide features (Newton steps by conjugate gradients) reach the optimum too", () => {
  const d = DIRECT_NEWTON_MAX + 44; // wider than the direct solver takes
  const { x, y, groups, n } = data(300, d, "head-wide");
  const h = new LogisticHead({ c: 0.1 }).fit(x, n, d, y, groups);
  const s = h.toJSON();
  // the gradient of the objective at the fit, computed here row by row, is zero
  const pos = y.filter((v) => v === 1).length;
  const grad = Float64Array.from({ length: d + 1 }, (_, j) => j < d ? s.weights[j] : 0);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: d }, (_, j) => (x[i * d + j] - s.mean[j]) / s.scale[j]);
    const t = z.reduce((a, v, j) => a + v * s.weights[j], s.intercept);
    const g = 0.1 * (n / (2 * (y[i] ? pos : n - pos))) * (1 / (1 + Math.exp(-t)) - y[i]);
    z.forEach((v, j) => grad[j] += g * v);
    grad[d] += g;
  }
  assert.ok(Math.max(...grad.map(Math.abs)) < 1e-8, `gradient ${Math.max(...grad.map(Math.abs))}`);
});

Deno.test("linear head: the threshold is the quantile of out-of-fold p(CG), folds of whole sources", () => {
  const { x, y, groups, n, d } = data();
  const h = new LogisticHead({ nu: 0.1, folds: 4, seed: 3 }).fit(x, n, d, y, groups);
  // the folds as the head deals them: the sorted groups, shuffled, dealt round robin
  const ids = [...new Set(groups)].sort((a, b) => a - b);
  const order = new Rng("head-folds:3").shuffle([...ids]);
  const foldOf = new Map(order.map((g, i) => [g, i % 4]));
  const oof: number[] = [];
  for (let f = 0; f < 4; f++) {
    const fit = [...Array(n).keys()].filter((i) => foldOf.get(groups[i]) !== f);
    const held = [...Array(n).keys()].filter((i) => foldOf.get(groups[i]) === f && y[i] === 0);
    const xs = new Float32Array(fit.length * d);
    fit.forEach((i, r) => xs.set(x.subarray(i * d, (i + 1) * d), r * d));
    // a head fitted on the fold's rows alone: its model is the fold's model
    const m = new LogisticHead({ folds: 2 }).fit(
      xs,
      fit.length,
      d,
      fit.map((i) => y[i]),
      fit.map((i) => groups[i]),
    );
    for (const i of held) oof.push(m.pCg(x.subarray(i * d, (i + 1) * d), 1)[0]);
  }
  assert.equal(oof.length, n - n / 3); // every photograph once, out of its own source's fold
  assert.deepEqual(h.reference, oof.sort((a, b) => a - b));
  assert.equal(h.threshold, quantile(oof, 0.9));
  // a photograph never sets its own threshold: in-sample p(CG) would be lower
  const inSample = quantile(h.pCg(x, n).filter((_, i) => y[i] === 0), 0.9);
  assert.notEqual(inSample, h.threshold);
  assert.deepEqual(h.predict(x, n), Uint8Array.from(h.pCg(x, n), (p) => p >= h.threshold ? 1 : 0));
});

Deno.test("linear head: saved and read back, the same p(CG); a damaged file is refused, named", () => {
  const { x, y, groups, n, d } = data(90, 4, "small");
  const h = new LogisticHead().fit(x, n, d, y, groups);
  h.provenance = { features: "residual" };
  const back = LogisticHead.fromJSON(JSON.parse(JSON.stringify(h.toJSON())), "h.json");
  assert.deepEqual(back.pCg(x, n), h.pCg(x, n));
  assert.equal(back.threshold, h.threshold);
  assert.deepEqual(back.provenance, { features: "residual" });
  const s = h.toJSON();
  for (
    const bad of [
      { ...s, format: "cgvsni-linear-head/0" },
      { ...s, scale: s.scale.map(() => 0) },
      { ...s, mean: s.mean.slice(1) },
      { ...s, weights: [] },
      { ...s, threshold: 2 },
      { ...s, reference: [NaN] },
    ]
  ) {
    assert.throws(
      () => LogisticHead.fromJSON(bad, "dir/head.json"),
      (e) => e instanceof ModelError && /dir\/head\.json/.test(e.message),
    );
  }
  assert.throws(() => back.pCg(new Float32Array(d + 1), 1), ModelError); // another length
  assert.throws(() => new LogisticHead().pCg(x, n), ModelError); // not fitted
});

Deno.test("linear head: one class, one source or bad settings are refused", () => {
  const { x, groups, n, d } = data(30, 3);
  assert.throws(() => new LogisticHead().fit(x, n, d, new Array(n).fill(0), groups), UsageError);
  assert.throws(
    () =>
      new LogisticHead().fit(
        x,
        n,
        d,
        Array.from({ length: n }, (_, i) => i % 2),
        new Array(n).fill(0),
      ),
    /at least 2 groups/,
  );
  assert.throws(() => new LogisticHead({ c: 0 }), UsageError);
  assert.throws(() => new LogisticHead({ nu: 1 }), UsageError);
  assert.throws(() => new LogisticHead({ folds: 1 }), UsageError);
});
