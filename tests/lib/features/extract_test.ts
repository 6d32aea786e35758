import assert from "node:assert/strict";
import { extractFeatures, RESIDUAL_SPEC } from "../../../lib/features/mod.ts";
import { twoShippedImages, withTempDir } from "../../_helpers.ts";

Deno.test("features: the cache is reused for the same inputs, and not when the residual definition changed", async () => {
  await withTempDir(async (dir) => {
    const o = await twoShippedImages("residual", dir, "test-residual");
    const a = await extractFeatures(o);
    assert.equal(a.cached, false);
    const b = await extractFeatures(o);
    assert.equal(b.cached, true);
    assert.deepEqual(b.data, a.data);
    // the definition changes but keeps its version number (as while a version is being written):
    // the cache was written under the old one and is not reused
    const saved = RESIDUAL_SPEC.truncation;
    RESIDUAL_SPEC.truncation = saved + 1;
    let c;
    try {
      c = await extractFeatures(o);
    } finally {
      RESIDUAL_SPEC.truncation = saved;
    }
    assert.equal(c.cached, false);
    assert.deepEqual(c.data, a.data);
  });
});
