/**
 * Checks the shipped detectors' tests share: what a detector folder holds, that a feature head
 * reads the image as it was trained, and a sanity check every shipped detector with a head trained
 * on cgbench's renders passes: on four
 * photographs of dataset/ and two renders of each renderer (cropped from cgbench, whose renders
 * the head was trained with: a check that it is not broken, not a measure of accuracy), the
 * renders' mean p(CG) is above the photographs', and at least three photographs are called natural.
 */
import assert from "node:assert/strict";
import { loadDataset } from "../../lib/data/dataset.ts";
import { readImage } from "../../lib/data/decode.ts";
import { jpegRoundTrip } from "../../lib/data/perturb.ts";
import { type Detector, loadDetector } from "../../lib/detect/detector.ts";
import { wholeImageFeatures } from "../../lib/features/sources.ts";
import { SHIPPED } from "../_helpers.ts";

/** The detector folder at `model` holds exactly `files`, and (with `maxBytes`) fewer bytes in all. */
export async function holdsOnly(model: URL, files: string[], maxBytes?: number): Promise<void> {
  const names = [...Deno.readDirSync(model)].map((e) => e.name).sort();
  assert.deepEqual(names, files);
  if (maxBytes === undefined) return;
  let bytes = 0;
  for (const f of names) bytes += (await Deno.stat(new URL(f, model))).size;
  assert.ok(bytes < maxBytes, `${bytes} bytes`);
}

/** The head's p(CG) for `file` (`pCg`, from `det.score`) is that of its `mobilenet` features of
 * the image re-encoded as JPEG 75, as the shipped feature heads were trained. */
export async function headReadsJpeg75(det: Detector, file: string, pCg: number): Promise<void> {
  const x = await wholeImageFeatures("mobilenet", await jpegRoundTrip(await readImage(file), 75));
  assert.equal(pCg, det.featureHead!.pCg(x, 1)[0]);
}

/** Loads the detector at `model`, runs the check, and disposes of it. */
export async function rendersAbovePhotographs(model: URL): Promise<void> {
  const det = await loadDetector(model);
  try {
    const ds = await loadDataset(SHIPPED);
    const pick = (label: number) => ds.images.filter((i) => i.label === label).slice(0, 4);
    const photos = pick(0),
      renders = ds.classes.filter((c) => c.label > 0).flatMap((c) => pick(c.label).slice(0, 2));
    const p = async (path: string) => await det.score(await Deno.readFile(path));
    const ph = await Promise.all(photos.map((e) => p(e.path)));
    const re = await Promise.all(renders.map((e) => p(e.path)));
    const mean = (xs: { pCg: number }[]) => xs.reduce((a, x) => a + x.pCg, 0) / xs.length;
    assert.ok(mean(re) > mean(ph), `${mean(re)} vs ${mean(ph)}`);
    assert.ok(ph.filter((d) => d.verdict === "natural").length >= 3);
  } finally {
    det.dispose();
  }
}
