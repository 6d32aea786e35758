/**
 * Training a head (linear, or the RBF-kernel SVM) and the detector that carries one: the head is the estimator fitted on
 * exactly the images' features (photographs of their sources against renders), a file it cannot
 * read is named and skipped, another run's features are reused image by image; the detector
 * reads each image as the head was trained (JPEG re-encoding) and as the one-class model was
 * fitted, saves and loads as format 5 with `head.json`, refuses damaged or mismatched files,
 * and calibrates with the head's threshold kept in step. No tensor is left behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../../cli/main.ts";
import { tf } from "../../../lib/core/deps.ts";
import { ModelError } from "../../../lib/core/errors.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { upperTail } from "../../../lib/core/stats.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { readImage } from "../../../lib/data/decode.ts";
import { jpegRoundTrip } from "../../../lib/data/perturb.ts";
import { calibrate } from "../../../lib/detect/calibrate.ts";
import {
  DETECTOR_FORMAT,
  detectorWithLinearHead,
  loadDetector,
} from "../../../lib/detect/detector.ts";
import { wholeImageFeatures } from "../../../lib/features/sources.ts";
import { RESIDUAL_DIM } from "../../../lib/features/residual.ts";
import { LogisticHead } from "../../../lib/head/logistic.ts";
import { RBF_HEAD_FORMAT, RBF_SVM_DEFAULTS, RbfSvmHead } from "../../../lib/head/svm.ts";
import { trainHead, type TrainHeadOptions } from "../../../lib/head/train.ts";
import { trainOneClass } from "../../../lib/oneclass/train.ts";
import { SHIPPED, testBackend, withTempDir } from "../../_helpers.ts";

const quiet = makeProgress({ quiet: true });

/**
 * A photograph corpus of 16 shipped photographs in four sources, with one file that is not an
 * image, and a renders CSV of 12 shipped renders (four of each renderer).
 */
async function corpus(dir: string) {
  const ds = await loadDataset(SHIPPED);
  const photos = ds.images.filter((i) => i.label === 0).slice(0, 16);
  const natural = join(dir, "natural");
  await Deno.mkdir(natural);
  const rows = ["Name,Label,Group"];
  for (const [i, p] of photos.entries()) {
    const name = `p${i}.png`;
    await Deno.copyFile(p.path, join(natural, name));
    rows.push(`${name},0,src${i % 4}`);
  }
  await Deno.writeTextFile(join(natural, "broken.png"), "not an image");
  rows.push("broken.png,0,src0");
  await Deno.writeTextFile(join(natural, "dataset.csv"), rows.join("\n") + "\n");
  const renders = ds.images.filter((i) => i.label > 0);
  const chosen = [1, 2, 3].flatMap((l) => renders.filter((r) => r.label === l).slice(0, 4));
  const csv = join(dir, "renders.csv");
  await Deno.writeTextFile(
    csv,
    ["Name,Label", ...chosen.map((r) => `${r.name},${r.label}`)].join("\n") + "\n",
  );
  return { natural, photos: photos.map((_, i) => join(natural, `p${i}.png`)), csv, chosen };
}

Deno.test("train-head: the estimator on the images' own features, sources whole in folds; a bad file is named and skipped", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const c = await corpus(dir);
    const runs = join(dir, "runs");
    const train = (name: string, more: Partial<TrainHeadOptions> = {}) =>
      trainHead({
        natural: c.natural,
        renders: SHIPPED,
        rendersCsv: c.csv,
        features: "residual",
        runs,
        name,
        progress: quiet,
        ...more,
      });
    const r = await train("h");
    assert.deepEqual(r.head.n, { natural: 16, rendered: 12 });
    assert.deepEqual(r.skipped, [join(c.natural, "broken.png")]);
    assert.match(await Deno.readTextFile(join(r.dir, "skipped-natural.txt")), /broken\.png/);
    // by hand: the same features, labels and groups (the sorted sources, each render alone)
    const files = [...c.photos, ...c.chosen.map((e) => e.path)];
    const x = new Float32Array(files.length * RESIDUAL_DIM);
    for (const [i, f] of files.entries()) {
      x.set(await wholeImageFeatures("residual", await readImage(f)), i * RESIDUAL_DIM);
    }
    const y = files.map((_, i) => i < 16 ? 0 : 1);
    const groups = files.map((_, i) => i < 16 ? i % 4 : 4 + i - 16);
    const byHand = new LogisticHead().fit(x, files.length, RESIDUAL_DIM, y, groups);
    assert.equal(r.head.threshold, byHand.threshold);
    assert.deepEqual(r.head.pCg(x, files.length), byHand.pCg(x, files.length));
    const saved = JSON.parse(await Deno.readTextFile(join(r.dir, "head.json")));
    assert.equal(saved.provenance.features, "residual");
    assert.deepEqual(saved.provenance.renderers.map((x: { images: number }) => x.images), [
      4,
      4,
      4,
    ]);
    // another run reuses the first run's features image by image: the same head
    const again = await train("again", { featureCache: [join(r.dir, "features")] });
    assert.equal(r.cached, false); // the first run computed its vectors
    assert.equal(again.cached, true); // the second assembled them from the adopted lists
    assert.deepEqual(again.head.toJSON(), r.head.toJSON());
    // images read another way (re-encoded at JPEG 90): the first run's vectors are not adopted
    const other = await train("other", {
      matchCompression: 90,
      featureCache: [join(r.dir, "features")],
    });
    assert.equal(other.cached, false);
    // a finished run is not overwritten
    await assert.rejects(train("h"), /already holds a head run: remove that folder/);
    // the kernel head on the same vectors (adopted): the estimator fitted on them, its C its own
    const k = await train("k", { model: "rbf", featureCache: [join(r.dir, "features")] });
    assert.equal(k.cached, true);
    const kernelByHand = new RbfSvmHead().fit(x, files.length, RESIDUAL_DIM, y, groups);
    assert.ok(k.head instanceof RbfSvmHead);
    assert.equal(k.head.threshold, kernelByHand.threshold);
    assert.deepEqual(k.head.pCg(x, files.length), kernelByHand.pCg(x, files.length));
    const config = JSON.parse(await Deno.readTextFile(join(k.dir, "config.json")));
    assert.deepEqual([config.model, config.c], ["rbf", RBF_SVM_DEFAULTS.c]);
    assert.equal(
      JSON.parse(await Deno.readTextFile(join(k.dir, "head.json"))).format,
      RBF_HEAD_FORMAT,
    );
    await assert.rejects(train("bad", { model: "forest" as "rbf" }), /no head model "forest"/);
  });
});

Deno.test("detector with a linear head: each stage reads the image as it was fitted; format 5, head.json; damaged files refused; calibrated in step", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const c = await corpus(dir);
    const runs = join(dir, "runs");
    const { dir: headRun } = await trainHead({
      natural: c.natural,
      renders: SHIPPED,
      rendersCsv: c.csv,
      features: "residual",
      matchCompression: 80,
      runs,
      name: "h",
      progress: quiet,
    });
    await trainOneClass({
      data: c.natural,
      fitAll: true,
      runs,
      name: "p",
      features: "profile",
      oneclass: "gauss",
      threshold: "cv-source",
      skipBad: true,
      progress: quiet,
    });
    const before = tf.memory().numTensors;
    const det = await detectorWithLinearHead(headRun, runs, "p", { rule: "fused" });
    const file = join(SHIPPED, "POVRay/povray_00003.png"), bytes = await Deno.readFile(file);
    const d = await det.score(bytes);
    const decoded = await readImage(file);
    // the head on the image re-encoded at JPEG 80, as trained; the one-class stage as decoded
    const asTrained = det.featureHead!.pCg(
      await wholeImageFeatures("residual", await jpegRoundTrip(decoded, 80)),
      1,
    )[0];
    assert.equal(d.pCg, asTrained);
    const asDecoded = det.featureHead!.pCg(await wholeImageFeatures("residual", decoded), 1)[0];
    assert.ok(Math.abs(d.pCg - asDecoded) > 1e-6, "the re-encoding would change it");
    assert.equal(await det.headPCg(decoded), d.pCg);
    const oc = await det.oneClass.decisionFunction(await wholeImageFeatures("profile", decoded), 1);
    assert.ok(Math.abs(d.score - oc[0]) < 1e-5);
    // the fused score reads the head's out-of-fold p(CG) as its natural reference
    const tails = [
      upperTail(det.featureHead!.reference, d.pCg),
      det.oneClass.naturalTail(d.score)!,
    ];
    assert.ok(Math.abs(d.fused! - (-2 * Math.log(tails[0] * tails[1]) - 9.4877)) < 1e-3);
    assert.equal(d.verdict, det.verdict(d.pCg, d.score, d.checks));
    assert.equal(d.crops, 0); // no map, no tiles
    // what a refit needs of its corpus: the one-class vectors alone, the head not run
    const only = await det.stages(decoded, { oneClassOnly: true });
    assert.equal(only.outputs.head, undefined);
    assert.deepEqual(only.outputs.vectors.data, (await det.stages(decoded)).outputs.vectors.data);
    assert.equal(det.headAt, det.featureHead!.threshold);

    const out = join(dir, "det");
    await det.save(out);
    det.dispose();
    const info = JSON.parse(await Deno.readTextFile(join(out, "detector.json")));
    assert.equal(info.format, DETECTOR_FORMAT);
    const { sha256: _s, ...rest } = info.head;
    assert.deepEqual(rest, { kind: "linear", features: "residual", jpeg: 80 });
    assert.ok(!(await Deno.stat(join(out, "model.json")).catch(() => undefined)));
    const back = await loadDetector(out);
    const d2 = await back.score(bytes);
    assert.deepEqual([d2.pCg, d2.score, d2.verdict], [d.pCg, d.score, d.verdict]);
    back.dispose();
    assert.equal(tf.memory().numTensors, before, "tensors left behind");

    // detect names the head; a heatmap needs a map's tiles
    assert.equal(await main(["detect", "--detector", out, "--quiet", file]), 0);
    assert.notEqual(
      await main(["detect", "--detector", out, "--quiet", "--heatmap", join(dir, "hm"), file]),
      0,
    );
    assert.ok(!(await Deno.stat(join(dir, "hm")).catch(() => undefined))); // nothing drawn

    // damaged or mismatched: refused, the file named
    const head = await Deno.readTextFile(join(out, "head.json"));
    const broken = async (f: string, text: string, pattern: RegExp) => {
      const keep = await Deno.readTextFile(join(out, f));
      await Deno.writeTextFile(join(out, f), text);
      await assert.rejects(
        loadDetector(out),
        (e) => e instanceof ModelError && pattern.test(e.message),
      );
      await Deno.writeTextFile(join(out, f), keep);
    };
    // head.json changed after saving: its checksum in detector.json no longer matches
    assert.match(info.head.sha256, /^[0-9a-f]{64}$/);
    await broken(
      "head.json",
      head.replace(/"threshold": [^,]+,/, '"threshold": 0.5,'),
      /checksum differs/,
    );
    // without the checksum (as written by hand), each check on its own
    const { sha256: _sum, ...unsummed } = info.head;
    const bare = JSON.stringify({ ...info, head: unsummed });
    const twice = async (headText: string, infoText: string, pattern: RegExp) => {
      const keep = await Deno.readTextFile(join(out, "detector.json"));
      await Deno.writeTextFile(join(out, "detector.json"), infoText);
      await broken("head.json", headText, pattern);
      await Deno.writeTextFile(join(out, "detector.json"), keep);
    };
    await twice("{", bare, /head\.json: not valid JSON/);
    const parsed = JSON.parse(head);
    await twice(
      JSON.stringify({ ...parsed, provenance: { ...parsed.provenance, features: "mobilenet" } }),
      bare,
      /head\.json: fitted on mobilenet/,
    );
    await twice(
      head,
      JSON.stringify({ ...info, head: { ...unsummed, jpeg: 90 } }),
      /JPEG 80.*says 90/,
    );
    await twice(
      JSON.stringify({ ...parsed, provenance: { ...parsed.provenance, residual: { version: 0 } } }),
      bare,
      /another version of the residual features/,
    );
    await twice(JSON.stringify({ ...parsed, n: undefined }), bare, /image counts/);
    await broken(
      "detector.json",
      JSON.stringify({ ...info, head: { ...info.head, kind: "forest" } }),
      /head \(linear, rbf\)/,
    );
    await broken(
      "detector.json",
      JSON.stringify({ ...info, headThreshold: { ...info.headThreshold, value: 0.01 } }),
      /headThreshold/,
    );
    await Deno.remove(join(out, "head.json"));
    await assert.rejects(loadDetector(out), /head\.json/);
    await Deno.writeTextFile(join(out, "head.json"), head);

    // a kernel head in the same place: saved as its model, read back to the same scores, and a
    // detector.json that names the other model refused
    const { dir: kernelRun } = await trainHead({
      natural: c.natural,
      renders: SHIPPED,
      rendersCsv: c.csv,
      features: "residual",
      matchCompression: 80,
      model: "rbf",
      featureCache: [join(headRun, "features")],
      runs,
      name: "k",
      progress: quiet,
    });
    const kernel = await detectorWithLinearHead(kernelRun, runs, "p", { rule: "fused" });
    const dk = await kernel.score(bytes);
    assert.equal(
      dk.pCg,
      kernel.featureHead!.pCg(
        await wholeImageFeatures("residual", await jpegRoundTrip(decoded, 80)),
        1,
      )[0],
    );
    const kout = join(dir, "kernel");
    await kernel.save(kout);
    kernel.dispose();
    const kinfo = JSON.parse(await Deno.readTextFile(join(kout, "detector.json")));
    assert.equal(kinfo.head.kind, "rbf");
    const kback = await loadDetector(kout);
    assert.ok(kback.featureHead instanceof RbfSvmHead);
    const dk2 = await kback.score(bytes);
    assert.deepEqual([dk2.pCg, dk2.score, dk2.verdict], [dk.pCg, dk.score, dk.verdict]);
    kback.dispose();
    await Deno.writeTextFile(
      join(kout, "detector.json"),
      JSON.stringify({ ...kinfo, head: { ...kinfo.head, kind: "linear" } }),
    );
    await assert.rejects(
      loadDetector(kout),
      (e) =>
        e instanceof ModelError &&
        /head\.json: a head of the rbf model, detector\.json says linear/.test(e.message),
    );

    // calibrated: the head's threshold in head.json moves with the detector's
    const cal = join(dir, "cal");
    await Deno.writeTextFile(
      join(dir, "mine.csv"),
      ["Name,Label", ...c.photos.map((_, i) => `p${i}.png,0`)].join("\n") + "\n",
    );
    const r = await calibrate({
      detector: out,
      natural: c.natural,
      naturalCsv: join(dir, "mine.csv"),
      out: cal,
    });
    const calibrated = await loadDetector(cal);
    assert.equal(calibrated.headAt, r.headThreshold.after);
    assert.equal(calibrated.featureHead!.threshold, r.headThreshold.after);
    assert.ok(r.headThreshold.after >= r.headThreshold.before);
    assert.match(calibrated.info.name, /\(calibrated\)$/);
    calibrated.dispose();
  });
});
