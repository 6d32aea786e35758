/**
 * What LOSO runs called, one line a run (docs/natural-corpus.md, "An unsure band sized on the
 * photographs"): over the held-out sources of the summary, natural recall (mean, worst), "unsure"
 * (mean, worst), the photographs called computer-generated (mean), the mean AUC, and for the
 * renders the share of each renderer called computer-generated and the mean share called unsure.
 * Each run's `results.json` and `scores.csv` are read; nothing is fitted. With `--bound`, also the
 * chance that "unsure" stays ≤ 0.10 on every summary source of the first run when each photograph
 * falls in the band independently with probability s (a band calibrated to perfection), for
 * several s: what the target asks of a band, given the sources' sizes.
 *
 * With `--sets N`, the runs come in groups of N, one configuration against N sets of renders
 * (cgbench's as they are, as JPEG 90, ...), and each group gets one more line
 * ({@link acrossSets}): the renders called computer-generated and unsure, averaged over the
 * renderers and the sets, and how much likelier a render is to be unsure than a photograph.
 *
 * deno run --allow-read tasks/loso_calls.ts [--bound] [--sets N] runs/RUN1 runs/RUN2 ...
 *
 * @module
 */

import { join } from "node:path";
import { mean } from "../lib/core/stats.ts";
import { parseCsvRecords } from "../lib/data/csv.ts";
import type { LosoResult } from "../lib/eval/loso.ts";

/** One run's line: the figures above, the renderers in the run's order. */
export interface RunCalls {
  recall: [number, number];
  unsure: [number, number];
  photosCg: number;
  auc: number;
  rendersCg: Record<string, number>;
  rendersUnsure: number;
}

/** The figures of one run, from its results and the rows of its `scores.csv` (header first). */
export function runCalls(r: LosoResult, scores: string[][]): RunCalls {
  if (r.cells.length !== 1) throw new Error("one configuration a run, please");
  const c = r.cells[0];
  const big = c.rows.filter((x) => x.images >= r.minImages);
  const head = scores[0], at = (k: string) => head.indexOf(k);
  const cgOf = (source: string) => {
    const mine = scores.slice(1).filter((s) => s[at("source")] === source);
    if (!mine.length) throw new Error(`scores.csv holds no photograph of ${source}`);
    return mine.filter((s) => s[at("call")] === "computer-generated").length / mine.length;
  };
  const names = r.renderers.map((x) => x.name);
  return {
    recall: [c.mean.recall, c.worst.recall],
    unsure: [c.mean.unsure, c.worst.unsure],
    photosCg: mean(big.map((x) => cgOf(x.source))),
    auc: c.mean.auc,
    rendersCg: Object.fromEntries(names.map((n) => [n, c.renderers![n].cg])),
    rendersUnsure: mean(names.map((n) => c.renderers![n].unsure)),
  };
}

/** One configuration against several sets of renders: see {@link acrossSets}. */
export interface SetsCalls {
  /** Renders called computer-generated: the mean over the renderers, then over the sets. */
  rendersCg: number;
  /** Renders called unsure, likewise. */
  rendersUnsure: number;
  /** `rendersUnsure` over the first run's photographs called unsure (mean over sources). */
  ratio: number;
}

/**
 * The renders' calls of one configuration run against several sets of renders (the photographs'
 * calls are the same in every run: the first run's are read).
 *
 * @example Two sets of renders
 * ```ts
 * import { acrossSets, type RunCalls } from "./loso_calls.ts";
 * const run = (cg: number, unsure: number): RunCalls => ({
 *   recall: [0.95, 0.8], unsure: [0.02, 0.1], photosCg: 0.03, auc: 0.9,
 *   rendersCg: { A: cg, B: cg }, rendersUnsure: unsure,
 * });
 * console.log(acrossSets([run(0.4, 0.1), run(0.2, 0.06)])); // { rendersCg: 0.3, rendersUnsure: 0.08, ratio: 4 }
 * ```
 */
export function acrossSets(runs: RunCalls[]): SetsCalls {
  if (!runs.length) throw new RangeError("no runs");
  const rendersCg = mean(runs.map((k) => mean(Object.values(k.rendersCg))));
  const rendersUnsure = mean(runs.map((k) => k.rendersUnsure));
  return { rendersCg, rendersUnsure, ratio: rendersUnsure / runs[0].unsure[0] };
}

/**
 * The chance that at most `limit` of each source's photographs fall in the band, the sources of
 * `sizes` independent and each photograph in it with probability `s` (binomial).
 */
export function chanceAllUnder(sizes: number[], s: number, limit = 0.1): number {
  if (!(s >= 0 && s <= 1)) throw new RangeError(`a share in [0, 1], got ${s}`);
  let all = 1;
  for (const n of sizes) {
    const k = Math.floor(limit * n + 1e-9);
    if (s === 0 || k >= n) continue;
    if (s === 1) return 0;
    // log P(X = 0), then log P(X = j) from log P(X = j − 1): no underflow for large n
    let log = n * Math.log1p(-s), cdf = Math.exp(log);
    for (let j = 1; j <= k; j++) {
      log += Math.log((n - j + 1) / j) + Math.log(s / (1 - s));
      cdf += Math.exp(log);
    }
    all *= Math.min(1, cdf);
  }
  return all;
}

if (import.meta.main) {
  const bound = Deno.args.includes("--bound");
  const at = Deno.args.indexOf("--sets");
  const sets = at >= 0 ? Number(Deno.args[at + 1]) : 0;
  const dirs = Deno.args.filter((a, i) => a !== "--bound" && i !== at && (at < 0 || i !== at + 1));
  if (at >= 0 && !(Number.isInteger(sets) && sets >= 1 && dirs.length % sets === 0)) {
    console.error(`--sets N: a whole number of groups of N runs, got ${Deno.args[at + 1]}`);
    Deno.exit(2);
  }
  const f = (x: number) => x.toFixed(3);
  const all: RunCalls[] = [];
  console.log(
    "| run | recall mean / worst | unsure mean / worst | photos CG | AUC mean | renders CG | renders CG mean | renders unsure |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const dir of dirs) {
    const r = JSON.parse(await Deno.readTextFile(join(dir, "results.json"))) as LosoResult;
    const scores = parseCsvRecords(await Deno.readTextFile(join(dir, "scores.csv")))
      .map((x) => x.fields);
    const k = runCalls(r, scores), cg = Object.values(k.rendersCg);
    all.push(k);
    console.log(
      `| ${dir.split("/").pop()} | ${f(k.recall[0])} / ${f(k.recall[1])} | ${f(k.unsure[0])} / ${
        f(k.unsure[1])
      } | ${f(k.photosCg)} | ${f(k.auc)} | ${cg.map((x) => x.toFixed(2)).join(" / ")} | ${
        f(mean(cg))
      } | ${f(k.rendersUnsure)} |`,
    );
  }
  if (sets) {
    console.log("\n| runs | renders CG | renders unsure | renders unsure / photographs unsure |");
    console.log("| --- | ---: | ---: | ---: |");
    for (let g = 0; g < dirs.length; g += sets) {
      const x = acrossSets(all.slice(g, g + sets));
      const names = dirs.slice(g, g + sets).map((d) => d.split("/").pop()).join(", ");
      console.log(
        `| ${names} | ${f(x.rendersCg)} | ${f(x.rendersUnsure)} | ${x.ratio.toFixed(2)} |`,
      );
    }
  }
  if (bound && dirs.length) {
    const r = JSON.parse(await Deno.readTextFile(join(dirs[0], "results.json"))) as LosoResult;
    const sizes = r.cells[0].rows.filter((x) => x.images >= r.minImages).map((x) => x.images);
    console.log(
      `\n${sizes.length} sources of ${Math.min(...sizes)}-${Math.max(...sizes)} photographs`,
    );
    console.log("| share s of photographs in the band | chance that every source has <= 0.10 |");
    console.log("| ---: | ---: |");
    for (const s of [0.005, 0.01, 0.017, 0.02, 0.03, 0.04]) {
      console.log(`| ${s} | ${chanceAllUnder(sizes, s).toFixed(3)} |`);
    }
  }
}
