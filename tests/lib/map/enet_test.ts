import assert from "node:assert/strict";
import { tf } from "../../../lib/core/deps.ts";
import { composes } from "../../../lib/backends/layers.ts";
import {
  ENet,
  initialValues,
  minCrop,
  PAPER,
  parameterCount,
  shapes,
  SMALL,
  srmFilter,
} from "../../../lib/map/enet.ts";
import { SRM_COUNT, SRM_KERNELS } from "../../../lib/map/srm.ts";
import { maxAbsDiff, testBackend, TINY } from "../../_helpers.ts";

Deno.test("ENet: 43,736,054 parameters at crop 233 (SRM included, BN running stats not)", () => {
  assert.equal(parameterCount(PAPER), 43_736_054);
});

Deno.test("ENet: spatial sizes at crop 233 give the 6400-wide L8 input", () => {
  assert.deepEqual(shapes(PAPER), { branch: 223, trunk: [54, 24, 10], fcIn: 6400 });
});

Deno.test("ENet: the FC input follows the crop; too small a crop is refused", () => {
  assert.equal(shapes(SMALL).fcIn, SMALL.trunk[2] * 2 * 2);
  assert.equal(shapes({ ...PAPER, crop: 256 }).fcIn, 64 * 12 * 12);
  assert.equal(minCrop(), 77);
  assert.throws(() => shapes({ ...PAPER, crop: 76 }), /too small/);
});

Deno.test("ENet: initialisation is seeded", () => {
  const a = initialValues(TINY, 7), b = initialValues(TINY, 7), c = initialValues(TINY, 8);
  assert.deepEqual(a.get("fc1.w"), b.get("fc1.w"));
  assert.notDeepEqual(a.get("fc1.w"), c.get("fc1.w"));
});

Deno.test("ENet: SRM layer as block-diagonal conv equals per-channel convolutions", async () => {
  await testBackend();
  tf.tidy(() => {
    const x = tf.randomNormal([1, 9, 9, 3], 0, 1, "float32", 3) as tf.Tensor4D;
    const filt = tf.tensor4d(initialValues(TINY, 1).get("b2.srm")!, [5, 5, 3, 30]);
    const ours = tf.conv2d(x, srmFilter(filt), 1, "valid");
    // reference: each colour channel convolved with the 30 kernels, concatenated R, G, B
    const parts = [0, 1, 2].map((c) => {
      const xc = tf.slice(x, [0, 0, 0, c], [1, 9, 9, 1]);
      const k = tf.tensor4d(SRM_KERNELS.flatMap((kk) => kk).length ? transposeKernels() : [], [
        5,
        5,
        1,
        30,
      ]);
      return tf.conv2d(xc as tf.Tensor4D, k, 1, "valid");
    });
    const ref = tf.concat(parts, 3);
    assert.deepEqual(ours.shape, [1, 5, 5, 90]);
    assert.ok(maxAbsDiff(ours.dataSync(), ref.dataSync()) < 1e-5);
  });
  function transposeKernels(): number[] {
    const out = new Array(25 * 30);
    for (let i = 0; i < 25; i++) for (let m = 0; m < 30; m++) out[i * 30 + m] = SRM_KERNELS[m][i];
    return out;
  }
});

Deno.test("ENet: forward shapes; inference is deterministic; features are non-negative", async () => {
  await testBackend();
  const net = ENet.create(TINY, 1);
  try {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 77, 77, 3], 0, 1, "float32", 5) as tf.Tensor4D;
      const a = net.forward(x, false), b = net.forward(x, false);
      assert.deepEqual(a.logits.shape, [3, 2]);
      assert.deepEqual(a.features.shape, [3, TINY.fc]);
      assert.deepEqual(a.logits.dataSync(), b.logits.dataSync());
      assert.ok(Math.min(...net.features(x).dataSync()) >= 0);
      // training mode uses dropout and batch statistics: a different output
      const t = net.forward(x, true, 1);
      assert.notDeepEqual(t.logits.dataSync(), a.logits.dataSync());
    });
  } finally {
    net.dispose();
  }
});

Deno.test("ENet: BN running statistics follow PyTorch's update rule", async () => {
  await testBackend();
  const net = ENet.create(TINY, 2);
  try {
    const moments: Parameters<ENet["forward"]>[3] = [];
    tf.tidy(() => {
      const x = tf.randomNormal([2, 77, 77, 3], 0, 1, "float32", 9) as tf.Tensor4D;
      net.forward(x, true, 0, moments);
    });
    const m = moments!.find((k) => k.name === "b1.bn2")!;
    const mean = m.mean.dataSync().slice(), variance = m.variance.dataSync().slice(), n = m.count;
    net.updateRunningStats(moments!);
    const rm = net.vars.get("b1.bn2.mean")!.dataSync(), rv = net.vars.get("b1.bn2.var")!.dataSync();
    for (let c = 0; c < mean.length; c++) {
      assert.ok(Math.abs(rm[c] - 0.1 * mean[c]) < 1e-6);
      assert.ok(Math.abs(rv[c] - (0.9 + 0.1 * variance[c] * n / (n - 1))) < 1e-5);
    }
  } finally {
    net.dispose();
  }
});

Deno.test("enet: a model leaves no tensors behind once disposed, and owns its variables' data", async () => {
  await testBackend();
  const before = tf.memory().numTensors;
  const net = ENet.create(TINY, 0);
  // one tensor per variable: no initial tensor left sharing (and pinning) the data
  assert.equal(tf.memory().numTensors - before, net.vars.size);
  net.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("enet: the SRM layer composes with the next conv, conv0 does not (arithmetic)", async () => {
  await testBackend();
  tf.tidy(() => {
    for (const cfg of [PAPER, SMALL]) {
      const next = tf.zeros([3, 3, SRM_COUNT * 3, cfg.width]) as tf.Tensor4D;
      assert.ok(composes(tf.zeros([5, 5, 3, SRM_COUNT * 3]) as tf.Tensor4D, next));
      const conv1 = tf.zeros([3, 3, cfg.conv0, cfg.width]) as tf.Tensor4D;
      assert.ok(!composes(tf.zeros([5, 5, 3, cfg.conv0]) as tf.Tensor4D, conv1));
    }
  });
});
