/**
 * models/corpus-profile, the default detector until models/corpus-linear replaced it: what it is made of, and sanity checks on the images
 * shipped in dataset/ (cropped from cgbench, whose renderers its head was trained on and some of
 * whose photographs its one-class stage was fitted on: checks that it is not broken, not a measure
 * of accuracy; docs/natural-corpus.md and docs/independent-set.md have those).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_DETECTOR } from "../../cli/detect.ts";
import { loadDataset } from "../../lib/data/dataset.ts";
import { readImage } from "../../lib/data/decode.ts";
import { gaussianBlur } from "../../lib/data/perturb.ts";
import { DETECTOR_FORMAT, loadDetector } from "../../lib/detect/detector.ts";
import { wholeImageFeatures } from "../../lib/features/sources.ts";
import { rocAuc } from "../../lib/eval/metrics.ts";
import { SHIPPED, testBackend } from "../_helpers.ts";
import { holdsOnly } from "./_sanity.ts";

const MODEL = new URL("../../models/corpus-profile/", import.meta.url);
const BEFORE = new URL("../../models/cgbench-small/", import.meta.url);

Deno.test("corpus-profile: the old head, a profile Gaussian read as decoded, rule oneclass, no photograph inside", async () => {
  await testBackend();
  assert.notEqual(DEFAULT_DETECTOR.href, MODEL.href);
  await holdsOnly(MODEL, [
    "MODEL_CARD.md",
    "detector.json",
    "model.bin",
    "model.json",
    "oneclass.bin",
    "oneclass.json",
  ], 2e6);
  const det = await loadDetector(MODEL), before = await loadDetector(BEFORE);
  try {
    assert.equal(det.info.format, DETECTOR_FORMAT);
    assert.equal(det.info.features, "profile");
    assert.equal(det.info.rule, "oneclass");
    assert.deepEqual(det.info.preprocess, { jpeg: 75, oneClass: {} });
    assert.equal(det.map!.sha, before.map!.sha);
    assert.equal(det.headAt, before.headAt);
    // fitted on the 1,142 photographs of its card; its threshold from scores out of fold by source
    assert.equal(det.oneClass.reference!.length, 1142);
    const prov = det.info.provenance as { oneclass: { oneclass: { threshold: string } } };
    assert.equal(prov.oneclass.oneclass.threshold, "cv-source");
    assert.equal(det.oneClass.provenance?.threshold, "cv-source"); // a refit folds by source too
    // the head's p(CG) as before; the one-class score on the pixels as decoded
    const file = join(SHIPPED, "Cycles/cycles_00000.png");
    const d = await det.score(await Deno.readFile(file));
    assert.equal(d.pCg, (await before.score(await Deno.readFile(file))).pCg);
    const x = await wholeImageFeatures("profile", await readImage(file));
    assert.ok(Math.abs(d.score - (await det.oneClass.decisionFunction(x, 1))[0]) < 1e-5);
  } finally {
    det.dispose();
    before.dispose();
  }
});

Deno.test("corpus-profile: on dataset/, renders above photographs, most photographs natural, blur pushes them out", async () => {
  await testBackend();
  const det = await loadDetector(MODEL);
  try {
    const ds = await loadDataset(SHIPPED);
    const scores = new Map<number, number[]>();
    let natural = 0, unsure = 0, rose = 0;
    const photos = ds.images.filter((i) => i.label === 0);
    for (const im of ds.images) {
      const img = await readImage(im.path);
      const d = await det.score({ ...img, data: rgba(img.data) });
      scores.set(im.label, [...(scores.get(im.label) ?? []), d.score]);
      if (im.label !== 0) continue;
      if (d.verdict === "natural") natural++;
      if (d.verdict === "unsure") unsure++;
      const blurred = gaussianBlur(img, 1.5);
      if ((await det.score({ ...blurred, data: rgba(blurred.data) })).score > d.score) rose++;
    }
    const nat = scores.get(0)!;
    for (const c of ds.classes.filter((c) => c.label > 0)) {
      const cg = scores.get(c.label)!;
      const auc = rocAuc([...nat, ...cg], [...nat.map(() => 0), ...cg.map(() => 1)]);
      assert.ok(auc > 0.6, `${c.name}: one-class AUC ${auc}`);
    }
    // at this commit: AUC 0.839 / 0.914 / 0.821 (Cycles, EEVEE, POV-Ray); 39 of 40 photographs
    // natural, none unsure; a blur raised the score of all 40
    assert.ok(natural >= 0.8 * photos.length, `${natural}/${photos.length} natural`);
    assert.ok(unsure <= 0.1 * photos.length, `${unsure}/${photos.length} unsure`);
    assert.ok(rose >= 0.9 * photos.length, `blur raised ${rose}/${photos.length} scores`);
  } finally {
    det.dispose();
  }
});

/** RGB pixels as RGBA. */
function rgba(rgb: Uint8Array): Uint8ClampedArray {
  const out = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    out.set(rgb.subarray(i, i + 3), j);
    out[j + 3] = 255;
  }
  return out;
}
