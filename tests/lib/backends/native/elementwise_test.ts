/**
 * The element-wise loops against tfjs's reference `cpu` kernels, bit for bit, on random shapes:
 * broadcasting in every pattern, sums over any adjacent axes, slices and pads.
 */
import assert from "node:assert/strict";
import { tf } from "../../../../lib/core/deps.ts";
import * as ew from "../../../../lib/backends/native/elementwise.ts";
import { Rng } from "../../../../lib/core/rng.ts";

await tf.setBackend("cpu");

function rand(n: number, r: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => r.normal());
}

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** A random shape of rank 0-4 with small dimensions, some of them 1. */
function shape(r: Rng): number[] {
  const rank = Math.floor(r.next() * 5);
  return Array.from({ length: rank }, () => (r.next() < 0.3 ? 1 : 1 + Math.floor(r.next() * 5)));
}

/** `b`: a shape broadcastable with `a`, made by dropping leading dims and setting some to 1. */
function partner(a: number[], r: Rng): number[] {
  const drop = Math.floor(r.next() * (a.length + 1));
  return a.slice(drop).map((d) => (r.next() < 0.4 ? 1 : d));
}

function sameBits(got: Float32Array, want: Float32Array, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${what}[${i}]: ${got[i]} != tfjs ${want[i]}`);
  }
}

Deno.test("elementwise: broadcast add/sub/mul/div equal tfjs's bit for bit", () => {
  const r = new Rng("ew-binary");
  const ops = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;
  for (let trial = 0; trial < 300; trial++) {
    let as = shape(r), bs = partner(as, r);
    if (r.next() < 0.5) [as, bs] = [bs, as];
    const a = rand(size(as), r), b = rand(size(bs), r);
    if (trial % 7 === 0 && b.length) b[0] = 0; // division by zero, and a NaN from 0/0
    if (trial % 11 === 0 && a.length) a[0] = 0;
    for (const op of Object.keys(ops) as ew.BinaryOp[]) {
      const want = tf.tidy(() => ops[op](tf.tensor(a, as), tf.tensor(b, bs)));
      assert.deepEqual(ew.broadcastShape(as, bs), want.shape);
      const out = new Float32Array(want.size);
      ew.binary(op, a, as, b, bs, out);
      sameBits(out, want.dataSync() as Float32Array, `${op} [${as}] [${bs}]`);
      want.dispose();
    }
  }
  assert.equal(ew.broadcastShape([2, 3], [4, 3]), null);
  assert.throws(
    () =>
      ew.binary("add", new Float32Array(6), [2, 3], new Float32Array(2), [2], new Float32Array(6)),
    /do not broadcast/,
  );
});

Deno.test("elementwise: sums over adjacent axes equal tfjs's bit for bit; others are refused", () => {
  const r = new Rng("ew-sum");
  let done = 0, refused = 0;
  for (let trial = 0; trial < 300; trial++) {
    const xs = shape(r).map((d) => d * 3); // long enough for rounding to matter
    const axes = xs.map((_, i) => i).filter(() => r.next() < 0.5);
    const x = rand(size(xs), r);
    const want = tf.tidy(() => tf.sum(tf.tensor(x, xs), axes));
    const out = new Float32Array(want.size);
    if (ew.sum(x, xs, axes, out)) {
      sameBits(out, want.dataSync() as Float32Array, `sum [${xs}] over [${axes}]`);
      done++;
    } else {
      assert.ok(axes.some((d, i) => i > 0 && d !== axes[i - 1] + 1), `refused [${axes}]`);
      refused++;
    }
    want.dispose();
  }
  assert.ok(done > 200 && refused > 10, `${done} summed, ${refused} refused`);
  // nothing of size > 1 reduced: a copy, writing nothing past the output
  const x = rand(4096, r), out = new Float32Array(4096 + 16).fill(7);
  assert.ok(ew.sum(x, [64, 1, 64], [1], out));
  sameBits(out.subarray(0, 4096), x, "sum over a size-1 axis");
  assert.ok(out.subarray(4096).every((v) => v === 7), "wrote past the output");
});

Deno.test("elementwise: step keeps NaN and maps the rest to 1 or alpha", () => {
  const out = new Float32Array(4);
  ew.step(new Float32Array([2, 0, -1, NaN]), 0.5, out);
  assert.deepEqual([...out], [1, 0.5, 0.5, NaN]);
});

Deno.test("elementwise: slices and pads equal tfjs's", () => {
  const r = new Rng("ew-slice");
  for (let trial = 0; trial < 200; trial++) {
    const xs = shape(r);
    if (xs.length === 0) xs.push(3); // tfjs refuses to slice a scalar
    const x = rand(size(xs), r);
    const begin = xs.map((d) => Math.floor(r.next() * d));
    const sz = xs.map((d, i) => Math.floor(r.next() * (d - begin[i] + 1)));
    const want = tf.tidy(() => tf.slice(tf.tensor(x, xs), begin, sz));
    const out = new Float32Array(want.size);
    ew.slice(x, xs, begin, sz, out);
    sameBits(out, want.dataSync() as Float32Array, `slice [${xs}] at [${begin}] size [${sz}]`);
    want.dispose();

    const before = xs.map(() => Math.floor(r.next() * 3)),
      after = xs.map(() => Math.floor(r.next() * 3));
    const padded = tf.tidy(() =>
      tf.pad(tf.tensor(x, xs), xs.map((_, i) => [before[i], after[i]] as [number, number]), 1.5)
    );
    const pout = new Float32Array(padded.size);
    ew.pad(x, xs, before, after, 1.5, pout);
    sameBits(pout, padded.dataSync() as Float32Array, `pad [${xs}] by [${before}]/[${after}]`);
    padded.dispose();
  }
});
