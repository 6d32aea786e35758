import assert from "node:assert/strict";
import { describeRows } from "../../../lib/data/dataset.ts";
import { normSummaries, rendererResults } from "../../../lib/eval/evaluate.ts";
import type { Evaluation, ImageScore } from "../../../lib/eval/evaluation.ts";
import { resultsMarkdown } from "../../../lib/eval/results.ts";
import {
  ROBUSTNESS_GRID,
  robustnessHtml,
  robustnessMarkdown,
  robustnessSvg,
} from "../../../lib/eval/robustness.ts";
import { oneclassMatrixMarkdown } from "../../../lib/eval/oneclass_matrix.ts";

const ds = describeRows("/data", [
  { name: "Photos/a.png", label: 0, group: "a", line: 2 },
  { name: "Cycles/b.png", label: 1, group: "b", line: 3 },
  { name: "POVRay/c.png", label: 2, group: "c", line: 4 },
]);

/** Natural images score low, Cycles high, POV-Ray below the natural ones (an inverted stage). */
function images(): ImageScore[] {
  const out: ImageScore[] = [];
  for (let i = 0; i < 20; i++) {
    out.push({
      name: `n${i}`,
      label: 0,
      source: "Photos",
      pCg: 0.1 + i / 100,
      score: i - 10,
      norm: 7,
    });
  }
  for (let i = 0; i < 10; i++) {
    out.push({ name: `c${i}`, label: 1, source: "Cycles", pCg: 0.9, score: 20 + i, norm: 4 });
    out.push({ name: `p${i}`, label: 2, source: "POVRay", pCg: 0.8, score: -30 + i, norm: 3 });
  }
  return out;
}

/** An evaluation of `imgs` at the head's threshold 0.27, with its controls. */
function evaluation(imgs: ImageScore[]): Evaluation {
  return {
    map: "m",
    oneclassRun: "residual-gauss",
    oneclassKind: "gauss",
    features: "residual",
    trainedOn: "Cycles",
    testSet: "test split",
    crops: { mode: "tiles", perImage: 9 },
    bootstrap: { reps: 50, seed: 0 },
    threshold: { value: 1.5, from: "cv", nu: 0.05 },
    headThreshold: {
      value: 0.27,
      nu: 0.05,
      from: "natural val+flow images of the split",
      n: 40,
      tiles: 3,
      reference: [],
    },
    results: rendererResults(imgs, ds, new Set([1]), 0.27, 50, 0),
    norms: normSummaries(imgs, ds),
    controls: {
      positive: {
        perturbation: "blur:1.5",
        n: 20,
        oneclassOutside: { value: 0.9, lo: 0.8, hi: 1 },
      },
      negative: [{ source: "Photos", n: 20, inside: { value: 0.55, lo: 0.3, hi: 0.75 } }],
      target: 0.95,
    },
    images: imgs,
    skipped: [],
    created: "now",
  };
}

Deno.test("evaluate: per-renderer results use the models' own thresholds and report both stages", () => {
  const r = rendererResults(images(), ds, new Set([1]), 0.5, 200, 0);
  assert.deepEqual(r.map((x) => [x.renderer, x.seen, x.natural, x.rendered]), [
    ["Cycles", true, 20, 10],
    ["POVRay", false, 20, 10],
  ]);
  assert.equal(r[0].oneclass.auc.value, 1);
  assert.equal(r[1].oneclass.auc.value, 0); // inverted: reported as it is, never flipped
  // score > 0 is CG: 9 natural images (scores 1..9) are called CG, so NI recall is 11/20
  assert.equal(r[0].oneclass.niRecall.value, 11 / 20);
  assert.equal(r[0].head!.auc.value, 1);
  assert.equal(r[0].head!.niRecall.value, 1); // every p(CG) of a photograph is under 0.5
  // the head decides at its own threshold: p(CG) 0.25 .. 0.29 of five photographs are at or above 0.25
  const strict = rendererResults(images(), ds, new Set([1]), 0.25, 50, 0);
  assert.equal(strict[0].head!.niRecall.value, 15 / 20);
  assert.equal(strict[0].head!.cgRecall.value, 1);
  assert.equal(strict[0].head!.auc.value, 1); // the ranking does not depend on it
  const noHead = rendererResults(images(), ds, new Set(), undefined, 50, 0);
  assert.equal(noHead[0].head, undefined);
  assert.equal(r[0].fused, undefined); // no image has a fused score
  // with a fused score on every image, a third stage decides at fused > 0
  const fused = images().map((i) => ({ ...i, fused: i.label === 0 ? i.score - 5 : 10 }));
  const f = rendererResults(fused, ds, new Set([1]), 0.5, 50, 0);
  assert.equal(f[0].fused!.auc.value, 1);
  assert.equal(f[0].fused!.niRecall.value, 16 / 20); // natural fused scores -15 .. 4
  assert.ok(f[0].roc.fused!.length > 0);
  const md = resultsMarkdown({ ...evaluation(fused), results: f });
  assert.match(md, /\| Cycles \(seen\) \| 20\/10 \| fused \(head \+ one-class\) \| /);
  assert.match(md, /Fused: each stage's score as an upper-tail p-value/);
});

Deno.test("evaluate: the results say when a stage is below chance, and give the diagnostics", () => {
  const imgs = images();
  const ev = evaluation(imgs);
  const md = resultsMarkdown(ev);
  assert.match(md, /\*\*Below chance:\*\* the one-class model against POVRay \(AUC 0\.000\)/);
  assert.match(md, /- natural \(20\): 7\.000/);
  assert.match(md, /Positive control: .*blur:1\.5.*0\.900/);
  assert.match(md, /CG at p ≥ 0\.2700 \(the 0\.95 quantile of 40 natural val\+flow images/);
  assert.match(md, /Negative control: .*Photos \(20\) 0\.550/);
  assert.deepEqual(ev.norms.map((n) => [n.name, n.mean]), [["natural", 7], ["Cycles", 4], [
    "POVRay",
    3,
  ]]);
});

Deno.test("robustness and one-class comparison tables render every row and the AUC plot", () => {
  const ci = (v: number) => ({ value: v, lo: v - 0.1, hi: v + 0.05 });
  const rows = ["none", "jpeg:75", "blur:1", "resize:0.5", "noise:2"].map((p, i) => ({
    perturbation: p,
    n: [20, 20] as [number, number],
    head: { auc: ci(0.9 - i / 20), hter: ci(0.1) },
    oneclass: { auc: ci(0.8), hter: ci(0.2) },
    byRenderer: [{ renderer: "Cycles", head: 0.9, oneclass: 0.8 }],
  }));
  const r = {
    oneclassRun: "x",
    oneclass: "gauss on residual",
    testSet: "test split",
    rows,
    created: "",
  };
  const md = robustnessMarkdown(r);
  for (const p of ["none", "jpeg:75", "blur:1", "resize:0.5", "noise:2"]) {
    assert.match(md, new RegExp(`\\| ${p} \\|`));
  }
  const svg = robustnessSvg(r);
  assert.match(svg, /JPEG quality/);
  // a WebP panel only when the grid holds WebP
  assert.doesNotMatch(svg, /WebP quality/);
  const withWebp = { ...r, rows: [...rows, { ...rows[1], perturbation: "webp:75" }] };
  assert.match(robustnessSvg(withWebp), /WebP quality/);
  assert.match(robustnessMarkdown(withWebp), /\| webp:75 \|/);
  assert.ok(ROBUSTNESS_GRID.includes("resize:0.5+jpeg:75"));
  assert.doesNotMatch(md, /fused/);
  assert.doesNotMatch(robustnessHtml(r), /fused/);
  assert.doesNotMatch(svg, /fused/);
  // with a fused score: its own columns, its per-renderer AUC third, and its own line
  const withFused = {
    ...r,
    rows: rows.map((row) => ({
      ...row,
      fused: { auc: ci(0.95), hter: ci(0.07) },
      byRenderer: [{ ...row.byRenderer[0], fused: 0.97 }],
    })),
  };
  const fmd = robustnessMarkdown(withFused);
  assert.match(
    fmd,
    /\| one-class HTER \| fused AUC \| fused HTER \| Cycles AUC head \/ one-class \/ fused \|/,
  );
  assert.match(
    fmd,
    /\| none \| 20\/20 \| .* \| 0\.950 \[0\.850, 1\.000\] \| 0\.070 .* \| 0\.900 \/ 0\.800 \/ 0\.970 \|/,
  );
  assert.equal(
    fmd.split("\n").filter((l) => l.startsWith("| ")).every((l) =>
      l.split("|").length ===
        fmd.split("\n").find((x) => x.startsWith("| perturbation"))!.split("|").length
    ),
    true,
  );
  assert.match(robustnessHtml(withFused), /<th>fused AUC<\/th><th>fused HTER<\/th>/);
  assert.match(robustnessSvg(withFused), /fused/);
  const cell = (seed: number, source: string, kind: string, test: string, auc: number) => ({
    seed,
    row: test,
    source: source as "residual",
    kind: kind as "gauss",
    test,
    seen: false,
    auc: ci(auc),
    hter: ci(0.2),
    niRecall: ci(0.95),
  });
  const m = oneclassMatrixMarkdown({
    name: "t",
    protocol: "loro",
    seeds: [0, 1],
    renderers: ["Cycles"],
    cells: [
      cell(0, "residual", "gauss", "Cycles", 0.9),
      cell(1, "residual", "gauss", "Cycles", 0.94),
    ],
    seconds: 60,
    created: "",
  });
  assert.match(m, /\| residual \| gauss \| 0\.920 \(0\.90–0\.94\) \| 0\.920 \(0\.90–0\.94\) \|/);
});
