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
import { readImage } from "../../lib/data/decode.ts";
import { jpegRoundTrip } from "../../lib/data/perturb.ts";
import { DETECTOR_FORMAT, loadDetector } from "../../lib/detect/detector.ts";
import { wholeImageFeatures } from "../../lib/features/sources.ts";
import { SHIPPED, testBackend } from "../_helpers.ts";
import { rendersAbovePhotographs } from "./_sanity.ts";

const MODEL = new URL("../../models/corpus-linear/", import.meta.url);
const PROFILE = new URL("../../models/corpus-profile/", import.meta.url);

Deno.test("corpus-linear: no longer the default; a linear mobilenet head, corpus-profile's Gaussian, rule fused, no photograph inside", async () => {
  await testBackend();
  assert.notEqual(DEFAULT_DETECTOR.href, MODEL.href);
  const files = [...Deno.readDirSync(MODEL)].map((e) => e.name).sort();
  assert.deepEqual(files, [
    "MODEL_CARD.md",
    "detector.json",
    "head.json",
    "oneclass.bin",
    "oneclass.json",
  ]);
  let bytes = 0;
  for (const f of files) bytes += (await Deno.stat(new URL(f, MODEL))).size;
  assert.ok(bytes < 1e6, `${bytes} bytes`);
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
    const d = await det.score(await Deno.readFile(file)), img = await readImage(file);
    assert.equal(d.score, (await profile.score(await Deno.readFile(file))).score);
    // the head reads the image re-encoded as JPEG 75, as it was trained
    const x = await wholeImageFeatures("mobilenet", await jpegRoundTrip(img, 75));
    assert.equal(d.pCg, det.featureHead!.pCg(x, 1)[0]);
  } finally {
    det.dispose();
    profile.dispose();
  }
});

Deno.test("corpus-linear: on a few images of dataset/, renders' p(CG) above photographs', most photographs natural", async () => {
  await testBackend();
  await rendersAbovePhotographs(MODEL);
});
