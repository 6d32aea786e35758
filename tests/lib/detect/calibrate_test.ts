/**
 * Calibration to a user's camera: photographs of a "camera" the shipped detector never saw (the
 * shipped photographs with added sensor-like noise) leave its natural model; calibrated on
 * twenty of them, the new detector keeps about 1 - ν of the others inside, flags nothing the old
 * one did not, says it is calibrated in detect's header and its model card, and loads like any
 * detector. Refit needs the corpus; a folder already written is never replaced.
 */
import assert from "node:assert/strict";
import { exists } from "../../../lib/core/files.ts";
import { join } from "node:path";
import { main } from "../../../cli/main.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { readImage } from "../../../lib/data/decode.ts";
import { gaussianBlur } from "../../../lib/data/perturb.ts";
import { encodePng } from "../../../lib/data/png.ts";
import { calibrate } from "../../../lib/detect/calibrate.ts";
import {
  type Detector,
  DETECTOR_FORMAT,
  detectorWithHead,
  detectorWithLinearHead,
  loadDetector,
} from "../../../lib/detect/detector.ts";
import { RbfSvmHead } from "../../../lib/head/svm.ts";
import { trainHead } from "../../../lib/head/train.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { PROFILE_DIM } from "../../../lib/features/profile.ts";
import { wholeImageFeatures } from "../../../lib/features/sources.ts";
import { createOneClass } from "../../../lib/oneclass/io.ts";
import { resolveSettings, trainOneClass } from "../../../lib/oneclass/train.ts";
import { SHIPPED, testBackend, withTempDir } from "../../_helpers.ts";

const DETECTOR = new URL("../../../models/cgbench-small", import.meta.url).pathname;

/** One-class raw scores and head p(CG) of files under a detector. */
async function scores(det: Detector, files: string[]) {
  const out: { raw: number; p: number }[] = [];
  for (const f of files) {
    const d = await det.score(await Deno.readFile(f));
    out.push({ raw: d.score + det.oneClass.threshold, p: d.pCg });
  }
  return out;
}

/** What `detect --detector DIR FILE --csv` prints to standard error (its header); it must exit 0. */
async function detectHeader(detector: string, file: string): Promise<string> {
  const err: string[] = [];
  const { error, log } = console;
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  console.log = () => {};
  try {
    assert.equal(await main(["detect", "--detector", detector, file, "--csv"]), 0);
  } finally {
    console.error = error;
    console.log = log;
  }
  return err.join("\n");
}

/** The user's camera: the first `n` shipped photographs through a soft lens, as PNGs in `dir`. */
async function softCamera(
  dir: string,
  photos: { path: string }[],
  n: number,
  name: (i: number) => string,
) {
  await Deno.mkdir(dir);
  const files: string[] = [];
  for (const [i, p] of photos.slice(0, n).entries()) {
    const img = gaussianBlur(await readImage(p.path), 1.5);
    files.push(join(dir, name(i)));
    await Deno.writeFile(files.at(-1)!, await encodePng({ ...img, channels: 3 }));
  }
  return files;
}

Deno.test("calibrate: threshold mode keeps photographs of the user's camera inside, flags nothing new, says so", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const photos = (await loadDataset(SHIPPED)).images.filter((i) => i.label === 0);
    // the user's camera: the shipped photographs through a soft lens
    const files = await softCamera(
      join(dir, "camera"),
      photos,
      40,
      (i) => `img_${String(i).padStart(3, "0")}.png`,
    );
    // every other photograph calibrates; the rest are held out
    const calib = join(dir, "calib"), held = files.filter((_, i) => i % 2);
    await Deno.mkdir(calib);
    for (const f of files.filter((_, i) => i % 2 === 0)) {
      await Deno.copyFile(f, join(calib, f.split("/").pop()!));
    }

    const before = await loadDetector(DETECTOR);
    const sOld = await scores(before, held);
    const others = await scores(before, photos.slice(40, 60).map((p) => p.path));
    const flaggedBefore = sOld.filter((s) => s.raw > before.oneClass.threshold).length;
    assert.ok(flaggedBefore >= 8, `the soft camera should leave the model: ${flaggedBefore}/20`);

    const out = join(dir, "mine");
    const r = await calibrate({ detector: DETECTOR, natural: calib, out });
    assert.equal(r.mode, "threshold");
    assert.equal(r.images, 20);
    assert.ok(r.oneclassThreshold.after >= r.oneclassThreshold.before);
    assert.ok(r.headThreshold.after >= r.headThreshold.before);

    const after = await loadDetector(out);
    assert.equal(after.oneClass.threshold, r.oneclassThreshold.after);
    assert.equal(after.headAt, r.headThreshold.after);
    // the held-out photographs of the same camera: mostly inside now
    const sNew = await scores(after, held);
    const flaggedAfter = sNew.filter((s) => s.raw > after.oneClass.threshold).length;
    assert.ok(flaggedAfter <= 5, `held-out photographs of the camera flagged: ${flaggedAfter}/20`);
    // the same model (only thresholds moved): nothing flagged after that was not flagged before
    for (const [i, s] of (await scores(after, photos.slice(40, 60).map((p) => p.path))).entries()) {
      assert.equal(s.raw, others[i].raw);
      if (s.raw > after.oneClass.threshold) assert.ok(s.raw > before.oneClass.threshold);
    }
    before.dispose();
    after.dispose();

    // detect's header and the model card say it is calibrated
    const header = await detectHeader(out, held[0]);
    assert.match(header, /calibrated \(threshold\) on 20 photographs of .*calib/);
    // and which rule gives the verdict (the detector's own, cgbench-small's: both)
    assert.match(header, /; the verdict by rule both$/m);
    const card = await Deno.readTextFile(join(out, "MODEL_CARD.md"));
    assert.match(card, /## Calibrated/);
    assert.match(card, /\| one-class score \| /);
    assert.ok(
      card.startsWith((await Deno.readTextFile(join(DETECTOR, "MODEL_CARD.md"))).trimEnd()),
    );

    // never over a folder already written; refit needs the corpus; too few photographs refused
    await assert.rejects(calibrate({ detector: DETECTOR, natural: calib, out }), /not empty/);
    assert.equal(await exists(join(out, ".calibrating")), false, "the claim goes with the refusal");
    // nor into a folder another calibration is writing (the two both found it empty)
    const busy = join(dir, "busy");
    await Deno.mkdir(busy);
    await Deno.writeTextFile(join(busy, ".calibrating"), "");
    await assert.rejects(
      calibrate({ detector: DETECTOR, natural: calib, out: busy }),
      /busy: another calibration is writing it/,
    );
    await assert.rejects(
      calibrate({ detector: DETECTOR, natural: calib, out: join(dir, "r"), mode: "refit" }),
      /--corpus/,
    );
    const few = join(dir, "few");
    await Deno.mkdir(few);
    for (const f of files.slice(0, 3)) await Deno.copyFile(f, join(few, f.split("/").pop()!));
    await assert.rejects(
      calibrate({ detector: DETECTOR, natural: few, out: join(dir, "f") }),
      /few: 3 readable photographs/,
    );
  });
});

Deno.test("calibrate: refit mode fits the same kind on the corpus and the user's photographs", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const photos = (await loadDataset(SHIPPED)).images.filter((i) => i.label === 0);
    const cam = join(dir, "camera");
    await softCamera(cam, photos, 12, (i) => `${i}.png`);
    // a bad file is named and left out
    await Deno.writeFile(join(cam, "broken.png"), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    const corpus = join(dir, "corpus.csv");
    await Deno.writeTextFile(
      corpus,
      ["Name,Label", ...photos.slice(12).map((p) => `${p.name},0`)].join("\n") + "\n",
    );
    const out = join(dir, "refit");
    const r = await calibrate({
      detector: DETECTOR,
      natural: cam,
      out,
      mode: "refit",
      corpus: SHIPPED,
      corpusCsv: corpus,
    });
    assert.equal(r.images, 12);
    assert.deepEqual(r.skipped.map((s) => s.path), [join(cam, "broken.png")]);
    assert.equal(r.corpus?.images, photos.length - 12);
    const det = await loadDetector(out);
    const old = await loadDetector(DETECTOR);
    assert.equal(det.oneClass.kind, old.oneClass.kind);
    assert.deepEqual(det.oneClass.checks, old.oneClass.checks);
    assert.notEqual(det.oneClass.threshold, old.oneClass.threshold);
    assert.equal(
      (det.info.provenance?.calibration as { mode: string }).mode,
      "refit",
    );
    det.dispose();
    old.dispose();
  });
});

Deno.test("calibrate: a refit folds by source again when the detector's threshold did, and keeps each stage's preparation", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const photos = (await loadDataset(SHIPPED)).images.filter((i) => i.label === 0);
    // a profile Gaussian on three sources of shipped photographs, joined to the shipped head
    const sources = ["a", "b", "c"];
    const corpusPhotos = photos.slice(12);
    const corpus = join(dir, "corpus.csv");
    await Deno.writeTextFile(
      corpus,
      ["Name,Label,Group", ...corpusPhotos.map((p, i) => `${p.name},0,${sources[i % 3]}`)]
        .join("\n") + "\n",
    );
    const runs = join(dir, "runs");
    await trainOneClass({
      data: SHIPPED,
      csv: corpus,
      fitAll: true,
      runs,
      name: "p",
      features: "profile",
      oneclass: "gauss",
      threshold: "cv-source",
      progress: makeProgress({ quiet: true }),
    });
    const joined = join(dir, "joined");
    const made = await detectorWithHead(DETECTOR, runs, "p", { rule: "oneclass" });
    await made.save(joined);
    made.dispose();
    const cam = join(dir, "camera");
    const mine = await softCamera(cam, photos, 12, (i) => `${i}.png`);
    const out = join(dir, "refit");
    await calibrate({
      detector: joined,
      natural: cam,
      out,
      mode: "refit",
      corpus: SHIPPED,
      corpusCsv: corpus,
    });
    const det = await loadDetector(out);
    try {
      assert.equal(det.info.format, DETECTOR_FORMAT);
      assert.deepEqual(det.info.preprocess, { jpeg: 75, oneClass: {} });
      assert.equal(det.oneClass.provenance?.threshold, "cv-source");
      // the threshold: out of fold over the corpus's three sources and the user's photographs
      const files = [...corpusPhotos.map((p) => p.path), ...mine];
      const x = new Float32Array(files.length * PROFILE_DIM);
      for (const [i, f] of files.entries()) {
        x.set(await wholeImageFeatures("profile", await readImage(f)), i * PROFILE_DIM);
      }
      const folds = files.map((_, i) => i < corpusPhotos.length ? i % 3 : 3);
      const by = createOneClass("gauss", {
        ...resolveSettings(undefined, "profile", "gauss"),
        threshold: "cv",
        seed: 0,
      });
      await by.fit(x, files.length, PROFILE_DIM, { foldGroups: folds });
      assert.ok(Math.abs(det.oneClass.threshold - by.threshold) < 1e-4 * Math.abs(by.threshold));
      by.dispose();
    } finally {
      det.dispose();
    }
    // a corpus without its sources cannot be folded by source: refused, nothing written
    const flat = join(dir, "flat.csv");
    await Deno.writeTextFile(
      flat,
      ["Name,Label", ...corpusPhotos.map((p) => `${p.name},0`)].join("\n") + "\n",
    );
    await assert.rejects(
      calibrate({
        detector: joined,
        natural: cam,
        out: join(dir, "refit-flat"),
        mode: "refit",
        corpus: SHIPPED,
        corpusCsv: flat,
      }),
      /Group column/,
    );
    assert.equal(await exists(join(dir, "refit-flat")), false);
  });
});

Deno.test("calibrate: renders mode, a kernel head learns a renderer it never saw from some of its renders, and says so", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const all = (await loadDataset(SHIPPED)).images;
    const photos = all.filter((i) => i.label === 0), cycles = all.filter((i) => i.label === 1);
    const povray = all.filter((i) => i.label === 3);
    // a kernel head on profile features: 28 photographs (four sources) against Cycles alone
    const csv = (rows: string[]) => ["Name,Label,Group", ...rows].join("\n") + "\n";
    await Deno.writeTextFile(
      join(dir, "train.csv"),
      csv([
        ...photos.slice(0, 28).map((p, i) => `${p.name},0,s${i % 4}`),
        ...cycles.map((r) => `${r.name},1,${r.name}`),
      ]),
    );
    const runs = join(dir, "runs"), quiet = makeProgress({ quiet: true });
    const train = join(dir, "train.csv");
    await trainHead({
      natural: SHIPPED,
      naturalCsv: train,
      renders: SHIPPED,
      rendersCsv: train,
      features: "profile",
      model: "rbf",
      runs,
      name: "h",
      progress: quiet,
    });
    await trainOneClass({
      data: SHIPPED,
      csv: train,
      fitAll: true,
      runs,
      name: "p",
      features: "profile",
      oneclass: "gauss",
      progress: quiet,
    });
    const shipped = join(dir, "kernel");
    const made = await detectorWithLinearHead(join(runs, "h"), runs, "p", { rule: "head" });
    await made.save(shipped);
    made.dispose();
    // the user's renderer: 12 POV-Ray renders to learn from, 28 held out; 12 other photographs
    await Deno.writeTextFile(
      join(dir, "learn.csv"),
      csv(povray.slice(0, 12).map((r) => `${r.name},1,${r.name}`)),
    );
    await Deno.writeTextFile(
      join(dir, "mine.csv"),
      csv(photos.slice(28).map((p) => `${p.name},0,${p.name}`)),
    );
    const held = povray.slice(12).map((r) => r.path);
    const out = join(dir, "taught");
    const r = await calibrate({
      detector: shipped,
      natural: SHIPPED,
      naturalCsv: join(dir, "mine.csv"),
      renders: SHIPPED,
      rendersCsv: join(dir, "learn.csv"),
      out,
      mode: "renders",
      progress: quiet,
    });
    assert.equal(r.mode, "renders");
    assert.equal(r.images, 12);
    assert.equal(r.renders!.images, 12);
    const before = await loadDetector(shipped), after = await loadDetector(out);
    try {
      const h0 = before.featureHead as RbfSvmHead, h1 = after.featureHead as RbfSvmHead;
      assert.ok(h1 instanceof RbfSvmHead);
      assert.deepEqual(h1.n, { natural: h0.n.natural, rendered: h0.n.rendered + 12 });
      assert.equal(r.renders!.supportVectors.before, h0.supportVectors);
      assert.equal(r.renders!.supportVectors.after, h1.supportVectors);
      // the held-out renders of the renderer it learnt: more of them flagged, and p(CG) up
      const p0 = (await scores(before, held)).map((s) => s.p);
      const p1 = (await scores(after, held)).map((s) => s.p);
      const flagged = (p: number[], t: number) => p.filter((v) => v >= t).length;
      const mean = (p: number[]) => p.reduce((a, b) => a + b, 0) / p.length;
      assert.ok(
        flagged(p1, after.headAt!) > flagged(p0, before.headAt!) && mean(p1) > mean(p0),
        `held-out POV-Ray renders flagged ${flagged(p0, before.headAt!)} -> ${
          flagged(p1, after.headAt!)
        } of ${held.length}`,
      );
      // its thresholds were set again on the photographs given, as in threshold mode, and their
      // p(CG) under the new head joined the old head's reference (what rule fused reads)
      assert.equal(after.headAt, r.headThreshold.after);
      const ref0 = before.info.headThreshold.reference, ref1 = after.info.headThreshold.reference;
      assert.equal(ref1.length, ref0.length + 12);
      assert.deepEqual(h1.provenance?.learnt, [{ renders: r.renders!.root, images: 12 }]);
    } finally {
      before.dispose();
      after.dispose();
    }
    const card = await Deno.readTextFile(join(out, "MODEL_CARD.md"));
    assert.match(card, /kernel head fitted again on its \d+ support vectors and 12 renders/);
    // detect's header says what it learnt
    const header = await detectHeader(out, held[0]);
    assert.match(
      header,
      /calibrated \(renders\) on 12 photographs of .* and 12 renders of /,
    );
    assert.match(
      header,
      /kernel \(RBF SVM\) head on profile features \(28 photographs, 52 renders\)/,
    );
    // a detector with another head is refused, named; renders mode needs its renders
    await assert.rejects(
      calibrate({
        detector: DETECTOR,
        natural: SHIPPED,
        renders: SHIPPED,
        out: join(dir, "x"),
        mode: "renders",
      }),
      /teaches a kernel head \(rbf\); .* has an image map/,
    );
    await assert.rejects(
      calibrate({ detector: shipped, natural: SHIPPED, out: join(dir, "y"), mode: "renders" }),
      /--renders DIR/,
    );
    // a flag of another mode is refused, not ignored (a forgotten --mode renders, say)
    await assert.rejects(
      calibrate({ detector: shipped, natural: SHIPPED, renders: SHIPPED, out: join(dir, "z") }),
      /--renders is for --mode renders \(the mode is threshold\)/,
    );
    await assert.rejects(
      calibrate({
        detector: shipped,
        natural: SHIPPED,
        renders: SHIPPED,
        corpus: SHIPPED,
        out: join(dir, "z"),
        mode: "renders",
      }),
      /--corpus is for --mode refit/,
    );
    assert.equal(await exists(join(dir, "x")), false);
  });
});
