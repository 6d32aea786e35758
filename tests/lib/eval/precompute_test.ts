/**
 * Feature vectors computed ahead in slices (`features --shard i/N`, an experiment's `features-*`
 * units): the one-class fit and the evaluation that read them give exactly what they give when
 * they compute every vector themselves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeProgress } from "../../../lib/core/progress.ts";
import { evaluate } from "../../../lib/eval/evaluate.ts";
import { precomputeFeatures } from "../../../lib/eval/precompute.ts";
import type { FeatureSource } from "../../../lib/features/sources.ts";
import { trainMap } from "../../../lib/map/train.ts";
import type { OneClassKind } from "../../../lib/oneclass/estimator.ts";
import { trainOneClass } from "../../../lib/oneclass/train.ts";
import { main } from "../../../cli/main.ts";
import { SHIPPED, shippedSubset, testBackend, tinyRowMap, withTempDir } from "../../_helpers.ts";

const quiet = makeProgress({ quiet: true });

/** Fits and evaluates a one-class model on a map run; returns the model's bytes and the scores. */
async function fitAndScore(runs: string, features: FeatureSource, oneclass: OneClassKind) {
  const r = await trainOneClass({
    map: "m",
    runs,
    features,
    oneclass,
    tiles: 2,
    settings: oneclass === "flow" ? { hidden: 16, depth: 1, epochs: 3, batchSize: 8 } : {},
    progress: quiet,
  });
  const ev = await evaluate({
    map: "m",
    oneclass: r.run.split("/").pop(),
    runs,
    tiles: 2,
    bootstrap: 20,
    noControls: true,
    progress: quiet,
  });
  return {
    model: await Deno.readFile(join(r.run, "oneclass.bin")),
    images: ev.images,
    results: ev.results,
  };
}

/**
 * Trains the tiny map run `m` on `csv`'s images into `runs`, and copies it into `copy` (the same
 * map in a second runs folder, whose features folder starts empty).
 */
async function tinyMapIn(csv: string, runs: string, copy?: string): Promise<void> {
  await trainMap({
    ...tinyRowMap(csv),
    data: SHIPPED,
    runs,
    name: "m",
    renderer: "EEVEE",
    progress: quiet,
  });
  if (copy) {
    await Deno.mkdir(copy);
    await new Deno.Command("cp", { args: ["-r", join(runs, "m"), copy] }).output();
  }
}

/** The lists a stage computed itself (saved whole in `features/`), not put together from slices. */
async function listsComputed(runs: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(join(runs, "m", "features"))))
    .map((e) => e.name).filter((n) => n.endsWith(".json")).sort();
}

for (
  const [features, oneclass] of [["l9", "flow"], ["residual", "knn"]] as [
    FeatureSource,
    OneClassKind,
  ][]
) {
  Deno.test(`precompute: ${features} vectors in 3 slices give the ${oneclass} fit and evaluation of one process, bit for bit`, async () => {
    await testBackend();
    await withTempDir(async (dir) => {
      const csv = await shippedSubset(dir);
      const one = join(dir, "one"), sliced = join(dir, "sliced");
      await tinyMapIn(csv, one, sliced);

      const direct = await fitAndScore(one, features, oneclass);
      assert.ok((await listsComputed(one)).length >= 2, "the direct run computes its lists");

      // three slices, the last first: order does not matter
      const files: string[] = [];
      for (const index of [3, 1, 2]) {
        files.push(
          ...await precomputeFeatures({
            runs: sliced,
            map: "m",
            features,
            tiles: 2,
            evalTiles: 2,
            shard: { index, count: 3 },
            progress: quiet,
          }),
        );
      }
      assert.ok(files.every((f) => /shard-000[123]-of-0003$/.test(f)), files.join(" "));
      const ahead = await fitAndScore(sliced, features, oneclass);
      // every list came from the slices (none was computed and saved whole)
      assert.deepEqual(await listsComputed(sliced), []);
      assert.deepEqual(ahead.model, direct.model);
      assert.deepEqual(ahead.images, direct.images);
      assert.deepEqual(ahead.results, direct.results);
    });
  });
}

Deno.test("precompute: with a slice missing the stages compute their lists themselves, with the same result; a slice computed again is kept", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const csv = await shippedSubset(dir);
    const one = join(dir, "one"), half = join(dir, "half");
    await tinyMapIn(csv, one, half);
    const direct = await fitAndScore(one, "residual", "knn");
    const slice = () =>
      precomputeFeatures({
        runs: half,
        map: "m",
        features: "residual",
        evalTiles: 2,
        shard: { index: 1, count: 2 },
        progress: quiet,
      });
    const [file] = await slice();
    const stamp = (await Deno.stat(`${file}.bin`)).mtime!.getTime();
    await slice(); // the same slice again (a unit run again): nothing computed
    assert.equal((await Deno.stat(`${file}.bin`)).mtime!.getTime(), stamp);
    const r = await fitAndScore(half, "residual", "knn");
    assert.ok((await listsComputed(half)).length >= 2, "the lists were computed whole");
    assert.deepEqual(r.model, direct.model);
    assert.deepEqual(r.images, direct.images);
  });
});

Deno.test("features --shards N: a graph of one sliced unit run here, every slice written; bad flags refused", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const csv = await shippedSubset(dir);
    const runs = join(dir, "runs");
    await tinyMapIn(csv, runs);
    const base = ["features", "--map", "m", "--runs", runs, "--features", "residual", "--quiet"];
    assert.equal(await main([...base, "--shards", "2"]), 0);
    const graph = JSON.parse(await Deno.readTextFile(join(runs, "m/features/graph.json")));
    assert.deepEqual(graph.units.map((u: { id: string; shards: number }) => [u.id, u.shards]), [
      ["features", 2],
    ]);
    // the one-class source's vectors (pool and test) and the head's L9 with p(CG) (test), each
    // in two slices
    const shards = join(runs, "m/features/shards");
    const folders = (await Array.fromAsync(Deno.readDir(shards))).map((e) => e.name).sort();
    assert.deepEqual(folders.map((f) => f.split("-")[0]), ["l9", "residual"]);
    for (const f of folders) {
      const files = (await Array.fromAsync(Deno.readDir(join(shards, f)))).map((e) => e.name);
      assert.deepEqual(files.sort(), [
        "shard-0001-of-0002.bin",
        "shard-0001-of-0002.json",
        "shard-0002-of-0002.bin",
        "shard-0002-of-0002.json",
      ]);
    }
    assert.equal(await main([...base, "--shards", "2", "--shard", "1/2"]), 2);
    assert.equal(await main(["features", "--runs", runs]), 2);
    assert.equal(await main([...base, "--shard", "3/2"]), 2);
  });
});
