/**
 * A check every shipped detector with a head trained on cgbench's renders passes: on four
 * photographs of dataset/ and two renders of each renderer (cropped from cgbench, whose renders
 * the head was trained with: a check that it is not broken, not a measure of accuracy), the
 * renders' mean p(CG) is above the photographs', and at least three photographs are called natural.
 */
import assert from "node:assert/strict";
import { loadDataset } from "../../lib/data/dataset.ts";
import { loadDetector } from "../../lib/detect/detector.ts";
import { SHIPPED } from "../_helpers.ts";

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
