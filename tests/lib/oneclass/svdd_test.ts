import assert from "node:assert/strict";
import { tf } from "../../../lib/core/deps.ts";
import {
  fractionInside,
  initCenter,
  quantile,
  radiusFor,
  scores,
  sqDistances,
  svddLoss,
} from "../../../lib/oneclass/svdd.ts";
import { rocAuc } from "../../../lib/eval/metrics.ts";
import { testBackend } from "../../_helpers.ts";

Deno.test("svdd: quantile interpolates linearly like numpy", () => {
  const v = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
  assert.equal(quantile(v, 0), 1);
  assert.equal(quantile(v, 1), 9);
  assert.equal(quantile(v, 0.5), 3.5);
  assert.ok(Math.abs(quantile(v, 0.95) - 7.65) < 1e-12); // numpy.quantile(v, 0.95) = 7.65
  assert.throws(() => quantile([], 0.5), /no values/);
});

Deno.test("svdd: the radius is the (1 - nu) quantile of the distances", () => {
  const d = [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]; // squared distances: distances 1..10
  assert.ok(Math.abs(radiusFor(d, 0.1) - 9.1) < 1e-12); // quantile([1..10], 0.9) = 9.1
  assert.equal(fractionInside(d, 9.1), 0.9);
  assert.deepEqual([...scores([1, 4], 1.5)], [-1.25, 1.75]);
});

Deno.test("svdd: centre is the mean, coordinates near 0 pushed to +-eps", () => {
  const z = new Float32Array([1, 0.02, -0.03, 0, 3, 0.04, -0.05, 0]); // 2 rows of 4
  const c = initCenter(z, 2, 4, 0.1);
  assert.deepEqual([...c], [2, 0.1, -0.1, 0].map(Math.fround));
});

Deno.test("svdd: the loss on a hand-computed example", async () => {
  await testBackend();
  tf.tidy(() => {
    const z = tf.tensor2d([[0, 0], [3, 4], [1, 0]]);
    const c = tf.tensor1d([0, 0]);
    const d = sqDistances(z, c);
    assert.deepEqual([...d.dataSync()], [0, 25, 1]);
    // R = 2: R^2 + mean(max(0, d - 4)) / nu = 4 + (0 + 21 + 0) / 3 / 0.5 = 18
    assert.ok(Math.abs(svddLoss(d, 2, 0.5).dataSync()[0] - 18) < 1e-5);
    // R = 0: mean(d) / nu = (26 / 3) / 0.1
    assert.ok(Math.abs(svddLoss(d, 0, 0.1).dataSync()[0] - 260 / 3) < 1e-4);
  });
});

Deno.test("metrics: ROC AUC with ties, perfect and inverted separations", () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(rocAuc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
  assert.equal(rocAuc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
  assert.equal(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.equal(rocAuc([0.5, 0.5, 0.7], [0, 1, 1]), 0.75); // the tie counts one half
  assert.throws(
    () => rocAuc([1, 2], [1, 1]),
    /needs both classes; got 2 computer-generated and 0 natural/,
  );
});
