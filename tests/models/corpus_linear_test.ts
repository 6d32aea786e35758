/**
 * models/corpus-linear, the default detector until models/corpus-rbf5 replaced it (docs/production.md,
 * "What the sixth generator showed"): what it is made of, and sanity checks on a few of
 * the images shipped in dataset/ (cropped from cgbench, whose renders its head was trained with:
 * checks that it is not broken, not a measure of accuracy; docs/production.md and
 * docs/independent-set.md have those).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_DETECTOR } from "../../cli/detect.ts";
import { quantile } from "../../lib/core/stats.ts";
import { DETECTOR_FORMAT, loadDetector } from "../../lib/detect/detector.ts";
import { SHIPPED, testBackend } from "../_helpers.ts";
import { headReadsJpeg75, holdsOnly, rendersAbovePhotographs } from "./_sanity.ts";

const MODEL = new URL("../../models/corpus-linear/", import.meta.url);
const PROFILE = new URL("../../models/corpus-profile/", import.meta.url);

Deno.test("corpus-linear: no longer the default; a linear mobilenet head, corpus-profile's Gaussian, rule fused, no photograph inside", async () => {
  await testBackend();
  assert.notEqual(DEFAULT_DETECTOR.href, MODEL.href);
  await holdsOnly(MODEL, [
    "MODEL_CARD.md",
    "detector.json",
    "head.json",
    "oneclass.bin",
    "oneclass.json",
  ], 1e6);
  const det = await loadDetector(MODEL), profile = await loadDetector(PROFILE);
  try {
    assert.equal(det.info.format, DETECTOR_FORMAT);
    assert.equal(det.map, undefined);
    const { sha256, ...head } = det.info.head!;
    assert.deepEqual(head, { kind: "linear", features: "mobilenet", jpeg: 75 });
    assert.match(sha256!, /^[0-9a-f]{64}$/); // head.json is checked against it when loading
    assert.equal(det.info.rule, "fused");
    assert.deepEqual(det.info.preprocess, { oneClass: {} });
    // the head: trained on the 1,025 photographs and 759 renders of its card, its threshold the
    // 95 % quantile of the photographs' out-of-fold p(CG)
    assert.deepEqual(det.featureHead!.n, { natural: 1025, rendered: 759 });
    assert.equal(det.featureHead!.reference.length, 1025);
    assert.equal(det.headAt, quantile(det.featureHead!.reference, 0.95));
    assert.equal(det.info.renderers.length, 9);
    // the one-class stage is corpus-profile's, unchanged
    assert.equal(det.oneClass.threshold, profile.oneClass.threshold);
    assert.equal(det.oneClass.reference!.length, 1142);
    const file = join(SHIPPED, "Cycles/cycles_00000.png");
    const d = await det.score(await Deno.readFile(file));
    assert.equal(d.score, (await profile.score(await Deno.readFile(file))).score);
    await headReadsJpeg75(det, file, d.pCg);
  } finally {
    det.dispose();
    profile.dispose();
  }
});

Deno.test("corpus-linear: on a few images of dataset/, renders' p(CG) above photographs', most photographs natural", async () => {
  await testBackend();
  await rendersAbovePhotographs(MODEL);
});
