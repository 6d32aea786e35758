/**
 * Issue 10's optional feature source, a pretrained natural-image CNN, measured against the
 * residual statistics on the same images (docs/results-cgbench.md, "A pretrained CNN's
 * features"). The network is the MobileNetV2 that the `nsfwjs` npm package (4.4.0, MIT) ships
 * with its weights inside the package (never fetched at run time): ImageNet features fine-tuned
 * by GantMan/nsfw_model on web images in five classes (drawings, hentai, neutral, porn, sexy).
 * Two views of it:
 * - `mobilenet`: the toolkit's feature source (`lib/features/pretrained.ts`): the mean and max
 *   of each channel of an early layer (`block_6_expand_relu`), averaged over nine 224 px crops
 *   at the image's own resolution;
 * - `mobilenet-whole`: the network as nsfwjs uses it, on the whole image resized to 224 × 224:
 *   the mean and max of each channel of its last convolutional block (`out_relu`, 2560 numbers);
 * and, for comparison, `residual` (the shipped detector's features).
 * Every image is first re-encoded as JPEG 75, as for the shipped detector.
 *
 * One-class models, each fitted on natural images only, with its threshold the (1 − ν) quantile
 * of out-of-fold natural scores (`cv`), as in the toolkit:
 * - `gauss`: the toolkit's Ledoit–Wolf Gaussian on standardised features (on `residual`, the
 *   shipped design: the co-occurrences score, the slopes only check);
 * - `knn`: the toolkit's k-NN with its defaults (mean Euclidean distance to the 5 nearest
 *   standardised training vectors), as in the one-class matrix.
 * Two protocols; no stage sees a render, so every renderer is unseen in both:
 * - `random`: each seed's split (`makeSplit` with the default fractions, as `train-map` draws it);
 *   fitted on its natural train + val + oneclass images, scored on its test split;
 * - `sources` (when DATA has a SOURCES.csv with a `source` column, as cgbench has): one source of
 *   photographs held out at a time, grouped as `tasks/py/residual_search.py` groups them
 *   (sources with 15 photographs or more alone, desktop wallpapers together, the rest as
 *   "other"); fitted on all other photographs, scored on the held-out ones against every render.
 * Prints AUC and NI recall per configuration and writes `runs/pretrained-check/results.json`.
 * About 25 min for cgbench on one core (the features are cached in `runs/pretrained-check/`).
 *
 *   deno run --allow-read --allow-write=runs --allow-env --allow-ffi --allow-sys \
 *     tasks/pretrained_check.ts [DATA (../shared/data/cgbench)] [SEEDS (0,1,2)]
 *
 * @module
 */

import { join } from "node:path";
import { MobileNetV2Model } from "npm:nsfwjs@4.4.0/models/mobilenet_v2";
import { initBackend } from "../lib/backends/select.ts";
import { loadBundle, saveBundle } from "../lib/core/bundle.ts";
import { tf } from "../lib/core/deps.ts";
import { writeJson } from "../lib/core/files.ts";
import { mean } from "../lib/core/stats.ts";
import { ImageStore } from "../lib/data/cache.ts";
import { loadDataset } from "../lib/data/dataset.ts";
import { DEFAULT_FRACTIONS, makeSplit } from "../lib/data/split.ts";
import { rocAuc } from "../lib/eval/metrics.ts";
import { extractFeatures } from "../lib/features/extract.ts";
import { createOneClass } from "../lib/oneclass/io.ts";
import { resolveSettings } from "../lib/oneclass/train.ts";
import { ensureDir } from "../lib/runs/folder.ts";

const [data = "../shared/data/cgbench", seedList = "0,1,2"] = Deno.args;
const seeds = seedList.split(",").map(Number);
const out = "runs/pretrained-check";
await ensureDir(out);
await initBackend("auto");

const ds = await loadDataset(data);
const store = new ImageStore({ jpegQuality: 75 });
const names = ds.images.map((e) => e.name);

/** The CNN's pooled features of every image (cached with the list of images). */
async function cnnFeatures(): Promise<{ data: Float32Array; dim: number }> {
  const key = JSON.stringify(names);
  try {
    const { manifest, arrays } = await loadBundle(out, "mobilenet-whole");
    if (manifest.images === key) {
      const f = arrays.get("features")!;
      return { data: f.data, dim: f.shape[1] };
    }
  } catch { /* absent or stale */ }
  // deno-lint-ignore no-explicit-any
  const json = (await MobileNetV2Model.modelJson()).default as any;
  const base64 = (await MobileNetV2Model.weightBundles[0]()).default as string;
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const full = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: bytes.buffer,
  }));
  const net = tf.model({
    inputs: full.inputs,
    outputs: full.getLayer("out_relu").output as tf.SymbolicTensor,
  });
  const dim = 2560, data = new Float32Array(names.length * dim);
  for (const [i, e] of ds.images.entries()) {
    const img = await store.uncached(e.path);
    const v = tf.tidy(() => {
      const x = tf.tensor3d(img.data, [img.height, img.width, 3], "int32").toFloat().div(255);
      const r = tf.image.resizeBilinear(x as tf.Tensor3D, [224, 224], true).expandDims(0);
      const o = net.predict(r) as tf.Tensor4D;
      return tf.concat([o.mean([1, 2]), o.max([1, 2])], 1).dataSync() as Float32Array;
    });
    data.set(v, i * dim);
    if ((i + 1) % 50 === 0) console.error(`  ${i + 1}/${names.length} images`);
  }
  full.dispose();
  await saveBundle(out, "mobilenet-whole", "cgvsni-pretrained-check/1", [
    { name: "features", shape: [names.length, dim], data },
  ], { images: key });
  return { data, dim };
}

console.error("MobileNetV2 features of the whole image …");
const cnn = await cnnFeatures();
/** A source without a map, for every image (cached in `out`). */
async function wholeImages(source: "residual" | "mobilenet") {
  console.error(`${source} features …`);
  return await extractFeatures({
    source,
    samples: ds.images.map((e) => ({ entry: { ...e, role: "test" as const }, tile: 0 })),
    store,
    view: { kind: "full" },
    cache: { dir: out, key: source },
    onBatch: (k) => k % 50 === 0 && console.error(`  ${k}/${names.length} images`),
  });
}

type Vectors = { data: Float32Array; dim: number };
const sets: [string, Vectors][] = [
  ["residual", await wholeImages("residual")],
  ["mobilenet", await wholeImages("mobilenet")],
  ["mobilenet-whole", cnn],
];
// each set with both models; on residual, the Gaussian as shipped (the slopes only check)
const configs = sets.flatMap(([features, set]) =>
  (["gauss", "knn"] as const).map((kind) => ({
    features,
    kind,
    set,
    settings: features === "residual" ? resolveSettings(undefined, "residual", kind) : {},
  }))
);
const renderers = ds.classes.filter((c) => c.label > 0);
const rowsOf = (set: Vectors, idx: number[]) => {
  const x = new Float32Array(idx.length * set.dim);
  idx.forEach((j, k) => x.set(set.data.subarray(j * set.dim, (j + 1) * set.dim), k * set.dim));
  return x;
};
const indices = (keep: (e: typeof ds.images[number], i: number) => boolean) =>
  ds.images.flatMap((e, i) => (keep(e, i) ? [i] : []));

/** Fits on `train`, scores `test`: AUC per renderer (photographs of `test` vs its renders). */
async function trial(c: typeof configs[number], train: number[], test: number[]) {
  const model = await createOneClass(c.kind, c.settings).fit(
    rowsOf(c.set, train),
    train.length,
    c.set.dim,
  );
  const s = await model.decisionFunction(rowsOf(c.set, test), test.length);
  model.dispose();
  const labels = test.map((i) => ds.images[i].label);
  const natural = s.filter((_, k) => labels[k] === 0);
  const auc = Object.fromEntries(renderers.map((r) => {
    const keep = labels.flatMap((l, k) => (l === 0 || l === r.label ? [k] : []));
    return [r.name, rocAuc(keep.map((k) => s[k]), keep.map((k) => (labels[k] > 0 ? 1 : 0)))];
  }));
  return { auc, niRecall: natural.filter((v) => v <= 0).length / natural.length };
}

// the protocols: random splits, and photographs held out by source
const trials: {
  features: string;
  kind: string;
  protocol: string;
  fold: string;
  auc: Record<string, number>;
  niRecall: number;
}[] = [];
for (const seed of seeds) {
  const role = new Map(makeSplit(ds.images, DEFAULT_FRACTIONS, seed).map((e) => [e.name, e.role]));
  const train = indices((e) => e.label === 0 && role.get(e.name) !== "test");
  const test = indices((e) => role.get(e.name) === "test");
  for (const c of configs) {
    trials.push({
      features: c.features,
      kind: c.kind,
      protocol: "random",
      fold: `seed ${seed}`,
      ...(await trial(c, train, test)),
    });
  }
}
const groups = await sourceGroups();
if (groups) {
  const renders = indices((e) => e.label > 0);
  for (const g of [...new Set(groups.values())].sort()) {
    const held = indices((e) => e.label === 0 && groups.get(e.name) === g);
    const train = indices((e) => e.label === 0 && groups.get(e.name) !== g);
    for (const c of configs) {
      trials.push({
        features: c.features,
        kind: c.kind,
        protocol: "sources",
        fold: g,
        ...(await trial(c, train, [...held, ...renders])),
      });
    }
  }
}

/** Each photograph's source group (as residual_search.py's `source_groups`), if DATA says. */
async function sourceGroups(): Promise<Map<string, string> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(data, "SOURCES.csv"));
  } catch {
    return undefined;
  }
  const [head, ...lines] = text.trim().split("\n");
  const col = head.split(",").indexOf("source");
  if (col < 0) return undefined;
  const source = new Map(lines.map((l) => {
    const cells = l.split(",");
    return [cells[0], cells[col].split(" (")[0]];
  }));
  const photos = ds.images.filter((e) => e.label === 0);
  const count = new Map<string, number>();
  for (const e of photos) {
    count.set(source.get(e.name) ?? "?", (count.get(source.get(e.name) ?? "?") ?? 0) + 1);
  }
  const wallpapers = [
    "debian:mate-backgrounds",
    "debian:plasma-workspace-wallpapers",
    "debian:lomiri-wallpapers-16.04",
    "debian:lomiri-wallpapers-20.04",
    "debian:gnome-control-center-data",
  ];
  return new Map(photos.map((e) => {
    const s = source.get(e.name) ?? "?";
    return [e.name, count.get(s)! >= 15 ? s : wallpapers.includes(s) ? "wallpapers" : "other"];
  }));
}

const spread = (xs: number[]) =>
  `${mean(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
for (const protocol of ["random", "sources"]) {
  const mine = trials.filter((t) => t.protocol === protocol);
  if (!mine.length) continue;
  console.log(
    `\n${
      protocol === "random"
        ? `random splits, seeds ${seeds.join(", ")}`
        : "one source of photographs held out at a time"
    } (mean, range over ${protocol === "random" ? "seeds" : "held-out sources"})\n`,
  );
  console.log(
    `| features | model | ${
      renderers.map((r) => `${r.name} AUC`).join(" | ")
    } | mean AUC | NI recall |`,
  );
  console.log(`|---|---|${renderers.map(() => "---").join("|")}|---|---|`);
  for (const c of configs) {
    const t = mine.filter((x) => x.features === c.features && x.kind === c.kind);
    console.log(
      `| ${c.features} | ${c.kind} | ${
        renderers.map((r) => spread(t.map((x) => x.auc[r.name]))).join(" | ")
      } | ${spread(t.map((x) => mean(Object.values(x.auc))))} | ${
        spread(t.map((x) => x.niRecall))
      } |`,
    );
  }
  if (protocol === "sources") {
    console.log("\nper held-out source: mean AUC / NI recall\n");
    for (const c of configs) {
      const t = mine.filter((x) => x.features === c.features && x.kind === c.kind);
      console.log(
        `${c.features} ${c.kind}: ${
          t.map((x) =>
            `${x.fold} ${mean(Object.values(x.auc)).toFixed(2)} / ${x.niRecall.toFixed(2)}`
          ).join("; ")
        }`,
      );
    }
  }
}
await writeJson(join(out, "results.json"), { data, seeds, trials });
