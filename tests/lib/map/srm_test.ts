import assert from "node:assert/strict";
import { SRM_COUNT, SRM_KERNELS, srmDepthwiseFilter } from "../../../lib/map/srm.ts";
import { PAPER, paramSpecs } from "../../../lib/map/enet.ts";

Deno.test("SRM: 30 kernels of 5x5 values", () => {
  assert.equal(SRM_COUNT, 30);
  for (const k of SRM_KERNELS) assert.equal(k.length, 25);
});

Deno.test("SRM: every kernel sums to zero and has its centre at -1", () => {
  SRM_KERNELS.forEach((k, i) => {
    const sum = k.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum) < 1e-6, `kernel ${i} sums to ${sum}`);
    assert.equal(k[12], -1, `kernel ${i} centre`);
  });
});

Deno.test("SRM: kernels are distinct", () => {
  const keys = new Set(SRM_KERNELS.map((k) => k.join(",")));
  assert.equal(keys.size, 30);
});

Deno.test("SRM: depthwise layout puts kernel m of channel c at output c*30+m", () => {
  const f = srmDepthwiseFilter(3);
  assert.equal(f.length, 25 * 3 * 30);
  for (const [i, c, m] of [[0, 0, 0], [12, 1, 5], [24, 2, 29], [7, 2, 13]]) {
    assert.equal(f[(i * 3 + c) * 30 + m], Math.fround(SRM_KERNELS[m][i]));
  }
});

Deno.test("SRM: frozen by default, trainable with trainSrm", () => {
  assert.equal(paramSpecs(PAPER).find((s) => s.name === "b2.srm")!.trainable, false);
  assert.equal(
    paramSpecs({ ...PAPER, trainSrm: true }).find((s) => s.name === "b2.srm")!.trainable,
    true,
  );
});
