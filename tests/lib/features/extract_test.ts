import assert from "node:assert/strict";
import { join } from "node:path";
import { ImageStore, loadDataset } from "../../../lib/data/mod.ts";
import {
  adoptFeatures,
  cachedSamples,
  extractFeatures,
  extractFeatureShard,
  RESIDUAL_SPEC,
} from "../../../lib/features/mod.ts";
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

Deno.test("features: a file replaced under the same name is computed again, by lists, slices and adopted lists", async () => {
  await withTempDir(async (dir) => {
    // two images under names of our own, in a folder the test may overwrite
    const ds = await loadDataset("dataset");
    const [a, b, c] = ds.images.filter((e) => e.label !== 0).slice(0, 3);
    await Deno.mkdir(join(dir, "imgs"));
    const entries = [a, b].map((e, i) => ({
      ...e,
      name: `img${i}.png`,
      path: join(dir, "imgs", `img${i}.png`),
      role: "test" as const,
    }));
    for (const [i, e] of [a, b].entries()) await Deno.copyFile(e.path, entries[i].path);
    const samples = entries.map((entry) => ({ entry, tile: 0 }));
    const store = new ImageStore(), view = { kind: "full" as const };
    const o = { source: "residual" as const, samples, store, view };
    const run = join(dir, "run"), other = join(dir, "other");
    const before = await extractFeatures({ ...o, cache: { dir: run, key: "all" } });
    await extractFeatureShard({ ...o, dir: run, shard: { index: 1, count: 1 } });
    await extractFeatures({ ...o, cache: { dir: other, key: "all" } });
    assert.equal(
      (await extractFeatures({ ...o, cache: { dir: run, key: "slices" } })).cached,
      true,
    );
    // what is cached, image by image: these files, not another source's nor other pixels'
    assert.deepEqual(await cachedSamples(run, o), [true, true]);
    assert.deepEqual(await cachedSamples(other, o), [true, true]);
    assert.deepEqual(await cachedSamples(run, { ...o, source: "profile" }), [false, false]);
    const jpeg = new ImageStore({ jpegQuality: 75 });
    assert.deepEqual(await cachedSamples(run, { ...o, store: jpeg }), [false, false]);
    assert.deepEqual(await cachedSamples(join(dir, "none"), o), [false, false]);

    // the second image is replaced by another render under the same name: every cached form of
    // it is passed over, and its row is the new file's
    await Deno.copyFile(c.path, entries[1].path);
    assert.deepEqual(await cachedSamples(run, o), [true, false]);
    const want = await extractFeatures(o);
    const dim = want.dim;
    assert.notDeepEqual(want.data.slice(dim), before.data.slice(dim));
    assert.deepEqual(want.data.slice(0, dim), before.data.slice(0, dim));
    const list = await extractFeatures({ ...o, cache: { dir: run, key: "all" } });
    assert.equal(list.cached, false);
    assert.deepEqual(list.data, want.data);
    const fromSlices = await extractFeatures({ ...o, cache: { dir: run, key: "slices-2" } });
    assert.equal(fromSlices.cached, false);
    assert.deepEqual(fromSlices.data, want.data);
    // the slice computed again for the new file (not kept as it was) serves the list once more
    await extractFeatureShard({ ...o, dir: run, shard: { index: 1, count: 1 } });
    const again = await extractFeatures({ ...o, cache: { dir: run, key: "slices-3" } });
    assert.equal(again.cached, true);
    assert.deepEqual(again.data, want.data);
    const mine = join(dir, "mine");
    assert.equal(await adoptFeatures([other], mine, { source: "residual", store }), 1);
    assert.deepEqual(await cachedSamples(mine, o), [true, false]); // the adopted slice alone
    const adopted = await extractFeatures({ ...o, cache: { dir: mine, key: "all" } });
    assert.equal(adopted.cached, false);
    assert.deepEqual(adopted.data, want.data);
    // the unchanged first image is still found in the adopted list
    const first = await extractFeatures({
      ...o,
      samples: samples.slice(0, 1),
      cache: { dir: mine, key: "one" },
    });
    assert.equal(first.cached, true);
    assert.deepEqual(first.data, before.data.slice(0, dim));
  });
});
