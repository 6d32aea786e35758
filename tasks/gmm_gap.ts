/**
 * Why the mixture flags whole held-out sources (docs/natural-corpus.md, "What the mixture did"):
 * for each source named, a Gaussian and a K-component mixture are fitted as LOSO fits them (on
 * every other source's cached `profile` vectors, threshold `cv-source`) with each seed (which
 * draws the folds, and the mixture's starts). Reported as multiples of the training rows' own 95 %
 * quantile of scores: the held-out photographs' scores (first seed) and each seed's threshold; then
 * each mixture's components, their weights and covariance log-determinants.
 *
 * deno run --allow-read tasks/gmm_gap.ts --features runs/loso-profile-v2/features/natural-profile \
 *   [--components 4] [--sources bsds500,urban100,plasma-workspace-wallpapers,polyu] [--seeds 0,1,2]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { quantile } from "../lib/core/stats.ts";
import { GaussianOneClass } from "../lib/oneclass/gauss.ts";
import { MixtureOneClass } from "../lib/oneclass/gmm.ts";
import { cachedList, losoIds, pickRows } from "./_cached.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    features: { type: "string" },
    components: { type: "string", default: "4" },
    sources: { type: "string", default: "bsds500,urban100,plasma-workspace-wallpapers,polyu" },
    seeds: { type: "string", default: "0,1,2" },
  },
});
if (!v.features) throw new Error("give --features DIR/NAME (a cached feature list, no extension)");
const stem = v.features.replace(/\/[^/]+$/, ""), name = v.features.slice(stem.length + 1);
const list = await cachedList(stem, name), { n, d, folder: source } = list;
const ids = losoIds(source);
const rows = (keep: (i: number) => boolean) => {
  const idx = [...Array(n).keys()].filter(keep);
  return { data: pickRows(list, idx), n: idx.length, groups: idx.map((i) => ids.get(source[i])!) };
};
const f = (a: number) => a.toFixed(2);
const seeds = v.seeds!.split(",").map(Number), components: string[] = [];
console.log(
  "| held out | model | over the training rows' 95 % (first seed) | median, as a multiple (first seed) | cv-source threshold, as a multiple (seeds " +
    seeds.join(", ") + ") | held-out photographs over it |",
);
console.log("| --- | --- | ---: | ---: | --- | --- |");
for (const s of v.sources!.split(",")) {
  const fit = rows((i) => source[i] !== s), held = rows((i) => source[i] === s);
  for (const kind of ["gauss", "gmm"]) {
    const cut: string[] = [], over: string[] = [], parts: string[] = [];
    let within = "", median = "";
    for (const seed of seeds) {
      const m = kind === "gauss"
        ? new GaussianOneClass({ threshold: "cv", seed })
        : new MixtureOneClass({ threshold: "cv", seed, components: Number(v.components) });
      await m.fit(fit.data, fit.n, d, { foldGroups: fit.groups }); // cv-source, as loso sets it
      const scale = quantile(await m.scoreSamples(fit.data, fit.n), 0.95);
      const r = Array.from(await m.scoreSamples(held.data, held.n), (t) => t / scale);
      if (seed === seeds[0]) {
        within = f(r.filter((t) => t > 1).length / r.length);
        median = f(quantile(r, 0.5));
      }
      cut.push(f(m.threshold / scale));
      if (m instanceof MixtureOneClass) {
        const w = m.weights, ld = m.logDeterminants;
        parts.push(
          `${s}, seed ${seed}: ` +
            w.map((x, k) => `${x.toFixed(3)} (${ld[k].toFixed(0)})`).join(", "),
        );
      }
      over.push(f(r.filter((t) => t * scale > m.threshold).length / r.length));
    }
    const label = kind === "gmm" ? `gmm, K = ${v.components}` : "gauss";
    console.log(
      `| ${s} (${held.n}) | ${label} | ${within} | ${median} | ${cut.join(" / ")} | ${
        over.join(" / ")
      } |`,
    );
    components.push(...parts);
  }
}
console.log("\nThe mixtures' components: weight (covariance log-determinant)\n");
for (const c of components) console.log(`- ${c}`);
