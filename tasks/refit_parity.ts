/**
 * `calibrate --mode renders`'s refit against scikit-learn's (docs/production.md, "What the night in
 * training showed"): {@link RbfSvmHead.withImages} on a detector's kernel head and renders' cached
 * head features, against the head `tasks/py/head_add_renders.py` wrote from the same features;
 * prints both heads' support vectors and the largest difference of their decisions on the renders.
 *
 *     deno run --allow-read tasks/refit_parity.ts DETECTOR FEATURES FOLDER[,FOLDER] PY_DETECTOR
 *
 * FEATURES is a `train-head --features mobilenet --match-compression 75` run's cache (its
 * renders-mobilenet list), as head_add_renders.py reads it.
 *
 * @module
 */

import { loadBundle } from "../lib/core/bundle.ts";
import { RbfSvmHead } from "../lib/head/mod.ts";

const [detector, cache, folders, py] = Deno.args;
if (!py) throw new Error("usage: refit_parity.ts DETECTOR FEATURES FOLDER[,FOLDER] PY_DETECTOR");
// the cached list, its length and checksum checked as the toolkit checks them
const { manifest, arrays } = await loadBundle(cache, "renders-mobilenet");
const names = manifest.names as string[];
const { data: all, shape: [, d] } = [...arrays.values()][0];
const want = folders.split(",");
const picked = names.map((n, i) => [n.split("#")[0], i] as const)
  .filter(([n]) => want.includes(n.split("/")[0]));
const x = new Float32Array(picked.length * d);
picked.forEach(([, i], k) => x.set(all.subarray(i * d, (i + 1) * d), k * d));
const head = async (dir: string) =>
  RbfSvmHead.fromJSON(JSON.parse(await Deno.readTextFile(`${dir}/head.json`)), `${dir}/head.json`);
const t0 = performance.now();
const ours = (await head(detector)).withImages(x, picked.length, d, picked.map(() => 1));
const ms = performance.now() - t0;
const theirs = await head(py);
const a = ours.decisionFunction(x, picked.length), b = theirs.decisionFunction(x, picked.length);
const gap = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
console.log(
  `${picked.length} renders of ${folders}: withImages ${ours.supportVectors} support vectors ` +
    `(${ms.toFixed(0)} ms), scikit-learn ${theirs.supportVectors}; largest decision difference ` +
    gap.toExponential(2),
);
