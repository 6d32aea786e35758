/**
 * The checks that chose versions 3 to 5 of the residual features (docs/results-cgbench.md,
 * "Residual features version 3", "version 4" and "version 5"): residual statistics of every image of a dataset,
 * each re-encoded as JPEG 75 first, in several variants, written to one JSON file for
 * `tasks/py/residual_check.py`; or, with `--images`, the re-encoded images themselves (raw RGB
 * bytes, `N.rgb`, and `index.json`) for `tasks/py/residual_search.py`, the searches of versions 4
 * and 5.
 *
 *   deno run --allow-read --allow-write=OUT.json tasks/residual_variants.ts DATASET OUT.json [VARIANT...]
 *   deno run --allow-read --allow-write=DIR tasks/residual_variants.ts --images DATASET DIR [SIGMA]
 *
 * With SIGMA, every image is blurred (Gaussian, SIGMA px) before the re-encoding: the positive
 * control of `evaluate`, for the search's `--control`.
 *
 * Variants: `current` (this checkout's `residualFeatures`: run the script from a checkout of
 * c5024c8 to get version 2, of 20da3cc for version 3 and its patch variants, of bfecda1 for
 * version 4), and `pP-kK[-sS]`: the mean over the K P x P patches (grid of stride
 * P/2) with the largest luminance standard deviation, after skipping the S largest, of
 * `residualFeatures` of each patch (for P ≤ 64 the statistics of the whole patch; version 3 takes
 * a larger patch's from its own textured 64 px patches). Default: current and the seven patch
 * variants of the check. About 4 min for cgbench with all of them.
 *
 * @module
 */

import { loadDataset } from "../lib/data/dataset.ts";
import { cropAt, type RgbImage } from "../lib/data/image.ts";
import { readImage } from "../lib/data/decode.ts";
import { gaussianBlur, jpegRoundTrip } from "../lib/data/perturb.ts";
import { RESIDUAL_DIM, residualFeatures, texturedPatches } from "../lib/features/residual.ts";

const DEFAULT = [
  "current",
  "p64-k64",
  "p64-k32",
  "p64-k16",
  "p32-k128",
  "p32-k256",
  "p128-k16",
  "p64-k64-s8",
];

/** `pP-kK[-sS]`: see the module documentation. A P x P crop's statistics are those of the crop. */
function patchVariant(spec: string): (img: RgbImage) => Float32Array {
  const m = /^p(\d+)-k(\d+)(?:-s(\d+))?$/.exec(spec);
  if (!m) throw new Error(`unknown variant "${spec}"`);
  const [p, k, skip] = [+m[1], +m[2], +(m[3] ?? 0)];
  return (img) => {
    const pick = texturedPatches(img, { size: p, stride: p / 2, count: skip + k }).slice(skip);
    const acc = new Float64Array(RESIDUAL_DIM);
    for (const [x, y] of pick) {
      const f = residualFeatures(cropAt(img, x, y, p, p));
      for (let i = 0; i < RESIDUAL_DIM; i++) acc[i] += f[i] / pick.length;
    }
    return Float32Array.from(acc);
  };
}

if (Deno.args[0] === "--images") {
  const [, root, dir, sigma] = Deno.args;
  if (!root || !dir) throw new Error("usage: residual_variants.ts --images DATASET DIR [SIGMA]");
  const ds = await loadDataset(root), index = [];
  await Deno.mkdir(dir, { recursive: true });
  for (const [i, e] of ds.images.entries()) {
    const read = await readImage(e.path);
    const img = await jpegRoundTrip(sigma ? gaussianBlur(read, +sigma) : read, 75);
    await Deno.writeFile(`${dir}/${i}.rgb`, img.data);
    index.push({ name: e.name, label: e.label, w: img.width, h: img.height, file: `${i}.rgb` });
  }
  await Deno.writeTextFile(`${dir}/index.json`, JSON.stringify({ classes: ds.classes, index }));
  Deno.exit(0);
}
const [root, out, ...asked] = Deno.args;
if (!root || !out) throw new Error("usage: residual_variants.ts DATASET OUT.json [VARIANT...]");
const names = asked.length ? asked : DEFAULT;
const variants = names.map((n) =>
  [n, n === "current" ? residualFeatures : patchVariant(n)] as const
);
const ds = await loadDataset(root);
const res: Record<string, Record<string, number[]>> = Object.fromEntries(names.map((n) => [n, {}]));
for (const [i, e] of ds.images.entries()) {
  const img = await jpegRoundTrip(await readImage(e.path), 75);
  for (const [n, f] of variants) res[n][e.name] = Array.from(f(img));
  if ((i + 1) % 50 === 0) console.error(`${i + 1} / ${ds.images.length}`);
}
const labels = Object.fromEntries(ds.images.map((e) => [e.name, e.label]));
await Deno.writeTextFile(out, JSON.stringify({ labels, classes: ds.classes, res }));
