import assert from "node:assert/strict";
import { join } from "node:path";
import { saveBundle } from "../../../lib/core/bundle.ts";
import { writeJson } from "../../../lib/core/files.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { readImage, sniffImage } from "../../../lib/data/decode.ts";
import {
  checkUnsureShare,
  Detector,
  DETECTOR_FORMAT,
  type DetectorInfo,
  detectorWithHead,
  loadDetector,
} from "../../../lib/detect/detector.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { applySplit } from "../../../lib/data/split.ts";
import { wholeImageFeatures } from "../../../lib/features/sources.ts";
import { PROFILE_DIM } from "../../../lib/features/profile.ts";
import { loadOneClass } from "../../../lib/oneclass/io.ts";
import { quantile, upperTail } from "../../../lib/core/stats.ts";
import { heatmapPng } from "../../../lib/detect/heatmap.ts";
import { provenance, trainOneClass } from "../../../lib/oneclass/train.ts";
import { RESIDUAL_DIM, residualFeatures } from "../../../lib/features/residual.ts";
import { ENet } from "../../../lib/map/enet.ts";
import { saveENet } from "../../../lib/map/io.ts";
import { GaussianOneClass } from "../../../lib/oneclass/gauss.ts";
import { flowParams } from "../../../lib/oneclass/networks.ts";
import { SHIPPED, testBackend, TINY, withTempDir } from "../../_helpers.ts";

const norm = {
  mean: [0.5, 0.5, 0.5] as [number, number, number],
  std: [0.25, 0.25, 0.25] as [number, number, number],
};
const INFO = {
  format: DETECTOR_FORMAT,
  name: "test",
  renderers: [{ label: 1, name: "Cycles" }],
  features: "residual",
  preprocess: { jpeg: 80 },
  unsure: 0.1,
  headThreshold: {
    value: 0.6,
    nu: 0.05,
    from: "natural val+flow images of the split",
    n: 5,
    tiles: 3,
    reference: [0.2, 0.3, 0.4, 0.5, 0.6],
  },
  unsureP: 0.1,
  rule: "both",
  maxTilesPerSide: 2,
};

/** A detector folder: a tiny random map, and a Gaussian on residual features of photographs. */
async function detectorDir(dir: string): Promise<void> {
  const net = ENet.create({ ...TINY, dropout: 0 }, 3);
  await saveENet(dir, net, norm, "model");
  net.dispose();
  const photos = (await loadDataset(SHIPPED)).images.filter((i) => i.label === 0).slice(0, 12);
  const rows = await Promise.all(
    photos.map(async (p) => residualFeatures(await readImage(p.path))),
  );
  const x = new Float32Array(rows.length * RESIDUAL_DIM);
  rows.forEach((r, i) => x.set(r, i * RESIDUAL_DIM));
  const g = await new GaussianOneClass({ pca: 4, threshold: "train" })
    .fit(x, rows.length, RESIDUAL_DIM);
  g.provenance = provenance("residual", undefined, 80);
  await g.save(dir, "oneclass");
  await writeJson(join(dir, "detector.json"), INFO);
}

/** Runs `f` on a fresh detector folder (see {@link detectorDir}) and the detector loaded from it. */
async function withDetectorDir(f: (dir: string, det: Detector) => Promise<void>): Promise<void> {
  await testBackend();
  await withTempDir(async (dir) => {
    await detectorDir(dir);
    await f(dir, await loadDetector(dir));
  });
}

Deno.test("detector: a residual detector loads, re-encodes as trained, scores tiles and the whole image", async () => {
  await withDetectorDir(async (_dir, det) => {
    const img = await Deno.readFile(join(SHIPPED, "POVRay/povray_00003.png"));
    const d = await det.score(img);
    assert.equal(d.crops, 4); // 256 px, 77 px crops, at most 2 per side
    assert.ok(d.pCg >= 0 && d.pCg <= 1 && Number.isFinite(d.score));
    assert.ok(d.tiles.every((t) => Number.isNaN(t.score))); // one whole-image vector, no tile scores
    assert.ok(["computer-generated", "natural", "unsure"].includes(d.verdict));
    // the same image, decoded by the caller: the same answer
    const rgba = await readImage(join(SHIPPED, "POVRay/povray_00003.png"));
    const data = new Uint8Array(rgba.width * rgba.height * 4);
    for (let i = 0; i < rgba.width * rgba.height; i++) {
      data.set([...rgba.data.subarray(3 * i, 3 * i + 3), 255], 4 * i);
    }
    const e = await det.score({ width: rgba.width, height: rgba.height, data });
    assert.equal(e.score, d.score);
    det.dispose();
  });
});

Deno.test("detector: an image that fails a one-class check is never called natural by that stage", async () => {
  await withDetectorDir(async (dir, det) => {
    const band = 0.1 * Math.abs(det.oneClass.threshold), far = -2 * band - 1;
    assert.equal(det.verdict(0.1, far), "natural");
    assert.equal(det.verdict(0.1, far, ["slope"]), "unsure");
    assert.equal(det.verdict(0.9, 1 + 2 * band, ["slope"]), "computer-generated");
    await writeJson(join(dir, "detector.json"), { ...INFO, rule: "oneclass" });
    const alone = await loadDetector(dir);
    assert.equal(alone.verdict(0.1, far, ["slope"]), "unsure");
    assert.equal(alone.verdict(0.9, far), "natural");
    // a detector.json written before 0.3 names that rule "flow"
    await writeJson(join(dir, "detector.json"), { ...INFO, rule: "flow" });
    const old = await loadDetector(dir);
    assert.equal(old.info.rule, "oneclass");
    assert.equal(old.verdict(0.9, far), "natural");
    det.dispose();
    alone.dispose();
    old.dispose();
  });
});

Deno.test("detector: an unsure band sized on the photographs holds that share of the natural reference", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    // 400 vectors of 3 numbers; the threshold is their train scores' 95 % quantile
    const n = 400, d = 3;
    const x = Float32Array.from(
      { length: n * d },
      (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1,
    );
    const g = await new GaussianOneClass({ threshold: "train" }).fit(x, n, d);
    const info: DetectorInfo = {
      ...INFO,
      features: "profile",
      preprocess: {},
      rule: "oneclass",
    } as DetectorInfo;
    const fixed = new Detector(undefined, g, { ...info, unsure: 0.1 });
    assert.deepEqual(fixed.oneClassBand(), {
      lo: -0.1 * Math.abs(g.threshold),
      hi: 0.1 * Math.abs(g.threshold),
    });
    const det = new Detector(undefined, g, { ...info, unsureShare: 0.04 });
    const { lo, hi } = det.oneClassBand();
    const ref = g.reference!;
    assert.equal(ref.length, n);
    const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.abs(b);
    assert.ok(near(lo + g.threshold, quantile(ref, 0.93)), `${lo + g.threshold}`);
    assert.ok(near(hi + g.threshold, quantile(ref, 0.97)), `${hi + g.threshold}`);
    // the share of the reference inside the band is s, within one score
    const inside = Array.from(ref).filter((r) => r - g.threshold >= lo && r - g.threshold <= hi);
    assert.ok(Math.abs(inside.length / n - 0.04) <= 1.5 / n, `${inside.length} of ${n}`);
    // the verdict reads it: just inside either edge unsure, outside natural or rendered
    assert.equal(det.verdict(0, lo - 1e-6), "natural");
    assert.equal(det.verdict(0, lo + 1e-6), "unsure");
    assert.equal(det.verdict(0, hi - 1e-6), "unsure");
    assert.equal(det.verdict(0, hi + 1e-6), "computer-generated");
    // a threshold raised after the fit (as calibrate raises it, to the 99 % level here): the band
    // is centred on its level in the reference, and still holds 0
    const fitted = g.threshold;
    g.threshold = quantile(ref, 0.99);
    const raised = det.oneClassBand();
    assert.ok(near(raised.lo + g.threshold, quantile(ref, 0.97)), `${raised.lo + g.threshold}`);
    assert.ok(raised.lo < 0 && raised.hi >= 0 && raised.hi + g.threshold <= ref[n - 1] + 1e-6);
    assert.equal(det.verdict(0, raised.lo - 1e-6), "natural");
    g.threshold = fitted;
    assert.deepEqual(det.oneClassBand(), { lo, hi });
    // more than 2ν, or a model without its reference, is refused by name
    const wide = new Detector(undefined, g, { ...info, unsureShare: 0.2 });
    assert.throws(() => wide.oneClassBand(), /unsureShare must be in \(0, 2ν\] = \(0, 0\.1\]/);
    // rule head does not read the band, so needs none
    wide.info.rule = "head";
    assert.equal(wide.verdict(1, 0), "computer-generated");
    assert.throws(() => checkUnsureShare(0, 0.05, "--unsure-share"), /--unsure-share/);
    const bare = new GaussianOneClass({ threshold: "train" });
    await bare.fit(x, n, d);
    bare.reference = undefined;
    assert.throws(
      () => new Detector(undefined, bare, { ...info, unsureShare: 0.04 }).verdict(0, 0),
      /needs the one-class model's natural reference scores/,
    );
    // saved with a detector, and checked when loaded
    await detectorDir(dir);
    await writeJson(join(dir, "detector.json"), { ...INFO, unsureShare: 0.04 });
    const loaded = await loadDetector(dir);
    const oc = loaded.oneClass, band = loaded.oneClassBand();
    assert.ok(Math.abs(band.hi + oc.threshold - quantile(oc.reference!, 0.97)) < 1e-9);
    loaded.dispose();
    await writeJson(join(dir, "detector.json"), { ...INFO, unsureShare: 1.5 });
    await assert.rejects(loadDetector(dir), /bad unsure band/);
    await writeJson(join(dir, "detector.json"), { ...INFO, unsureShare: 0.5 }); // over 2ν
    await assert.rejects(loadDetector(dir), /detector\.json: .*unsureShare must be in \(0, 2ν\]/);
    g.dispose();
    bare.dispose();
  });
});

Deno.test("detector: a one-class model fitted on other features, or another map's, is refused", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    await detectorDir(dir);
    await writeJson(join(dir, "detector.json"), { ...INFO, features: "l9" });
    await assert.rejects(loadDetector(dir), /fitted on residual features, the detector reads l9/);
    // an L9 model whose provenance names another map's weights
    const x = Float32Array.from({ length: 20 * TINY.fc }, (_, i) => Math.sin(i));
    const g = await new GaussianOneClass({ threshold: "train" }).fit(x, 20, TINY.fc);
    g.provenance = { source: "l9", map: "0".repeat(64) };
    await g.save(dir, "oneclass");
    await assert.rejects(loadDetector(dir), /another map \(checksums differ\)/);
    await writeJson(join(dir, "detector.json"), { ...INFO, rule: "vote" });
    await assert.rejects(loadDetector(dir), /bad unsure band, head threshold, rule/);
    const { headThreshold: _, ...noThreshold } = INFO;
    await writeJson(join(dir, "detector.json"), noThreshold);
    await assert.rejects(loadDetector(dir), /bad unsure band, head threshold, rule/);
    const at = (value: number) => ({ ...INFO, headThreshold: { ...INFO.headThreshold, value } });
    await writeJson(join(dir, "detector.json"), at(1.5));
    await assert.rejects(loadDetector(dir), /bad unsure band, head threshold, rule/);
  });
});

Deno.test("detector: the head decides at its saved threshold, with its unsure band around it", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    await detectorDir(dir);
    /** The detector with the head alone deciding, at threshold `value`. */
    const headAt = async (value: number) => {
      const headThreshold = { ...INFO.headThreshold, value };
      await writeJson(join(dir, "detector.json"), { ...INFO, rule: "head", headThreshold });
      return await loadDetector(dir);
    };
    const det = await headAt(0.6); // band 0.1
    assert.equal(det.headAt, 0.6);
    assert.deepEqual(
      [0.45, 0.55, 0.65, 0.75].map((p) => det.verdict(p, 0)),
      ["natural", "unsure", "unsure", "computer-generated"],
    );
    det.dispose();
    // near 1 the band narrows to half the way there, so the head can still say "computer-generated"
    const high = await headAt(0.96);
    assert.deepEqual(
      [0.85, 0.95, 0.99].map((p) => high.verdict(p, 0)),
      ["natural", "unsure", "computer-generated"],
    );
    // "disagree" compares each stage at its own threshold
    const d = await high.score(await Deno.readFile(join(SHIPPED, "Photos/photo_00010.png")));
    assert.equal(d.disagree, (d.pCg >= 0.96) !== (d.score > 0));
    high.dispose();
    // a map that put every validation photograph at p = 1 still gives a detector that loads
    const edge = await headAt(1);
    assert.deepEqual([0.99, 1].map((p) => edge.verdict(p, 0)), ["natural", "unsure"]);
    edge.dispose();
    // a format-2 file (before the head had a threshold) decides at 0.5, as it did
    const { headThreshold: _, ...v2 } = INFO;
    await writeJson(join(dir, "detector.json"), {
      ...v2,
      format: "cgvsni-detector/2",
      rule: "head",
    });
    const old = await loadDetector(dir);
    assert.equal(old.headAt, 0.5);
    assert.equal(old.info.headThreshold.n, 0);
    assert.equal(old.verdict(0.55, 0), "unsure");
    assert.equal(old.verdict(0.65, 0), "computer-generated");
    old.dispose();
  });
});

Deno.test("detector: the fused score is Fisher's combination of both stages' natural tail p-values", async () => {
  await withDetectorDir(async (dir, det) => {
    const ref = det.oneClass.reference!;
    assert.equal(ref.length, 12); // the 12 photographs the Gaussian was fitted on, one score each
    const img = await Deno.readFile(join(SHIPPED, "POVRay/povray_00003.png"));
    const d = await det.score(img);
    const uHead = upperTail(INFO.headThreshold.reference, d.pCg);
    const uOc = upperTail(ref, d.score + det.oneClass.threshold);
    assert.ok(Math.abs(d.fused! - (-2 * Math.log(uHead * uOc) - 9.487729)) < 1e-5);
    // beyond every reference of both stages, the p-values are 1/6 and 1/13: with so few
    // references the fused score cannot reach its threshold (it needs (6)(13) > e^4.74 = 115)
    const most = det.fused(0.99, ref[ref.length - 1] + 1)!;
    assert.ok(Math.abs(most - (2 * Math.log(6 * 13) - 9.487729)) < 1e-5 && most < 0);
    assert.ok(det.fused(0.1, -1e9)! < most);
    det.dispose();
    // without the head's references (a detector from before them), no fused score
    await writeJson(join(dir, "detector.json"), {
      ...INFO,
      headThreshold: { ...INFO.headThreshold, reference: undefined },
    });
    const old = await loadDetector(dir);
    assert.equal(old.fused(0.99, 5), undefined);
    assert.equal((await old.score(img)).fused, undefined);
    old.dispose();
    // rule fused, with enough references to reach the threshold: it decides, with its band
    await writeJson(join(dir, "detector.json"), {
      ...INFO,
      rule: "fused",
      headThreshold: {
        ...INFO.headThreshold,
        n: 200,
        reference: Array.from({ length: 200 }, (_, i) => i / 400),
      },
    });
    const fused = await loadDetector(dir);
    const far = ref[ref.length - 1] + 1;
    assert.equal(fused.verdict(0.99, far), "computer-generated");
    assert.equal(fused.verdict(0.01, -1e9), "natural");
    assert.equal(fused.verdict(0.01, -1e9, ["slope"]), "unsure"); // a failed check: never natural
    fused.dispose();
  });
});

Deno.test("detector: a detector saved by cgvsni 0.1 (flow on L9, format 1) still loads and scores", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const cfg = { ...TINY, dropout: 0 };
    const net = ENet.create(cfg, 5);
    await saveENet(dir, net, norm, "model");
    net.dispose();
    const map = { kind: "flow" as const, dim: cfg.fc, couplings: 2, hidden: 4, depth: 0 };
    const arrays = flowParams(map).map((p) => ({
      name: `map/${p.name}`,
      shape: p.shape,
      data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)).fill(0.01),
    }));
    arrays.push({ name: "svdd/c", shape: [cfg.fc], data: new Float32Array(cfg.fc).fill(0.1) });
    await saveBundle(dir, "oneclass", "cgvsni-oneclass/1", arrays, {
      map,
      radius: 2,
      nu: 0.05,
      k: 2,
      standardised: false,
    });
    await writeJson(join(dir, "detector.json"), {
      format: "cgvsni-detector/1",
      name: "old",
      renderer: { label: 1, name: "Cycles" },
      unsure: 0.1,
      maxTilesPerSide: 1,
    });
    const det = await loadDetector(dir);
    assert.equal(det.oneClass.threshold, 4); // R² as it scored then
    assert.deepEqual(det.info.renderers, [{ label: 1, name: "Cycles" }]);
    assert.equal(det.info.features, "l9");
    const d = await det.score(await Deno.readFile(join(SHIPPED, "Photos/photo_00010.png")));
    assert.ok(Number.isFinite(d.score) && d.crops === 1);
    det.dispose();
  });
});

Deno.test("heatmap: the image underneath, a colour bar and its meaning, both values", async () => {
  const img = await readImage(join(SHIPPED, "Photos/photo_00010.png"));
  const tiles = [
    { x: 0, y: 0, pCg: 0.9, score: 3 },
    { x: 128, y: 128, pCg: 0.1, score: -2 },
  ];
  for (const value of ["pCg", "score"] as const) {
    const png = await heatmapPng(img, tiles, 128, value);
    const info = sniffImage(png);
    assert.deepEqual([info.width, info.height], [256, 256 + 46]); // the legend below the image
    const back = await readImage(
      await Deno.makeTempFile({ suffix: ".png" }).then(async (f) => {
        await Deno.writeFile(f, png);
        return f;
      }),
    );
    const px = (
      x: number,
      y: number,
    ) => [...back.data.subarray((y * back.width + x) * 3, (y * back.width + x) * 3 + 3)];
    const [r, , b] = px(10, 10); // a CG tile: red over the faded image
    assert.ok(r > b + 40, `${value}: ${px(10, 10)}`);
    const [r2, , b2] = px(200, 200); // a natural tile: blue
    assert.ok(b2 > r2 + 40, `${value}: ${px(200, 200)}`);
    const bar = [px(6, 256 + 4 + 18), px(250, 256 + 4 + 18)]; // the colour bar: blue to red
    assert.ok(bar[0][2] > bar[0][0] && bar[1][0] > bar[1][2], JSON.stringify(bar));
  }
  // p(CG) is white at the head's threshold: 0.9 is natural's side of a threshold of 0.95
  const png = await heatmapPng(img, tiles, 128, "pCg", 512, 0.95);
  const f = await Deno.makeTempFile({ suffix: ".png" });
  await Deno.writeFile(f, png);
  const back = await readImage(f);
  const [r, , b] = back.data.subarray((10 * back.width + 10) * 3, (10 * back.width + 10) * 3 + 3);
  assert.ok(b > r, `p 0.9 under a 0.95 threshold: ${[r, b]}`);
  // a threshold of 1 (every validation photograph at p = 1): a tile at p = 1 is at the threshold,
  // white over the faded image, not a division by zero
  const edge = await heatmapPng(img, [{ x: 0, y: 0, pCg: 1, score: 0 }], 128, "pCg", 512, 1);
  const g = await Deno.makeTempFile({ suffix: ".png" });
  await Deno.writeFile(g, edge);
  const px = (await readImage(g)).data.subarray((10 * 256 + 10) * 3, (10 * 256 + 10) * 3 + 3);
  assert.ok([...px].every((c) => c > 150), `${[...px]}`);
});

Deno.test("detector: another detector's head with a one-class run of its own; each stage reads the image as it was fitted", async () => {
  await withDetectorDir(async (dir, head) => {
    // a profile Gaussian fitted apart from any map, its threshold out of fold over two sources
    const photos = (await loadDataset(SHIPPED)).images.filter((i) => i.label === 0).slice(0, 30);
    const csv = join(dir, "two-sources.csv");
    await Deno.writeTextFile(
      csv,
      ["Name,Label,Group", ...photos.map((p, i) => `${p.name},0,${i % 3 ? "a" : "b"}`)]
        .join("\n") + "\n",
    );
    const runs = join(dir, "runs");
    const quiet = makeProgress({ quiet: true });
    const fit = (name: string, threshold: "cv" | "cv-source", csvFile = csv) =>
      trainOneClass({
        data: SHIPPED,
        csv: csvFile,
        fitAll: true,
        runs,
        name,
        features: "profile",
        oneclass: "gauss",
        threshold,
        progress: quiet,
      });
    const r = await fit("p", "cv-source");
    // the threshold: the (1 - nu) quantile of scores out of fold over whole sources
    const split = applySplit(
      (await loadDataset(SHIPPED, { csv, naturalOnly: true })).images,
      await Deno.readTextFile(join(r.run, "split.csv")),
    );
    assert.ok(split.every((e) => e.role === "train")); // every photograph: no test split
    const x = new Float32Array(split.length * PROFILE_DIM);
    for (const [i, e] of split.entries()) {
      x.set(await wholeImageFeatures("profile", await readImage(e.path)), i * PROFILE_DIM);
    }
    const sources = [...new Set(split.map((e) => e.group))].sort();
    const by = await new GaussianOneClass({ threshold: "cv" }).fit(x, split.length, PROFILE_DIM, {
      foldGroups: split.map((e) => sources.indexOf(e.group)),
    });
    const own = await loadOneClass(r.run);
    assert.ok(Math.abs(own.threshold - by.threshold) < 1e-4 * Math.abs(by.threshold));
    const imageFolds = await new GaussianOneClass({ threshold: "cv" }).fit(
      x,
      split.length,
      PROFILE_DIM,
    );
    assert.notEqual(imageFolds.threshold, by.threshold); // folds of sources, not of images
    for (const m of [own, by, imageFolds]) m.dispose();
    // one source cannot be folded by source
    const one = join(dir, "one-source.csv");
    await Deno.writeTextFile(one, (await Deno.readTextFile(csv)).replaceAll(",b\n", ",a\n"));
    await assert.rejects(fit("one", "cv-source", one), /folds whole sources .* has 1/);

    const det = await detectorWithHead(dir, runs, "p", { rule: "oneclass" });
    try {
      assert.equal(det.info.format, DETECTOR_FORMAT);
      assert.equal(det.info.features, "profile");
      assert.deepEqual(det.info.preprocess, { jpeg: 80, oneClass: {} });
      assert.equal(det.info.rule, "oneclass");
      assert.equal(det.headAt, head.headAt);
      const file = join(SHIPPED, "POVRay/povray_00003.png");
      const bytes = await Deno.readFile(file);
      const d = await det.score(bytes);
      // the head as before (the image re-encoded as JPEG 80); the one-class stage on the pixels
      // as decoded, as its photographs were read when it was fitted
      assert.equal(d.pCg, (await head.score(bytes)).pCg);
      const decoded = await readImage(file);
      const asFitted = await det.oneClass.decisionFunction(
        await wholeImageFeatures("profile", decoded),
        1,
      );
      assert.ok(Math.abs(d.score - asFitted[0]) < 1e-5);
      const reencoded = await det.oneClass.decisionFunction(
        await wholeImageFeatures("profile", await head.prepare(decoded)),
        1,
      );
      assert.ok(Math.abs(d.score - reencoded[0]) > 1e-3, "the re-encoding would change it");
      // saved and loaded: the same; the current format, which a version 3 reader refuses
      const out = join(dir, "joined");
      await det.save(out);
      const info = JSON.parse(await Deno.readTextFile(join(out, "detector.json")));
      assert.equal(info.format, "cgvsni-detector/4"); // a map detector: version 4 still says it all
      const back = await loadDetector(out);
      assert.equal((await back.score(bytes)).score, d.score);
      back.dispose();
      // a preparation of its own is for whole-image features only
      await writeJson(join(out, "detector.json"), { ...info, features: "l9" });
      await assert.rejects(loadDetector(out), /preprocessing/);
    } finally {
      det.dispose();
      head.dispose();
    }
  });
});
