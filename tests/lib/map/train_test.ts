import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../../../lib/core/deps.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { centerCrop, cropAt, tileOrigins } from "../../../lib/data/image.ts";
import { readImage } from "../../../lib/data/decode.ts";
import { channelStats, toBatch } from "../../../lib/data/batch.ts";
import { ENet } from "../../../lib/map/enet.ts";
import { loadENet } from "../../../lib/map/io.ts";
import { SgdMomentum } from "../../../lib/backends/optim.ts";
import { readMetrics } from "../../../lib/runs/folder.ts";
import { trainMap, type TrainMapOptions } from "../../../lib/map/train.ts";
import { predict } from "../../../lib/map/predict.ts";
import { openMapRun } from "../../../lib/map/run.ts";
import { HEAD_THRESHOLD_FILE, headThreshold } from "../../../lib/map/threshold.ts";
import { quantile } from "../../../lib/core/stats.ts";
import { firstNonFinite, trainStep } from "../../../lib/map/step.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { SHIPPED, testBackend, TINY, withTempDir } from "../../_helpers.ts";

const quiet = makeProgress({ quiet: true });

/** A CSV over 10 photographs and 10 POV-Ray renders of the shipped dataset. */
async function subsetCsv(dir: string): Promise<string> {
  const ds = await loadDataset(SHIPPED);
  const pick = (label: number) => ds.images.filter((i) => i.label === label).slice(0, 10);
  const rows = [...pick(0), ...pick(3)].map((i) => `${i.name},${i.label === 0 ? 0 : 1}`);
  const path = join(dir, "subset.csv");
  await Deno.writeTextFile(path, ["Name,Label", ...rows].join("\n") + "\n");
  return path;
}

function options(dir: string, csv: string, extra: Partial<TrainMapOptions> = {}): TrainMapOptions {
  return {
    data: SHIPPED,
    csv,
    runs: join(dir, "runs"),
    name: "t",
    preset: "small",
    crop: 80,
    width: 4,
    fc: 16,
    epochs: 3,
    batchSize: 4,
    lr: 0.01,
    naturalSplit: "0.5,0.2,0.1,0.2",
    cgSplit: "0.6,0.2,0.2",
    progress: quiet,
    ...extra,
  };
}

Deno.test("train: steps on a fixed batch of real crops drive its loss down", async () => {
  await testBackend();
  const ds = await loadDataset(SHIPPED);
  const imgs = [
    ...ds.images.filter((i) => i.label === 0).slice(0, 4),
    ...ds.images.filter((i) => i.label === 2).slice(0, 4),
  ];
  const crops = await Promise.all(
    imgs.map(async (i) => centerCrop(await readImage(i.path), TINY.crop)),
  );
  const x = toBatch(crops, channelStats(crops));
  const y = imgs.map((i) => (i.label === 0 ? 0 : 1));
  const net = ENet.create({ ...TINY, dropout: 0 }, 1);
  const opt = new SgdMomentum(net.trainable(), 0.9);
  const losses: number[] = [];
  for (let i = 0; i < 15; i++) losses.push((await trainStep(net, opt, x, y, { lr: 0.01 })).loss);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(losses[14] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[14]}`);
  // a step allocates nothing that outlives it
  const before = tf.memory().numTensors;
  await trainStep(net, opt, x, y, { lr: 0.01 });
  assert.equal(tf.memory().numTensors, before);
  opt.dispose();
  net.dispose();
});

Deno.test("train: a non-finite loss is reported and leaves the weights alone", async () => {
  await testBackend();
  const net = ENet.create(TINY, 2);
  const opt = new SgdMomentum(net.trainable(), 0.9);
  net.vars.get("fc3.b")!.assign(tf.tensor1d([NaN, 0]));
  const before = (await net.values()).get("fc1.w")!.slice();
  const x = new Float32Array(2 * TINY.crop * TINY.crop * 3).fill(0.5);
  assert.ok(Number.isNaN((await trainStep(net, opt, x, [0, 1], { lr: 0.1 })).loss));
  assert.deepEqual((await net.values()).get("fc1.w"), before);
  assert.match(await firstNonFinite(net) ?? "", /fc3\.b/);
  opt.dispose();
  net.dispose();
});

Deno.test("train-map: a run folder holds config, split, stats, metrics, plot, checkpoints and model", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const res = await trainMap(options(dir, await subsetCsv(dir)));
    const run = res.run;
    for (
      const f of [
        "config.json",
        "split.csv",
        "norm.json",
        "metrics.jsonl",
        "training.svg",
        "model/model.json",
        "model/model.bin",
      ]
    ) {
      assert.ok((await Deno.stat(join(run, f))).isFile, f);
    }
    // what trained it, with its thread count: training is bit-reproducible only with the same
    const config = JSON.parse(await Deno.readTextFile(join(run, "config.json")));
    assert.match(config.computedOn, /^(native|wasm|cpu), [1-9]\d* thread\(s\)$/);
    assert.equal(config.computedOn.split(",")[0], tf.getBackend());
    const metrics = await readMetrics(run);
    assert.deepEqual(metrics.map((m) => m.epoch), [1, 2, 3]);
    for (const k of ["loss", "train_acc", "val_acc", "val_image_acc", "seconds", "lr"]) {
      assert.ok(Number.isFinite(metrics[0][k]), k);
    }
    const ckpts = [...Deno.readDirSync(join(run, "checkpoints"))].map((e) => e.name).sort();
    assert.deepEqual(ckpts, ["epoch-0002", "epoch-0003"]); // the newest two are kept
    assert.match(
      await Deno.readTextFile(join(run, "training.svg")),
      /^<svg[\s\S]*accuracy[\s\S]*<\/svg>\n$/,
    );
    const split = (await Deno.readTextFile(join(run, "split.csv"))).trim().split("\n");
    assert.equal(split.length, 21);
    const { net, norm } = await loadENet(join(run, "model"));
    assert.equal(net.cfg.crop, 80);
    assert.ok(norm.std.every((s) => s > 0));
    // the head's threshold: the 0.95 quantile of the mean p(CG) over a 3 x 3 grid of each natural
    // val and one-class-pool image, recomputed here crop by crop
    const saved = JSON.parse(await Deno.readTextFile(join(run, HEAD_THRESHOLD_FILE)));
    const naturals = split.slice(1).map((l) => l.split(",")).filter(([, label, , role]) =>
      label === "0" && (role === "val" || role === "oneclass")
    );
    const means: number[] = [];
    for (const [name] of naturals) {
      const img = await readImage(join(SHIPPED, name));
      const crops = tileOrigins(img.width, img.height, 80, 3).map(([x, y]) =>
        cropAt(img, x, y, 80, 80)
      );
      const { pCg } = await predict(net, crops.length, (i) => Promise.resolve(crops[i]), norm);
      means.push(pCg.reduce((a, b) => a + b, 0) / pCg.length);
    }
    assert.equal(saved.n, naturals.length);
    assert.ok(saved.n >= 3 && saved.nu === 0.05 && saved.tiles === 3);
    assert.ok(Math.abs(saved.value - quantile(means, 0.95)) < 1e-6, `${saved.value}`);
    // read back, not recomputed, while the map is the same; set again for another map
    const info = await openMapRun(join(dir, "runs"), "t");
    await Deno.writeTextFile(
      join(run, HEAD_THRESHOLD_FILE),
      JSON.stringify({ ...saved, value: 0.123 }),
    );
    assert.equal((await headThreshold(info, info.map, { progress: quiet })).value, 0.123);
    const other = { ...info.map, sha: "0".repeat(64) };
    const again = await headThreshold(info, other, { progress: quiet });
    assert.ok(Math.abs(again.value - saved.value) < 1e-6);
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(run, HEAD_THRESHOLD_FILE))).map,
      other.sha,
    );
    info.map.net.dispose();
    net.dispose();
    await assert.rejects(
      trainMap(options(dir, await subsetCsv(dir))),
      /already holds a map run: pass --resume/,
    );
  });
});

Deno.test("train-map: an interrupted run resumed from its checkpoint ends as a clean run", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const csv = await subsetCsv(dir);
    const clean = await trainMap(options(dir, csv, { name: "clean" }));
    await trainMap(options(dir, csv, { name: "cut", stopAfter: 1 }));
    assert.deepEqual((await readMetrics(join(dir, "runs/cut"))).map((m) => m.epoch), [1]);
    const base = { data: SHIPPED, runs: join(dir, "runs"), name: "cut", resume: true };
    await assert.rejects(
      trainMap({ ...base, crop: 96, progress: quiet }),
      /--crop 96 contradicts the run's config.json \(enet.crop: 80\)/,
    );
    const resumed = await trainMap({
      data: SHIPPED,
      runs: join(dir, "runs"),
      name: "cut",
      resume: true,
      progress: quiet,
    });
    assert.deepEqual(resumed.epochs.map((m) => m.epoch), [1, 2, 3]);
    const strip = (ms: Record<string, number>[]) =>
      ms.map(({ seconds: _s, images_per_second: _i, val_recall, ...m }) => ({
        ...m,
        ...Object.fromEntries(
          Object.entries((val_recall ?? {}) as unknown as Record<string, number>).map((
            [k, v],
          ) => [`val_recall ${k}`, v]),
        ),
      }));
    const a = strip(clean.epochs as unknown as Record<string, number>[]);
    const b = strip(resumed.epochs as unknown as Record<string, number>[]);
    a.forEach((m, i) => {
      for (const k of Object.keys(m)) {
        assert.ok(Math.abs(m[k] - b[i][k]) < 1e-4, `epoch ${i + 1} ${k}: ${m[k]} vs ${b[i][k]}`);
      }
    });
    const wa = (await loadENet(join(dir, "runs/clean/model"))).net,
      wb = (await loadENet(join(dir, "runs/cut/model"))).net;
    const va = (await wa.values()).get("fc2.w")!, vb = (await wb.values()).get("fc2.w")!;
    let diff = 0;
    for (let i = 0; i < va.length; i++) diff = Math.max(diff, Math.abs(va[i] - vb[i]));
    assert.ok(diff < 1e-4, `weights differ by ${diff}`);
    wa.dispose();
    wb.dispose();
  });
});

Deno.test("train-map: bad images stop training before the first step, or are skipped", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const data = join(dir, "data");
    for (const d of ["Photos", "POVRay"]) await Deno.mkdir(join(data, d), { recursive: true });
    const ds = await loadDataset(SHIPPED);
    const rows = ["Name,Label"];
    for (
      const i of [
        ...ds.images.filter((i) => i.label === 0).slice(0, 10),
        ...ds.images.filter((i) => i.label === 3).slice(0, 10),
      ]
    ) {
      await Deno.copyFile(i.path, join(data, i.name));
      rows.push(`${i.name},${i.label === 0 ? 0 : 1}`);
    }
    await Deno.writeTextFile(join(data, "Photos/broken.png"), "not a png");
    rows.push("Photos/broken.png,0");
    await Deno.writeTextFile(join(data, "dataset.csv"), rows.join("\n") + "\n");
    const base = {
      ...options(dir, join(data, "dataset.csv")),
      data,
      csv: undefined,
      epochs: 1,
      naturalSplit: "0.6,0.2,0.1,0.1",
    };
    await assert.rejects(
      trainMap({ ...base, name: "stop" }),
      /unusable image.*broken\.png: not an image/,
    );
    assert.deepEqual(await readMetrics(join(dir, "runs/stop")), []);
    const res = await trainMap({ ...base, name: "skip", skipBad: true });
    assert.equal(res.epochs.length, 1);
    assert.match(await Deno.readTextFile(join(res.run, "skipped.txt")), /broken\.png/);
  });
});
