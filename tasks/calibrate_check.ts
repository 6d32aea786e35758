/**
 * Calibration on a held-out photograph source (issue 25, docs/natural-corpus.md): a source of
 * the natural corpus the detector never saw is split in two (alternate photographs in name
 * order); `calibrate` is run on one half in each mode, and the detector before and after scores
 * the other half and every render of `--renders`. Prints, per detector: natural recall of the
 * held-out half (one-class stage inside; verdict natural), the verdicts' shares, and the AUC of
 * the one-class score, the head and the fused score against each renderer. Writes
 * `runs/<name>/results.json` and the two calibrated detectors.
 *
 *   deno run --allow-read --allow-write=runs --allow-env --allow-ffi --allow-sys \
 *     tasks/calibrate_check.ts --detector models/cgbench-small --corpus runs/natural \
 *     --source polyu --renders ../shared/data/cgbench --refit-corpus ../shared/data/cgbench
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { initBackend } from "../lib/backends/select.ts";
import { writeJson } from "../lib/core/files.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { loadDataset } from "../lib/data/dataset.ts";
import { calibrate } from "../lib/detect/calibrate.ts";
import { type Detection, loadDetector } from "../lib/detect/detector.ts";
import { rocAuc } from "../lib/eval/metrics.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    detector: { type: "string", default: "models/cgbench-small" },
    corpus: { type: "string" },
    source: { type: "string" },
    renders: { type: "string" },
    "refit-corpus": { type: "string" },
    name: { type: "string", default: "calibrate-check" },
  },
});
if (!v.corpus || !v.source || !v.renders) {
  console.error("usage: tasks/calibrate_check.ts --corpus DIR --source NAME --renders DIR");
  Deno.exit(2);
}
await initBackend("auto");
// the folder is removed first: refuse a name that is not one run folder (an empty name is runs/)
if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(v.name!)) {
  throw new Error(`--name must be a run name (letters, digits, '.', '_', '-'), got "${v.name}"`);
}
const out = join("runs", v.name!);
await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(out, { recursive: true });
const corpus = await loadDataset(v.corpus!, { naturalOnly: true });
const mine = corpus.images.filter((e) => e.group === v.source).sort((a, b) =>
  a.name < b.name ? -1 : 1
);
if (mine.length < 20) throw new Error(`${v.source}: ${mine.length} photographs, need 20`);
const calib = mine.filter((_, i) => i % 2 === 0), held = mine.filter((_, i) => i % 2 === 1);
const csv = join(out, "calibration.csv");
await Deno.writeTextFile(csv, ["Name,Label", ...calib.map((e) => `${e.name},0`)].join("\n") + "\n");
const progress = makeProgress();
const dets: [string, string][] = [["before", v.detector!]];
for (const mode of ["threshold", "refit"] as const) {
  if (mode === "refit" && !v["refit-corpus"]) continue;
  const dir = join(out, mode);
  await calibrate({
    detector: v.detector!,
    natural: v.corpus!,
    naturalCsv: csv,
    out: dir,
    mode,
    corpus: v["refit-corpus"],
    progress,
  });
  dets.push([mode, dir]);
}
const renders = (await loadDataset(v.renders!)).images.filter((e) => e.label > 0);
const rendererName = (l: number) => `renderer ${l}`;
const results: Record<string, unknown> = {};
for (const [name, path] of dets) {
  const det = await loadDetector(path);
  const score = async (paths: string[]) => {
    const d: Detection[] = [];
    for (const p of paths) d.push(await det.score(await Deno.readFile(p), { name: p }));
    return d;
  };
  progress.log(`${name}: scoring ${held.length} photographs and ${renders.length} renders`);
  const photos = await score(held.map((e) => e.path));
  const cg = await score(renders.map((e) => e.path));
  const share = (ds: Detection[], verdict: string) =>
    ds.filter((d) => d.verdict === verdict).length / ds.length;
  const auc: Record<string, Record<string, number>> = {};
  for (const l of [...new Set(renders.map((e) => e.label))].sort()) {
    const mineCg = cg.filter((_, i) => renders[i].label === l);
    const a = (f: (d: Detection) => number) =>
      rocAuc(
        [...photos.map(f), ...mineCg.map(f)],
        [...photos.map(() => 0), ...mineCg.map(() => 1)],
      );
    auc[rendererName(l)] = {
      oneclass: a((d) => d.score),
      head: a((d) => d.pCg),
      fused: a((d) => d.fused ?? NaN),
    };
  }
  const r = {
    oneclassRecall: photos.filter((d) => d.score <= 0 && !d.checks.length).length / photos.length,
    headRecall: photos.filter((d) => d.pCg < det.headAt).length / photos.length,
    photos: {
      natural: share(photos, "natural"),
      unsure: share(photos, "unsure"),
      cg: share(photos, "computer-generated"),
    },
    renders: {
      natural: share(cg, "natural"),
      unsure: share(cg, "unsure"),
      cg: share(cg, "computer-generated"),
    },
    auc,
    thresholds: { oneclass: det.oneClass.threshold, head: det.headAt },
  };
  results[name] = r;
  console.log(name, JSON.stringify(r));
  det.dispose();
}
await writeJson(join(out, "results.json"), {
  detector: v.detector,
  source: v.source,
  calibration: calib.length,
  heldOut: held.length,
  renderers: (await loadDataset(v.renders!)).classes.filter((c) => c.label > 0),
  results,
});
console.log(`wrote ${out}/results.json`);
