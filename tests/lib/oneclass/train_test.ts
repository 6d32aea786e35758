import assert from "node:assert/strict";
import { join } from "node:path";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { NiceFlow } from "../../../lib/oneclass/flow.ts";
import { fitStandardisation, OneClassModel } from "../../../lib/oneclass/model.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { readMetrics } from "../../../lib/runs/folder.ts";
import { trainFlow, type TrainFlowOptions } from "../../../lib/oneclass/train.ts";
import { trainMap } from "../../../lib/map/train.ts";
import { Rng } from "../../../lib/core/rng.ts";
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

const small = (runs: string, extra: Partial<TrainFlowOptions> = {}): TrainFlowOptions => ({
  modelName: "map",
  runs,
  hidden: 16,
  depth: 1,
  epochs: 6,
  nu: 0.1,
  batchSize: 8,
  progress: quiet,
  ...extra,
});

Deno.test("train-flow: trains, puts 1 - nu of the training features inside, reports AUC per renderer", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const runs = await mapRun(dir);
    const res = await trainFlow(small(runs));
    const s = res.summary!;
    assert.equal(s.trainCrops, 24); // 6 flow images x 2x2 crops
    assert.ok(Math.abs(s.inside - 0.9) <= Math.max(0.02, 1 / s.trainCrops), `inside ${s.inside}`);
    const auc = s.aucByRenderer.POVRay;
    assert.ok(auc.seen && auc.auc >= 0 && auc.auc <= 1 && auc.natural === 4 && auc.rendered === 2);
    assert.ok(Number.isFinite(s.headAucByRenderer.POVRay));
    const m = await readMetrics(res.run);
    assert.deepEqual(m.map((x) => x.epoch), [1, 2, 3, 4, 5, 6]);
    assert.equal(m[0].radius, 0); // R starts at 0 and is first set after K = 2 epochs
    assert.ok(m[1].radius > 0);
    for (
      const f of ["config.json", "oneclass.json", "oneclass.bin", "summary.json", "training.svg"]
    ) {
      await Deno.stat(join(res.run, f));
    }
    // the features are cached in the map run and reused by a second flow
    const bin = join(runs, "map/features/flow-tiles2.bin");
    const before = (await Deno.stat(bin)).mtime!.getTime();
    await trainFlow(small(runs, { name: "flow2", epochs: 2 }));
    assert.equal((await Deno.stat(bin)).mtime!.getTime(), before);
  });
});

Deno.test("train-flow: the MLP baseline does not collapse; resume continues; NaN stops cleanly", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const runs = await mapRun(dir);
    const mlp = await trainFlow(small(runs, { model: "mlp", repDim: 4 }));
    const { model } = await OneClassModel.load(mlp.run);
    const x = new Float32Array(5 * 16).map((_, i) => Math.sin(i));
    const s = model.score(x, 5);
    assert.ok(Math.max(...s) - Math.min(...s) > 1e-6, "all MLP scores equal: collapsed");
    model.dispose();
    await trainFlow(small(runs, { name: "cut", stopAfter: 3, checkpointEvery: 2 }));
    const resumed = await trainFlow(small(runs, { name: "cut", resume: true }));
    assert.deepEqual(resumed.epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6]);
    await assert.rejects(
      trainFlow(small(runs, { name: "boom", lr: 1e35 })),
      /became (NaN|Infinity|-Infinity)|NaN or infinite/,
    );
  });
});

Deno.test("one-class model: save and load give bit-identical scores", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const r = new Rng(1);
    const x = Float32Array.from({ length: 20 * 12 }, () => r.normal());
    const flow = NiceFlow.create({ kind: "flow", dim: 12, couplings: 4, hidden: 10, depth: 2 }, 4);
    const m = new OneClassModel(
      flow,
      new Float32Array(12).fill(0.3),
      1.7,
      0.05,
      2,
      fitStandardisation(x, 20, 12),
    );
    const a = m.score(x, 20);
    await m.save(dir, "oc", { note: 1 });
    const { model, manifest } = await OneClassModel.load(dir, "oc");
    assert.equal(manifest.note, 1);
    assert.deepEqual(model.score(x, 20), a);
    assert.equal(model.radius, 1.7);
    m.dispose();
    model.dispose();
  });
});
