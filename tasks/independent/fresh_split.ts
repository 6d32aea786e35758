/**
 * The photographs of issue 25's fresh independent set, chosen before any fitting: whole sources
 * of the natural corpus drawn at random (seeded), held out of the detector's fit, and scored once
 * (docs/independent-set.md, "A fresh independent set").
 *
 * Eligible: the sources of the list given (`--natural-csv`, rows of the corpus `Name,Label,Group`)
 * with at least `--min` photographs that are not cgbench's (the shipped head was trained on
 * cgbench's photographs; gather.ts files them under `<source>/cgbench/`), less the two largest
 * sources (half the corpus: holding one out would halve what the detector is fitted on). Drawn:
 * `--count` of them, with `new Rng("fresh:<seed>")`.
 *
 * Writes to `--out`: `fit.csv` (the list less the drawn sources, to fit on), `photos.csv` (the
 * drawn sources' photographs, less cgbench's) and `held-out.txt` (the sources, and the draw).
 *
 *   deno run --allow-read --allow-write tasks/independent/fresh_split.ts \
 *     --natural-csv /work/production-gen4/loso-natural.csv --out /work/fresh [--seed 2026] [--count 4]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { parseCsvRecords } from "../../lib/data/csv.ts";
import { Rng } from "../../lib/core/rng.ts";

const { values } = parseArgs({
  options: {
    "natural-csv": { type: "string" },
    out: { type: "string" },
    seed: { type: "string", default: "2026" },
    count: { type: "string", default: "4" },
    min: { type: "string", default: "10" },
  },
});
const file = values["natural-csv"], out = values.out;
if (!file || !out) {
  console.error("usage: fresh_split.ts --natural-csv FILE --out DIR [--seed N] [--count K]");
  Deno.exit(2);
}
const recs = parseCsvRecords(await Deno.readTextFile(file), file);
const head = recs[0].fields;
const [name, group] = [head.indexOf("Name"), head.indexOf("Group")];
if (name < 0 || group < 0) throw new Error(`${file}: needs Name and Group columns`);
const rows = recs.slice(1).map((r) => r.fields);
const fromCgbench = (n: string) => n.split("/").includes("cgbench");
const own = new Map<string, number>(), all = new Map<string, number>();
for (const r of rows) {
  all.set(r[group], (all.get(r[group]) ?? 0) + 1);
  if (!fromCgbench(r[name])) own.set(r[group], (own.get(r[group]) ?? 0) + 1);
}
const largest = [...all].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 2)
  .map(([s]) => s);
const eligible = [...own].filter(([s, n]) => n >= Number(values.min) && !largest.includes(s))
  .map(([s]) => s).sort();
const drawn = new Rng(`fresh:${values.seed}`).shuffle([...eligible]).slice(0, Number(values.count))
  .sort();
await Deno.mkdir(out, { recursive: true });
const csv = (rs: string[][]) => [head.join(","), ...rs.map((r) => r.join(","))].join("\n") + "\n";
await Deno.writeTextFile(join(out, "fit.csv"), csv(rows.filter((r) => !drawn.includes(r[group]))));
const photos = rows.filter((r) => drawn.includes(r[group]) && !fromCgbench(r[name]));
await Deno.writeTextFile(join(out, "photos.csv"), csv(photos));
const note = [
  `list: ${file} (${rows.length} photographs, ${all.size} sources)`,
  `left out of the draw, the two largest: ${largest.join(", ")}`,
  `eligible (at least ${values.min} photographs not cgbench's): ${eligible.join(", ")}`,
  `drawn with Rng("fresh:${values.seed}"), ${values.count}: ${drawn.join(", ")}`,
  `photographs: ${photos.length} (${
    drawn.map((s) => `${s} ${photos.filter((r) => r[group] === s).length}`).join(", ")
  }); fit on ${rows.filter((r) => !drawn.includes(r[group])).length}`,
];
await Deno.writeTextFile(join(out, "held-out.txt"), note.join("\n") + "\n");
console.log(note.join("\n"));
