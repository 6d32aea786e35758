import assert from "node:assert/strict";
import { initBackend } from "../../../lib/backends/mod.ts";
import { tf } from "../../../lib/core/deps.ts";
import { Rng } from "../../../lib/core/rng.ts";
import { readImage } from "../../../lib/data/mod.ts";
import {
  extractFeatures,
  PRETRAINED_DIM,
  PRETRAINED_SPEC,
  pretrainedFeatures,
  releasePretrained,
  wholeImageFeatures,
} from "../../../lib/features/mod.ts";
import { rgbImage as image, twoShippedImages, withTempDir } from "../../_helpers.ts";

Deno.test("mobilenet features: 384 bounded numbers, the same twice, texture unlike flat, no tensor left", async () => {
  await initBackend("cpu");
  await releasePretrained();
  const start = tf.memory().numTensors;
  try {
    const rng = new Rng("pretrained-test");
    const noise = image(300, 260, () => rng.int(256));
    const flat = image(300, 260, (_x, _y, c) => [90, 120, 200][c]);
    const a = await pretrainedFeatures(noise);
    const before = tf.memory().numTensors; // the network is loaded now
    const b = await pretrainedFeatures(noise);
    assert.equal(tf.memory().numTensors, before, "a call leaves no tensor behind");
    assert.equal(a.length, PRETRAINED_DIM);
    assert.deepEqual(b, a, "deterministic");
    const half = PRETRAINED_DIM / 2;
    for (let i = 0; i < half; i++) {
      // ReLU6 activations: means and maxima in [0, 6], each maximum at least its mean
      assert.ok(a[i] >= 0 && a[half + i] <= 6 + 1e-5, `channel ${i}`);
      assert.ok(a[half + i] >= a[i] - 1e-6, `channel ${i}: max below mean`);
    }
    const f = await pretrainedFeatures(flat);
    const gap = f.reduce((s, v, i) => s + Math.abs(v - a[i]), 0) / PRETRAINED_DIM;
    assert.ok(gap > 0.05, `white noise and a flat image gave the same features (${gap})`);
    // the dispatcher used by extraction and detectors gives the same vector
    assert.deepEqual(await wholeImageFeatures("mobilenet", noise), a);
  } finally {
    await releasePretrained();
  }
  assert.equal(tf.memory().numTensors, start, "releasePretrained frees the network's weights");
});

Deno.test("mobilenet features: a side under 224 px is resized up; crops see the pixels at their own scale", async () => {
  await initBackend("cpu");
  try {
    const rng = new Rng("pretrained-small");
    const small = image(120, 90, () => rng.int(256));
    const s = await pretrainedFeatures(small);
    assert.equal(s.length, PRETRAINED_DIM);
    assert.ok(s.every(Number.isFinite));
    // the same texture at twice the size (each pixel a 2 x 2 block) is not the same to the
    // network: its crops are taken at the image's resolution, not after resizing it to 224
    const base = image(256, 256, () => rng.int(256));
    const doubled = image(512, 512, (x, y, c) => base.data[((y >> 1) * 256 + (x >> 1)) * 3 + c]);
    const a = await pretrainedFeatures(base), b = await pretrainedFeatures(doubled);
    const gap = a.reduce((t, v, i) => t + Math.abs(v - b[i]), 0) / PRETRAINED_DIM;
    assert.ok(gap > 0.02, `a texture and its 2x enlargement gave the same features (${gap})`);
  } finally {
    await releasePretrained();
  }
});

Deno.test("features: mobilenet vectors are cached like residual ones, under their own definition", async () => {
  await initBackend("cpu");
  try {
    await withTempDir(async (dir) => {
      const o = await twoShippedImages("mobilenet", dir, "test-mobilenet");
      const samples = o.samples;
      const a = await extractFeatures(o);
      assert.equal(a.cached, false);
      assert.equal(a.dim, PRETRAINED_DIM);
      assert.deepEqual(
        a.data.subarray(0, PRETRAINED_DIM),
        await pretrainedFeatures(await readImage(samples[0].entry.path)),
      );
      const b = await extractFeatures(o);
      assert.equal(b.cached, true);
      assert.deepEqual(b.data, a.data);
      const saved = PRETRAINED_SPEC.crops;
      // deno-lint-ignore no-explicit-any
      (PRETRAINED_SPEC as any).crops = { ...saved, at: "elsewhere" };
      try {
        assert.equal((await extractFeatures(o)).cached, false, "another definition is not reused");
      } finally {
        // deno-lint-ignore no-explicit-any
        (PRETRAINED_SPEC as any).crops = saved;
      }
    });
  } finally {
    await releasePretrained();
  }
});
