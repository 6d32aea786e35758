import assert from "node:assert/strict";
import { join } from "node:path";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { readMetrics } from "../../../lib/runs/folder.ts";
import { trainOneClass, type TrainOneClassOptions } from "../../../lib/oneclass/train.ts";
import { loadOneClass } from "../../../lib/oneclass/io.ts";
import { trainMap } from "../../../lib/map/train.ts";
import { RESIDUAL_DIM, RESIDUAL_PARTS } from "../../../lib/features/residual.ts";
import { GaussianOneClass } from "../../../lib/oneclass/gauss.ts";
import { SHIPPED, testBackend, withTempDir } from "../../_helpers.ts";

const quiet = makeProgress({ quiet: true });

/** A one-epoch map run on 16 photographs and 10 POV-Ray renders, 2x2 crops per image. */
async function mapRun(dir: string): Promise<string> {
  const ds = await loadDataset(SHIPPED);
  const rows = [
    ...ds.images.filter((i) => i.label === 0).slice(0, 16),
    ...ds.images.filter((i) => i.label === 3).slice(0, 10),
  ]
    .map((i) => `${i.name},${i.label === 0 ? 0 : 1}`);
  await Deno.writeTextFile(join(dir, "subset.csv"), ["Name,Label", ...rows].join("\n") + "\n");
  await trainMap({
    data: SHIPPED,
    csv: join(dir, "subset.csv"),
    runs: join(dir, "runs"),
    name: "map",
    crop: 80,
    width: 4,
    fc: 16,
    tiles: 2,
    epochs: 1,
    batchSize: 8,
    naturalSplit: "0.25,0.125,0.375,0.25",
    cgSplit: "0.6,0.2,0.2",
    progress: quiet,
  });
  return join(dir, "runs");
}

const small = (runs: string, extra: Partial<TrainOneClassOptions> = {}): TrainOneClassOptions => ({
  map: "map",
  runs,
  settings: { hidden: 16, depth: 1, epochs: 6, nu: 0.1, batchSize: 8 },
  progress: quiet,
  ...extra,
});

Deno.test("train-oneclass: the flow trains, puts 1 - nu of its training vectors inside, caches features", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const runs = await mapRun(dir);
    const res = await trainOneClass(small(runs));
    const s = res.summary!;
    assert.equal(s.vectors, 24); // 6 pool images x 2x2 crops
    assert.equal(s.images, 6);
    assert.equal(s.thresholdFrom, "train"); // R², the SVDD models' default
    // the threshold is the 0.9 quantile of the 6 pool images' mean scores
    assert.ok(Math.abs(s.inside - 0.9) <= 1 / s.images, `inside ${s.inside}`);
    const m = await readMetrics(res.run);
    assert.deepEqual(m.map((x) => x.epoch), [1, 2, 3, 4, 5, 6]);
    assert.equal(m[0].radius, 0); // R starts at 0 and is first set after K = 2 epochs
    assert.ok(m[1].radius > 0);
    for (
      const f of ["config.json", "oneclass.json", "oneclass.bin", "summary.json", "training.svg"]
    ) {
      await Deno.stat(join(res.run, f));
    }
    const model = await loadOneClass(res.run);
    assert.equal(model.kind, "flow");
    assert.equal(model.provenance?.source, "l9");
    model.dispose();
    // the features are cached in the map run and reused by a second model
    const bin = join(runs, "map/features/pool-l9-tiles2.bin");
    const before = (await Deno.stat(bin)).mtime!.getTime();
    await trainOneClass(
      small(runs, { name: "flow2", settings: { hidden: 8, depth: 1, epochs: 2 } }),
    );
    assert.equal((await Deno.stat(bin)).mtime!.getTime(), before);
  });
});

Deno.test("train-oneclass: the MLP does not collapse; resume continues; NaN stops cleanly", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const runs = await mapRun(dir);
    const mlp = await trainOneClass(
      small(runs, { oneclass: "mlp", settings: { hidden: 16, depth: 1, epochs: 4, repDim: 4 } }),
    );
    const model = await loadOneClass(mlp.run);
    const x = new Float32Array(5 * 16).map((_, i) => Math.sin(i));
    const s = await model.decisionFunction(x, 5);
    assert.ok(Math.max(...s) - Math.min(...s) > 1e-6, "all MLP scores equal: collapsed");
    model.dispose();
    await trainOneClass(small(runs, { name: "cut", stopAfter: 3, checkpointEvery: 2 }));
    const resumed = await trainOneClass(small(runs, { name: "cut", resume: true }));
    assert.deepEqual(resumed.epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6]);
    await assert.rejects(
      trainOneClass(
        small(runs, { name: "boom", settings: { hidden: 16, depth: 1, epochs: 6, lr: 1e35 } }),
      ),
      /became (NaN|Infinity|-Infinity)/,
    );
  });
});

Deno.test("train-oneclass: a resume reads the run's own config; a flag that contradicts it is an error naming both", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const runs = await mapRun(dir);
    const settings = { hidden: 16, depth: 1, epochs: 4, repDim: 4 };
    await trainOneClass(small(runs, {
      name: "deep",
      oneclass: "mlp",
      features: "l8",
      settings,
      stopAfter: 1,
      checkpointEvery: 1,
    }));
    const again = (extra: Partial<TrainOneClassOptions>) =>
      trainOneClass({ map: "map", runs, name: "deep", resume: true, progress: quiet, ...extra });
    await assert.rejects(
      again({ oneclass: "flow" }),
      /--oneclass flow contradicts the run's config.json \(oneclass: "mlp"\)/,
    );
    await assert.rejects(
      again({ features: "l9" }),
      /--features l9 contradicts the run's config.json \(features: "l8"\)/,
    );
    await assert.rejects(again({ settings: { nu: 0.2 } }), /--nu 0.2 contradicts .*settings.nu/);
    // no flags at all: the same kind on the same features, to the end
    const done = await again({});
    assert.deepEqual(done.epochs.map((e) => e.epoch), [1, 2, 3, 4]);
    const model = await loadOneClass(done.run);
    assert.deepEqual([model.kind, model.provenance?.source], ["mlp", "l8"]);
    model.dispose();
  });
});

Deno.test("train-oneclass: gauss and knn on map features and on residual features, inside a map run and without one", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const runs = await mapRun(dir);
    const g = await trainOneClass({
      map: "map",
      runs,
      features: "l9-pre",
      oneclass: "gauss",
      progress: quiet,
    });
    assert.equal(g.run, join(runs, "map/l9-pre-gauss"));
    assert.equal(g.summary!.thresholdFrom, "cv");
    const r = await trainOneClass({
      map: "map",
      runs,
      features: "residual",
      oneclass: "knn",
      progress: quiet,
    });
    // residual features train on every non-test natural image of the split: 4 + 2 + 6 = 12 of 16
    assert.equal(r.summary!.images, 12);
    assert.equal(r.summary!.vectors, 12);
    assert.equal(r.summary!.dim, RESIDUAL_DIM);
    // no map: a run of its own with its own split
    const own = await trainOneClass({
      data: SHIPPED,
      runs,
      name: "res",
      features: "residual",
      oneclass: "gauss",
      matchCompression: 75,
      progress: quiet,
    });
    assert.equal(own.run, join(runs, "res"));
    await Deno.stat(join(runs, "res/split.csv"));
    const model = await loadOneClass(own.run);
    assert.deepEqual(model.provenance?.matchCompression, 75);
    // a Gaussian on residual features fits the co-occurrences and the slopes as two parts; the
    // slopes only check
    assert.deepEqual((model as GaussianOneClass).parts, [
      RESIDUAL_PARTS.texture,
      RESIDUAL_PARTS.slope,
    ]);
    assert.deepEqual((model as GaussianOneClass).checks, ["slope"]);
    model.dispose();
    await assert.rejects(
      trainOneClass({ data: SHIPPED, runs, features: "l9", progress: quiet }),
      /come from an image map/,
    );
    // every photograph (no test split) only for a run of its own: a map run's split is the map's
    await assert.rejects(
      trainOneClass({
        map: "map",
        runs,
        name: "all",
        features: "residual",
        oneclass: "gauss",
        fitAll: true,
        progress: quiet,
      }),
      /fit-all is for a run of its own/,
    );
  });
});
