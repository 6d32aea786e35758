/**
 * A one-class threshold for each stratum of content (docs/natural-corpus.md, "A threshold for each
 * kind of content"): the baseline's LOSO (`profile`, the Gaussian, `cv-source`, the sources of at
 * least 10 photographs held out, seed 0) from a LOSO run's cached vectors, with one threshold (the
 * baseline) and with one per stratum of smooth share (`tasks/py/smooth_share.py --out`), each the
 * (1 − ν) quantile of the out-of-fold scores of the training photographs in it (the one threshold
 * where a stratum holds fewer than 20). Prints recall mean and worst, AUC mean (of the score over
 * its threshold), the renders over their threshold, the strata thresholds over the one, and what
 * the one threshold flags in each stratum.
 *
 * deno run --allow-read tasks/mondrian_check.ts --features runs/loso-profile-v2/features \
 *   --shares SHARES.csv [--strata 0.2,0.5]
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_NU, mean, quantile } from "../lib/core/stats.ts";
import { parseCsvRecords } from "../lib/data/csv.ts";
import { rocAuc } from "../lib/eval/metrics.ts";
import { createOneClass } from "../lib/oneclass/io.ts";
import { resolveSettings } from "../lib/oneclass/train.ts";
import { cachedList, losoIds, pickRows } from "./_cached.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    features: { type: "string" },
    shares: { type: "string" },
    strata: { type: "string", default: "0.2,0.5" },
  },
});
if (!v.features || !v.shares) throw new Error("give --features DIR and --shares CSV");
const cuts = v.strata!.split(",").map(Number);
if (cuts.some((c, i) => !(c > 0 && c < 1) || (i > 0 && c <= cuts[i - 1]))) {
  throw new Error(`--strata: increasing shares between 0 and 1, got ${v.strata}`);
}
const stratum = (share: number) => cuts.filter((c) => share >= c).length;

// the run the vectors are cached in must be the baseline: one cell, profile and the Gaussian,
// cv-source thresholds at the default nu, seed 0, the big sources held out
const run = JSON.parse(await Deno.readTextFile(join(v.features, "..", "results.json")));
const cell = run.cells?.[0];
if (
  run.cells?.length !== 1 || cell.features !== "profile" || cell.kind !== "gauss" ||
  run.threshold !== "cv-source" || run.nu !== DEFAULT_NU || run.seed !== 0 ||
  run.heldOut !== "big" || run.minImages !== 10
) throw new Error(`${v.features}: not a run of the baseline's settings`);

// keyed by label and name, so that a photograph and a render cannot share an entry
const shareOf = new Map(
  parseCsvRecords(await Deno.readTextFile(v.shares), v.shares).slice(1)
    .map((r) => [`${r.fields[1] === "0" ? 0 : 1}:${r.fields[0]}`, Number(r.fields[2])]),
);
/** A cached feature list with each image's stratum. */
async function list(stem: string, rendered: 0 | 1) {
  const l = await cachedList(v.features!, stem);
  const strata = l.names.map((s) => {
    const share = shareOf.get(`${rendered}:${s}`);
    if (share === undefined) throw new Error(`${v.shares}: no smooth share for ${s}`);
    return stratum(share);
  });
  return { ...l, strata };
}
const nat = await list("natural-profile", 0), ren = await list("renders-profile", 1);
const d = nat.d, source = nat.folder, renderer = ren.folder;
const renderers = [...new Set(renderer)];
const ids = losoIds(source);
const big = [...ids.keys()].filter((s) => source.filter((t) => t === s).length >= 10);
const rows = (idx: number[]) => pickRows(nat, idx);

type Tally = { recall: number[]; auc: number[]; cg: Record<string, number[]> };
const tally = (): Tally => ({
  recall: [],
  auc: [],
  cg: Object.fromEntries(renderers.map((r) => [r, []])),
});
const one = tally(), strat = tally();
const ratios: number[][] = [];
const strataNames = Array.from(
  { length: cuts.length + 1 },
  (_, s) => `[${[0, ...cuts][s]}, ${[...cuts, 1][s]}${s === cuts.length ? "]" : ")"}`,
);
const byStratum: Record<string, boolean[]> = Object.fromEntries(
  ["photographs", ...renderers].flatMap((r) => strataNames.map((_, s) => [`${r}:${s}`, []])),
); // each fit's strata thresholds over its one threshold
let fallbacks = 0; // strata with too few training photographs for a quantile of their own
for (const hold of big) {
  const fit = [...Array(nat.n).keys()].filter((i) => source[i] !== hold);
  const held = [...Array(nat.n).keys()].filter((i) => source[i] === hold);
  const groups = fit.map((i) => ids.get(source[i])!);
  const est = createOneClass("gauss", {
    ...resolveSettings({}, "profile", "gauss"),
    nu: DEFAULT_NU,
    threshold: "cv",
    seed: 0,
  });
  const x = rows(fit);
  await est.fit(x, fit.length, d, { foldGroups: groups });
  const oof = await est.outOfFold(x, fit.length, d, { foldGroups: groups });
  if (Math.abs(quantile(oof, 1 - DEFAULT_NU) - est.threshold) > 1e-6 * est.threshold) {
    throw new Error(`${hold}: the out-of-fold scores are not the threshold's`);
  }
  const cut = Array.from({ length: cuts.length + 1 }, (_, s) => {
    const mine = oof.filter((_, k) => nat.strata[fit[k]] === s);
    if (mine.length >= 20) return quantile(mine, 1 - DEFAULT_NU);
    fallbacks++;
    return est.threshold;
  });
  ratios.push(cut.map((c) => c / est.threshold));
  const photo = await est.scoreSamples(rows(held), held.length);
  const cg = await est.scoreSamples(ren.data, ren.n);
  // the one threshold's calls by stratum: which renders and photographs it flags
  cg.forEach((raw, k) => byStratum[`${renderer[k]}:${ren.strata[k]}`].push(raw > est.threshold));
  photo.forEach((raw, k) =>
    byStratum[`photographs:${nat.strata[held[k]]}`].push(raw > est.threshold)
  );
  for (
    const [t, over] of [
      [one, (raw: number, _s: number) => raw / est.threshold],
      [strat, (raw: number, s: number) => raw / cut[s]],
    ] as const
  ) {
    const p = Array.from(photo, (raw, k) => over(raw, nat.strata[held[k]]));
    const r = Array.from(cg, (raw, k) => over(raw, ren.strata[k]));
    t.recall.push(p.filter((s) => s <= 1).length / p.length);
    const aucs = renderers.map((name) => {
      const mine = r.filter((_, k) => renderer[k] === name);
      t.cg[name].push(mine.filter((s) => s > 1).length / mine.length);
      return rocAuc([...p, ...mine], [...p.map(() => 0), ...mine.map(() => 1)]);
    });
    t.auc.push(mean(aucs));
  }
  est.dispose();
}
const f = (x: number) => x.toFixed(3);
console.log(
  `| thresholds | recall mean | recall worst | AUC mean | ${
    renderers.join(" / ")
  } over the threshold |`,
);
console.log("| --- | ---: | ---: | ---: | --- |");
for (const [name, t] of [["one", one], [`by smooth share (${cuts.join(", ")})`, strat]] as const) {
  console.log(
    `| ${name} | ${f(mean(t.recall))} | ${f(Math.min(...t.recall))} | ${f(mean(t.auc))} | ${
      renderers.map((r) => f(mean(t.cg[r]))).join(" / ")
    } |`,
  );
}
if (fallbacks) console.log(`\n${fallbacks} strata took the one threshold (under 20 photographs)`);
console.log(
  "\nEach stratum's threshold over the one threshold (lowest..highest over the fits): " +
    ratios[0].map((_, k) => {
      const r = ratios.map((x) => x[k]);
      return `${k + 1}: ${Math.min(...r).toFixed(2)}..${Math.max(...r).toFixed(2)}`;
    }).join(", "),
);
console.log(
  "\nOver the one threshold, by stratum of smooth share (images, share):\n\n| | " +
    strataNames.join(" | ") + " |\n| --- |" + " --- |".repeat(strataNames.length),
);
for (const r of ["photographs", ...renderers]) {
  const cells = strataNames.map((_, s) => {
    const calls = byStratum[`${r}:${s}`];
    return `${calls.length}, ${f(calls.filter((c) => c).length / (calls.length || NaN))}`;
  });
  console.log(`| ${r} | ${cells.join(" | ")} |`);
}
const worst = (t: Tally) =>
  big.map((s, i) => [s, t.recall[i]] as const).sort((a, b) => a[1] - b[1]);
console.log(
  "\nWorst sources: one threshold " +
    worst(one).slice(0, 3).map(([s, r]) => `${s} ${f(r)}`).join(", ") + "; by stratum " +
    worst(strat).slice(0, 3).map(([s, r]) => `${s} ${f(r)}`).join(", "),
);
