/**
 * The learning curve of leave-one-source-out (issue 25): how natural recall and AUC on held-out
 * photograph sources grow with the number of sources, and of photographs, a model is fitted on.
 * For each point, `loso` (lib/eval/loso.ts) holds out each source of at least 10 photographs and
 * fits on a random `--train-sources` of the others, or a random `--train-images` of their
 * photographs, over several seeds; the last point of each curve is every source and photograph.
 * It reuses the features of a finished LOSO run (`--from`), so only the fits are computed.
 * Writes `runs/<name>/curve.json` and `docs/learning-curve.svg` (`--svg`).
 *
 *   deno run --allow-read --allow-write=runs,docs --allow-env --allow-ffi --allow-sys \
 *     tasks/learning_curve.ts --natural runs/natural --renders ../shared/data/cgbench \
 *     --from runs/loso-native [--features residual] [--oneclass knn] [--seeds 0,1]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { initBackend } from "../lib/backends/select.ts";
import { writeJson } from "../lib/core/files.ts";
import { renderSvg, type Series } from "../lib/core/plot.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { loso, type LosoResult } from "../lib/eval/loso.ts";
import type { FeatureSource } from "../lib/features/sources.ts";
import type { OneClassKind } from "../lib/oneclass/estimator.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    natural: { type: "string" },
    renders: { type: "string" },
    from: { type: "string" },
    features: { type: "string", default: "residual" },
    oneclass: { type: "string", default: "knn" },
    seeds: { type: "string", default: "0,1" },
    sources: { type: "string", default: "2,4,8,16,32" },
    images: { type: "string", default: "50,100,200,400,800" },
    name: { type: "string", default: "loso-curve" },
    svg: { type: "string", default: "docs/learning-curve.svg" },
  },
});
if (!v.natural || !v.renders || !v.from) {
  console.error("usage: tasks/learning_curve.ts --natural DIR --renders DIR --from LOSO_RUN");
  Deno.exit(2);
}
await initBackend("auto");
const features = v.features as FeatureSource, kind = v.oneclass as OneClassKind;
const seeds = v.seeds!.split(",").map(Number);
const run = (o: { trainSources?: number; trainImages?: number; seed: number }) =>
  loso({
    natural: v.natural!,
    renders: v.renders!,
    features: [features],
    kinds: [kind],
    heldOut: "big",
    featureCache: join(v.from!, "features"),
    runs: "runs",
    name: v.name,
    progress: makeProgress({ quiet: true }),
    ...o,
  });
/** One point: the mean over seeds of the summary's means, and the mean photographs per fit. */
interface Point {
  x: number;
  recall: number;
  auc: number;
  worstRecall: number;
  worstAuc: number;
}
const point = (x: number, rs: LosoResult[]): Point => {
  const m = (f: (r: LosoResult) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
  return {
    x,
    recall: m((r) => r.cells[0].mean.recall),
    auc: m((r) => r.cells[0].mean.auc),
    worstRecall: m((r) => r.cells[0].worst.recall),
    worstAuc: m((r) => r.cells[0].worst.auc),
  };
};
const curves: Record<string, Point[]> = { sources: [], images: [] };
for (const k of ["sources", "images"] as const) {
  for (const n of (k === "sources" ? v.sources! : v.images!).split(",").map(Number)) {
    const rs: LosoResult[] = [];
    for (const seed of seeds) {
      rs.push(await run(k === "sources" ? { trainSources: n, seed } : { trainImages: n, seed }));
    }
    curves[k].push(point(n, rs));
    console.log(`${k} ${n}: ${JSON.stringify(curves[k].at(-1))}`);
  }
}
const all = await run({ seed: 0 });
const photos = all.sources.reduce((a, s) => a + s.images, 0);
const meanFit = photos - photos / all.sources.length; // photographs of the other sources, about
curves.sources.push(point(all.sources.length - 1, [all]));
curves.images.push(point(Math.round(meanFit), [all]));
await writeJson(join("runs", v.name!, "curve.json"), { features, kind, seeds, curves });
const series = (c: Point[]): Series[] => [
  { name: "AUC, mean over sources", points: c.map((p) => [p.x, p.auc]) },
  { name: "natural recall, mean", points: c.map((p) => [p.x, p.recall]) },
  { name: "AUC, worst source", points: c.map((p) => [p.x, p.worstAuc]), dashed: true },
  { name: "recall, worst source", points: c.map((p) => [p.x, p.worstRecall]), dashed: true },
];
await Deno.writeTextFile(
  v.svg!,
  renderSvg([
    {
      title: `${kind} on ${features}: sources fitted on`,
      xLabel: "photograph sources in each fit",
      yLabel: "held-out sources",
      series: series(curves.sources),
      yRange: [0, 1],
    },
    {
      title: `${kind} on ${features}: photographs fitted on`,
      xLabel: "photographs in each fit",
      yLabel: "held-out sources",
      series: series(curves.images),
      yRange: [0, 1],
    },
  ]),
);
console.log(`wrote runs/${v.name}/curve.json and ${v.svg}`);
