/** The toolkit's own layers that need no native backend (the fused ones are in native/). */
import assert from "node:assert/strict";
import { tf } from "../../../lib/core/deps.ts";
import { composeFilters } from "../../../lib/backends/layers.ts";
import { Rng } from "../../../lib/core/rng.ts";
import { testBackend } from "../../_helpers.ts";

function rand(shape: number[], seed: number): tf.Tensor4D {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, () => r.normal()), shape as never);
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

Deno.test("ops: a composed filter equals its two convolutions in a row, gradients included", async () => {
  await testBackend();
  tf.tidy(() => {
    // odd sizes and a non-square kernel, so a transposed or flipped axis cannot go unnoticed
    const x = rand([2, 13, 11, 3], 1), w0 = rand([5, 4, 3, 7], 2), w1 = rand([3, 2, 7, 6], 3);
    const twice = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      tf.conv2d(tf.conv2d(x, a, 1, "valid"), b, 1, "valid");
    const once = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(x, composeFilters(a, b), 1, "valid");
    assert.deepEqual(composeFilters(w0, w1).shape, [7, 5, 3, 6]);
    const want = twice(w0, w1), got = once(w0, w1);
    assert.ok(maxDiff(got, want) < 1e-4, `values differ by ${maxDiff(got, want)}`);
    const weight = rand(want.shape, 4);
    const loss = (f: typeof once) => (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), weight));
    const [g0, g1] = tf.grads(loss(twice))([w0, w1]), [h0, h1] = tf.grads(loss(once))([w0, w1]);
    assert.ok(maxDiff(g0, h0) < 1e-3 && maxDiff(g1, h1) < 1e-3, "gradients differ");
  });
});
