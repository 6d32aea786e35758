/**
 * models/corpus-rbf, a kernel-head detector beside the default: what it is made of (corpus-linear's
 * training images, one-class stage and rule, an RBF SVM for a head), and sanity checks
 * on a few of the images shipped in dataset/ (checks that it is not broken, not a measure of
 * accuracy: docs/production.md, "A non-linear head", has those).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_DETECTOR } from "../../cli/detect.ts";
import { quantile } from "../../lib/core/stats.ts";
import { loadDetector } from "../../lib/detect/detector.ts";
import { RbfSvmHead } from "../../lib/head/svm.ts";
import { SHIPPED, testBackend } from "../_helpers.ts";
import { headReadsJpeg75, holdsOnly, rendersAbovePhotographs } from "./_sanity.ts";

const MODEL = new URL("../../models/corpus-rbf/", import.meta.url);
const LINEAR = new URL("../../models/corpus-linear/", import.meta.url);

Deno.test("corpus-rbf: corpus-linear's images, one-class stage and rule, with a kernel head; not the default", async () => {
  await testBackend();
  assert.notEqual(DEFAULT_DETECTOR.href, MODEL.href);
  await holdsOnly(MODEL, [
    "MODEL_CARD.md",
    "detector.json",
    "head.json",
    "oneclass.bin",
    "oneclass.json",
  ]);
  const det = await loadDetector(MODEL), linear = await loadDetector(LINEAR);
  try {
    const { sha256: _s, ...head } = det.info.head!;
    assert.deepEqual(head, { kind: "rbf", features: "mobilenet", jpeg: 75 });
    assert.ok(det.featureHead instanceof RbfSvmHead);
    assert.equal(det.featureHead.supportVectors, 700);
    assert.equal(det.info.rule, "fused");
    // corpus-linear's training images: the same counts, renderers and photograph sources
    assert.deepEqual(det.featureHead.n, linear.featureHead!.n);
    assert.deepEqual(det.info.renderers, linear.info.renderers);
    assert.deepEqual(det.featureHead.provenance, linear.featureHead!.provenance);
    assert.equal(det.headAt, quantile(det.featureHead.reference, 0.95));
    assert.equal(det.oneClass.threshold, linear.oneClass.threshold);
    const file = join(SHIPPED, "Cycles/cycles_00000.png"), bytes = await Deno.readFile(file);
    const d = await det.score(bytes);
    assert.equal(d.score, (await linear.score(bytes)).score); // the same one-class stage
    await headReadsJpeg75(det, file, d.pCg); // the head reads the image as JPEG 75
  } finally {
    det.dispose();
    linear.dispose();
  }
});

Deno.test("corpus-rbf: on a few images of dataset/, renders' p(CG) above photographs', most photographs natural", async () => {
  await testBackend();
  await rendersAbovePhotographs(MODEL);
});
