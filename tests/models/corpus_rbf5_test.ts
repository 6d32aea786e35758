/**
 * The default detector, models/corpus-rbf5: what it is made of (corpus-rbf's kernel head trained
 * with the fifth generator's renders too, corpus-profile's one-class stage, rule fused), and
 * sanity checks on a few of the images shipped in dataset/ (checks that it is not broken, not a
 * measure of accuracy: docs/production.md, "What the sixth generator showed", has those).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_DETECTOR } from "../../cli/detect.ts";
import { quantile } from "../../lib/core/stats.ts";
import { DETECTOR_FORMAT, loadDetector } from "../../lib/detect/detector.ts";
import { RbfSvmHead } from "../../lib/head/svm.ts";
import { SHIPPED, testBackend } from "../_helpers.ts";
import { headReadsJpeg75, holdsOnly, rendersAbovePhotographs } from "./_sanity.ts";

const MODEL = new URL("../../models/corpus-rbf5/", import.meta.url);
const RBF = new URL("../../models/corpus-rbf/", import.meta.url);

Deno.test("corpus-rbf5: the default; corpus-rbf's kernel head with the landscapes' renders added, corpus-profile's Gaussian, rule fused, no photograph inside", async () => {
  await testBackend();
  assert.equal(DEFAULT_DETECTOR.href, MODEL.href);
  await holdsOnly(MODEL, [
    "MODEL_CARD.md",
    "detector.json",
    "head.json",
    "oneclass.bin",
    "oneclass.json",
  ], 2.5e6);
  const det = await loadDetector(MODEL), rbf = await loadDetector(RBF);
  try {
    assert.equal(det.info.format, DETECTOR_FORMAT);
    assert.equal(det.map, undefined);
    const { sha256: _s, ...head } = det.info.head!;
    assert.deepEqual(head, { kind: "rbf", features: "mobilenet", jpeg: 75 });
    assert.ok(det.featureHead instanceof RbfSvmHead);
    assert.equal(det.featureHead.supportVectors, 807);
    assert.equal(det.info.rule, "fused");
    // corpus-rbf's photographs and renders, and the 100 landscapes as a tenth render set
    assert.deepEqual(det.featureHead.n, { natural: 1025, rendered: 859 });
    assert.equal(det.headAt.toFixed(4), "0.5975"); // the threshold its card gives
    const names = det.info.renderers.map((r) => r.name);
    assert.deepEqual(names.slice(0, -1), rbf.info.renderers.map((r) => r.name));
    assert.equal(names.at(-1), "Landscape");
    assert.equal(det.featureHead.reference.length, 1025);
    assert.equal(det.headAt, quantile(det.featureHead.reference, 0.95));
    // the one-class stage is corpus-profile's (and corpus-rbf's), unchanged
    assert.equal(det.oneClass.threshold, rbf.oneClass.threshold);
    const file = join(SHIPPED, "Cycles/cycles_00000.png"), bytesIn = await Deno.readFile(file);
    const d = await det.score(bytesIn);
    assert.equal(d.score, (await rbf.score(bytesIn)).score);
    // the head reads the image re-encoded as JPEG 75, as it was trained
    await headReadsJpeg75(det, file, d.pCg);
  } finally {
    det.dispose();
    rbf.dispose();
  }
});

Deno.test("corpus-rbf5: on a few images of dataset/, renders' p(CG) above photographs', most photographs natural", async () => {
  await testBackend();
  await rendersAbovePhotographs(MODEL);
});
