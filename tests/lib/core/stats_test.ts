import assert from "node:assert/strict";
import { Rng } from "../../../lib/core/rng.ts";
import {
  fisherQuantile,
  fisherScore,
  mean,
  meanPerImage,
  quantile,
  upperTail,
  weightedQuantile,
} from "../../../lib/core/stats.ts";

Deno.test("stats: Fisher's quantiles are the chi-square(2k) quantiles", () => {
  // chi-square(2) is exponential: its q quantile is -2 ln(1 - q)
  for (const q of [0.5, 0.9, 0.95, 0.99]) {
    assert.ok(Math.abs(fisherQuantile(1, q) - -2 * Math.log(1 - q)) < 1e-9, `${q}`);
  }
  // tabulated chi-square quantiles: 4 and 6 degrees of freedom at 0.95, 4 at 0.99
  assert.ok(Math.abs(fisherQuantile(2, 0.95) - 9.48773) < 1e-4);
  assert.ok(Math.abs(fisherQuantile(3, 0.95) - 12.59159) < 1e-4);
  assert.ok(Math.abs(fisherQuantile(2, 0.99) - 13.2767) < 1e-4);
  assert.throws(() => fisherQuantile(0, 0.95), RangeError);
  assert.throws(() => fisherQuantile(2, 1), RangeError);
});

Deno.test("stats: two independent uniform p-values are over Fisher's threshold about nu of the time", () => {
  const rng = new Rng(7), n = 40000;
  let over = 0;
  for (let i = 0; i < n; i++) {
    if (fisherScore([rng.next() || 1e-12, rng.next() || 1e-12]) > 0) over++;
  }
  assert.ok(Math.abs(over / n - 0.05) < 0.005, `${over / n}`);
  // and at another nu
  let over10 = 0;
  for (let i = 0; i < n; i++) {
    if (fisherScore([rng.next() || 1e-12, rng.next() || 1e-12], 0.1) > 0) over10++;
  }
  assert.ok(Math.abs(over10 / n - 0.1) < 0.007, `${over10 / n}`);
});

Deno.test("stats: an upper-tail p-value counts the references at or above, and is never 0", () => {
  const ref = [0.1, 0.2, 0.2, 0.9];
  assert.deepEqual([0, 0.2, 0.21, 0.9, 5].map((v) => upperTail(ref, v)), [1, 0.8, 0.4, 0.4, 0.2]);
  // a reference image scored against its own references lands at its rank: uniform on photographs
  const rng = new Rng(3), big = Array.from({ length: 999 }, () => rng.normal());
  const tails = big.map((v) => upperTail(big, v));
  assert.ok(Math.abs(quantile(tails, 0.5) - 0.5) < 0.01);
});

Deno.test("stats: the mean per image follows each value's image, in any order, NaN for none", () => {
  // values of three images interleaved; image 3 has none
  const values = [1, 10, 2, 20, 3, 100], image = [0, 1, 0, 1, 0, 2];
  assert.deepEqual(meanPerImage(values, image, 4), [2, 15, 100, NaN]);
  // the same values in another order give the same means
  const order = [5, 3, 1, 4, 2, 0];
  assert.deepEqual(
    meanPerImage(order.map((i) => values[i]), order.map((i) => image[i]), 4),
    [2, 15, 100, NaN],
  );
  // sums are in double precision: float32 values average without float32 rounding
  const f = Float32Array.from([0.1, 0.2]);
  assert.equal(meanPerImage(f, [0, 0], 1)[0], (f[0] + f[1]) / 2);
});

Deno.test("stats: mean sums in order and is NaN for no values", () => {
  assert.equal(mean([1, 2, 4.5]), 2.5);
  assert.equal(mean(new Float32Array([0.5, 0.25])), 0.375);
  assert.ok(Number.isNaN(mean([])));
  // summed in double precision: 1e8 + 1 + ... would lose the ones in single precision
  assert.equal(mean([1e8, 1, 1, 1, 1]), (1e8 + 4) / 5);
});

Deno.test("stats: a weighted quantile, worked by hand; equal weights give the plain quantile", () => {
  // [1, 2, 3, 4] weighted [1, 1, 1, 3]: levels (C - w/2 - 1/2) / (6 - 1/2 - 3/2) = 0, 1/4, 1/2, 1
  const v = [4, 2, 1, 3], w = [3, 1, 1, 1]; // unsorted: sorted with their weights
  for (const [q, want] of [[0, 1], [0.125, 1.5], [0.25, 2], [0.5, 3], [0.75, 3.5], [1, 4]]) {
    assert.ok(
      Math.abs(weightedQuantile(v, w, q) - want) < 1e-12,
      `${q}: ${weightedQuantile(v, w, q)}`,
    );
  }
  // equal weights, any scale: numpy's default quantile, ties included
  const r = new Rng(3), xs = Array.from({ length: 37 }, () => Math.round(r.normal() * 4));
  for (let q = 0; q <= 1; q += 0.05) {
    const a = weightedQuantile(xs, xs.map(() => 2.5), q), b = quantile(xs, q);
    assert.ok(Math.abs(a - b) < 1e-9, `${q}: ${a} vs ${b}`);
  }
  assert.equal(weightedQuantile([7], [0.1], 0.3), 7);
  assert.throws(() => weightedQuantile([], [], 0.5), /no values/);
  assert.throws(() => weightedQuantile([1, 2], [1], 0.5), /2 values but 1 weights/);
  assert.throws(() => weightedQuantile([1, 2], [1, -1], 0.5), /positive and finite, got -1 at 1/);
  assert.throws(() => weightedQuantile([1, 2], [1, NaN], 0.5), /positive and finite/);
  assert.throws(() => weightedQuantile([1, 2], [1, 1], 1.5), /in \[0, 1\]/);
});
