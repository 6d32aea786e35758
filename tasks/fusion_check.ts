/**
 * The fused score of the two stages (`Detector.fused`) on renderers no stage saw: does it rank
 * their renders better than the supervised head or the residual Gaussian alone?
 * (docs/results-cgbench.md, "A fused score of the two stages".) The matrix's one-class cells were
 * fitted before the estimators kept their natural references, so this recomputes them; it was
 * also how the score was first measured, before it was built.
 *
 * On a finished leave-one-renderer-out matrix (`deno task oneclass-matrix --name NAME …`), each
 * stage is referred to natural images it never trained on, never to a test image:
 * - the head to its map's natural `val` and `oneclass` images (those its threshold is set on);
 * - the Gaussian to the out-of-fold scores of its natural training images (those its threshold
 *   is set on).
 *
 * Fisher's method, as the detector computes it (`fisherScore`, `upperTail`): F = −2 (ln u_head +
 * ln u_oc) − 9.488, u an image's upper-tail p-value among its stage's references, (k + 1) /
 * (n + 1), 9.488 the 0.95 quantile of χ²(4) (exact if the two stages were independent on
 * photographs, which the NI recall below checks). The test scores are those the matrix saved.
 * Prints the AUC, NI recall and CG recall of the head, the one-class stage and F per cell, and
 * writes them to `runs/NAME/fusion-check.json`.
 *
 *   deno run --allow-read --allow-write=runs --allow-env --allow-ffi --allow-sys \
 *     tasks/fusion_check.ts [NAME (mc75)] [SEEDS (0,1,2)]
 *
 * @module
 */

import { join } from "node:path";
import { initBackend } from "../lib/backends/select.ts";
import { loadBundle } from "../lib/core/bundle.ts";
import { exists, readJsonIfExists, writeJson } from "../lib/core/files.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { fisherScore, quantile, upperTail } from "../lib/core/stats.ts";
import type { Evaluation } from "../lib/eval/evaluation.ts";
import { rocAuc } from "../lib/eval/metrics.ts";
import { openMapRun } from "../lib/map/run.ts";
import { naturalHeadScores } from "../lib/map/threshold.ts";
import { createOneClass } from "../lib/oneclass/io.ts";

/** The one-class cell fused with the head. */
const CELL = "residual-gauss";
/** A map-feature cell of every row, whose evaluation holds the head's test scores. */
const HEAD_CELL = "l9-flow";

const [name = "mc75", seedList = "0,1,2"] = Deno.args;
const runs = "runs", log = makeProgress({ quiet: true });
await initBackend("auto");
const matrix = await readJsonIfExists<{ renderers: string[] }>(
  join(runs, name, "oneclass-matrix.json"),
);
if (!matrix) throw new Error(`${runs}/${name}/oneclass-matrix.json: run oneclass-matrix first`);

const share = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;

/** One cell: a seed and its held-out renderer; each figure for the head, the one-class stage, F. */
interface Row {
  seed: number;
  renderer: string;
  auc: Record<Stage, number>;
  niRecall: Record<Stage, number>;
  cgRecall: Record<Stage, number>;
}
type Stage = "head" | "oneclass" | "fused";
const rows: Row[] = [];
for (const seed of seedList.split(",").map(Number)) {
  const runOf = (r: string) => `${name}-s${seed}-no${r}`;
  // the residual cell is fitted once per seed, in the first row's map run
  let ocDir = "";
  for (const r of matrix.renderers) {
    if (await exists(join(runs, runOf(r), CELL, "oneclass.json"))) {
      ocDir = join(runs, runOf(r));
      break;
    }
  }
  if (!ocDir) throw new Error(`seed ${seed}: no ${CELL} cell`);
  // the Gaussian's references: out-of-fold scores of its training vectors, as its threshold
  const cfg = JSON.parse(await Deno.readTextFile(join(ocDir, CELL, "config.json")));
  const f = (await loadBundle(join(ocDir, "features"), "pool-residual-image")).arrays.get(
    "features",
  )!;
  const [n, d] = f.shape;
  const est = createOneClass("gauss", { ...cfg.settings, seed: cfg.seed, threshold: "train" });
  const fit = { groups: Array.from({ length: n }, (_, i) => i) };
  await est.fit(f.data, n, d, fit);
  const refOc = Array.from(await est.outOfFold(f.data, n, d, fit));
  est.dispose();
  const ocEval = JSON.parse(
    await Deno.readTextFile(join(ocDir, CELL, "evaluation", "results.json")),
  ) as Evaluation;
  if (Math.abs(quantile(refOc, 0.95) - ocEval.threshold.value) > 1e-9) {
    throw new Error(`seed ${seed}: the out-of-fold scores do not give the saved threshold`);
  }
  const rawOc = new Map(ocEval.images.map((i) => [i.name, i.score + ocEval.threshold.value]));
  for (const [k, r] of matrix.renderers.entries()) {
    const label = k + 1;
    const run = await openMapRun(runs, runOf(r));
    const refHead = await naturalHeadScores(run, run.map, {
      cacheDir: join(runs, ".cache"),
      progress: log,
    });
    run.map.net.dispose();
    const headAt = quantile(refHead, 0.95);
    const headEval = JSON.parse(
      await Deno.readTextFile(join(runs, runOf(r), HEAD_CELL, "evaluation", "results.json")),
    ) as Evaluation;
    if (Math.abs(headEval.headThreshold!.value - headAt) > 1e-12) {
      throw new Error(`${runOf(r)}: the references do not give the head's saved threshold`);
    }
    const imgs = headEval.images.filter((i) => i.label === 0 || i.label === label);
    const y = imgs.map((i) => (i.label === 0 ? 0 : 1));
    const p = imgs.map((i) => i.pCg), oc = imgs.map((i) => rawOc.get(i.name)!);
    const fused = p.map((v, i) => fisherScore([upperTail(refHead, v), upperTail(refOc, oc[i])]));
    const at = (s: number[], t: number, cls: number) =>
      share(s.filter((_, i) => y[i] === cls).map((v) => (cls ? v > t : v <= t)));
    const row: Row = {
      seed,
      renderer: r,
      auc: { head: rocAuc(p, y), oneclass: rocAuc(oc, y), fused: rocAuc(fused, y) },
      niRecall: {
        head: share(p.filter((_, i) => !y[i]).map((v) => v < headAt)),
        oneclass: at(oc, ocEval.threshold.value, 0),
        fused: at(fused, 0, 0),
      },
      cgRecall: {
        head: share(p.filter((_, i) => y[i]).map((v) => v >= headAt)),
        oneclass: at(oc, ocEval.threshold.value, 1),
        fused: at(fused, 0, 1),
      },
    };
    rows.push(row);
    const fmt = (o: Record<string, number>) =>
      Object.entries(o).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ");
    console.log(
      `seed ${seed} ${r.padEnd(7)} AUC ${fmt(row.auc)} | NI recall ${fmt(row.niRecall)} | ` +
        `CG recall ${fmt(row.cgRecall)}`,
    );
  }
}
const mean = (k: "auc" | "niRecall" | "cgRecall", s: Stage) =>
  rows.reduce((a, r) => a + r[k][s], 0) / rows.length;
for (const k of ["auc", "niRecall", "cgRecall"] as const) {
  console.log(
    `mean ${k}: ` +
      (["head", "oneclass", "fused"] as const).map((s) => `${s} ${mean(k, s).toFixed(3)}`)
        .join(", "),
  );
}
await writeJson(join(runs, name, "fusion-check.json"), { rows });
