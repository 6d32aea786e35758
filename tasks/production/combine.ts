/**
 * One dataset folder from several (issue 27's leave-one-renderer-out over cgbench and the
 * production-like sets): each part's top-level folders are linked in (renamed `<prefix><folder>`
 * when a prefix is given, so two `Photos/` can sit side by side), natural images keep label 0, and
 * every renderer folder gets the next label in the order given. Groups are kept (a renderer's
 * prefixed too). A photograph that an earlier part already listed (the same file, by its real
 * path) is left out, so two sets drawn from one corpus never put one photograph in two roles.
 *
 *   deno run --allow-read --allow-write tasks/production/combine.ts --out DIR \
 *     PART[:CSV[:PREFIX]] ...
 *
 * e.g. `--out /work/production-loro ../shared/data/cgbench::Cg /work/production/production.csv`
 * (a part is a dataset folder, or its CSV file; the folder is then the CSV's).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";
import { formatCsv, parseDatasetCsv } from "../../lib/data/csv.ts";

const { values: v, positionals } = parseArgs({
  args: Deno.args,
  options: { out: { type: "string" } },
  allowPositionals: true,
});
if (!v.out || positionals.length === 0) throw new Error("give --out DIR and the parts");
const out = resolve(v.out);
await Deno.mkdir(out, { recursive: true });
const rows: (string | number)[][] = [];
const labelOf = new Map<string, number>();
const linked = new Map<string, string>();
const photographs = new Set<string>();
for (const part of positionals) {
  const [where, csvArg, prefix = ""] = part.split(":");
  const isCsv = where.endsWith(".csv");
  const root = resolve(isCsv ? dirname(where) : where);
  const csv = isCsv ? resolve(where) : resolve(csvArg || join(root, "dataset.csv"));
  for (const r of parseDatasetCsv(await Deno.readTextFile(csv), csv)) {
    const folder = r.name.split("/")[0];
    const mine = prefix + folder;
    const target = join(root, folder);
    if (linked.get(mine) !== undefined && linked.get(mine) !== target) {
      throw new Error(`${mine}: two parts have a folder of that name; give one a prefix`);
    }
    if (!linked.has(mine)) {
      linked.set(mine, target);
      await Deno.remove(join(out, mine)).catch(() => {});
      await Deno.symlink(target, join(out, mine));
    }
    let label = 0;
    if (r.label === 0) {
      const real = await Deno.realPath(join(root, r.name));
      if (photographs.has(real)) continue;
      photographs.add(real);
    } else {
      if (!labelOf.has(mine)) labelOf.set(mine, labelOf.size + 1);
      label = labelOf.get(mine)!;
    }
    rows.push([mine + r.name.slice(folder.length), label, label ? prefix + r.group : r.group]);
  }
}
await Deno.writeTextFile(join(out, "dataset.csv"), formatCsv(["Name", "Label", "Group"], rows));
console.error(
  `wrote ${out}/dataset.csv: ${rows.length} images; renderers ` +
    [...labelOf].map(([n, l]) => `${l} ${n}`).join(", "),
);
