/**
 * The patch tables of a dataset's images, for tasks/py/patch_check.py (docs/natural-corpus.md,
 * "Patches, not their quantiles"): for every image of label 0 (`--labels natural`) or above 0
 * (`renders`), at each of `profile`'s three scales, each lit patch's E(d1), E(d2), E(d3), E(kb) and
 * C (`profilePatches`). Writes OUT.bin (float32, five per patch) and OUT.csv (name, label, group,
 * scale, first patch, patches); an image it cannot read is named and the run stops.
 *
 * deno run --allow-read --allow-write --allow-ffi --allow-env --allow-sys tasks/patch_tables.ts \
 *   --dataset runs/natural --labels natural --out runs/patch-check/natural
 *
 * @module
 */

import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { parseDatasetCsv } from "../lib/data/csv.ts";
import { readImage } from "../lib/data/decode.ts";
import { profilePatches } from "../lib/features/profile.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: { dataset: { type: "string" }, labels: { type: "string" }, out: { type: "string" } },
});
if (!v.dataset || !v.out || !["natural", "renders"].includes(v.labels ?? "")) {
  throw new Error("give --dataset DIR --labels natural|renders --out STEM");
}
const csv = join(v.dataset, "dataset.csv");
const rows = parseDatasetCsv(await Deno.readTextFile(csv), csv)
  .filter((r) => (r.label === 0) === (v.labels === "natural"));
await Deno.mkdir(dirname(v.out), { recursive: true });
await Deno.writeFile(`${v.out}.bin`, new Uint8Array(0));
const index = ["name,label,group,scale,first,patches"];
let first = 0;
const E = [0, 1, 2, 3], C = 8; // the table's columns: E1..E4, then C
for (const [k, r] of rows.entries()) {
  let tables;
  try {
    tables = profilePatches(await readImage(join(v.dataset, r.name)));
  } catch (e) {
    throw new Error(`${r.name}: ${(e as Error).message}`);
  }
  for (const [s, cols] of tables.entries()) {
    const m = cols[0].length, out = new Float32Array(m * 5);
    for (let p = 0; p < m; p++) [...E, C].forEach((c, j) => out[p * 5 + j] = cols[c][p]);
    await Deno.writeFile(`${v.out}.bin`, new Uint8Array(out.buffer), { append: true });
    const group = r.group === r.name ? r.name.split("/")[0] : r.group;
    index.push(`"${r.name.replaceAll('"', '""')}",${r.label},"${group}",${s},${first},${m}`);
    first += m;
  }
  if ((k + 1) % 200 === 0) console.error(`${k + 1}/${rows.length}`);
}
await Deno.writeTextFile(`${v.out}.csv`, index.join("\n") + "\n");
console.error(`${rows.length} images, ${first} patches: ${v.out}.bin, ${v.out}.csv`);
