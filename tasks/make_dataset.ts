/**
 * Builds the small dataset shipped in `dataset/` from cgbench (`../shared/data/cgbench`):
 * a seeded choice of images per class, each cut to its central 256x256 pixels (cropped, never
 * resampled, so the pixel statistics a detector learns are the originals'), written as PNG,
 * with `dataset.csv` (Name,Label,Group: Blender scenes rendered by both Cycles and EEVEE share
 * a group so a split never separates them), the matching `SOURCES.csv` rows, and a README with
 * provenance and licences.
 *
 *   deno task make-dataset [--from ../shared/data/cgbench] [--out dataset] [--per-class 40]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { formatCsv, parseCsvRecords } from "../lib/data/csv.ts";
import { centerCrop, readImage } from "../lib/data/image.ts";
import { encodePng } from "../lib/data/png.ts";
import { Rng } from "../lib/core/rng.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    from: { type: "string", default: "../shared/data/cgbench" },
    out: { type: "string", default: "dataset" },
    "per-class": { type: "string", default: "40" },
    size: { type: "string", default: "256" },
    seed: { type: "string", default: "0" },
  },
});
const from = resolve(values.from!), out = resolve(values.out!);
const perClass = Number(values["per-class"]),
  size = Number(values.size),
  seed = Number(values.seed);

const sources = parseCsvRecords(await Deno.readTextFile(join(from, "SOURCES.csv")));
const header = sources[0].fields;
const rows = sources.slice(1).map((r) =>
  Object.fromEntries(header.map((h, i) => [h, r.fields[i]]))
);
const byLabel = new Map<string, typeof rows>();
for (const r of rows) {
  if (!byLabel.has(r.Label)) byLabel.set(r.Label, []);
  byLabel.get(r.Label)!.push(r);
}

const chosen: typeof rows = [];
for (const [label, rs] of [...byLabel].sort()) {
  const pick = new Rng(`make-dataset:${seed}:${label}`).shuffle([...rs]).slice(0, perClass);
  chosen.push(...pick.sort((a, b) => (a.Name < b.Name ? -1 : 1)));
}

const groupOf = (r: Record<string, string>) => {
  const m = /gen_blender\.py.*seed=(\d+)/.exec(r.original_path);
  return m ? `blender-seed-${m[1]}` : r.Name;
};

await Deno.mkdir(out, { recursive: true });
let bytes = 0;
for (const r of chosen) {
  const img = centerCrop(await readImage(join(from, r.Name)), size, r.Name);
  const png = await encodePng({ width: size, height: size, channels: 3, data: img.data });
  await Deno.mkdir(join(out, r.Name.split("/")[0]), { recursive: true });
  await Deno.writeFile(join(out, r.Name), png);
  bytes += png.length;
}
await Deno.writeTextFile(
  join(out, "dataset.csv"),
  formatCsv(["Name", "Label", "Group"], chosen.map((r) => [r.Name, r.Label, groupOf(r)])),
);
await Deno.writeTextFile(
  join(out, "SOURCES.csv"),
  formatCsv(
    header,
    chosen.map((r) => header.map((h) => h === "w" || h === "h" ? String(size) : r[h])),
  ),
);
const counts = [...byLabel.keys()].sort().map((l) => {
  const n = chosen.filter((r) => r.Label === l).length;
  return `${chosen.find((r) => r.Label === l)!.Name.split("/")[0]} (label ${l}): ${n}`;
});
console.log(`${chosen.length} images, ${(bytes / 1e6).toFixed(1)} MB: ${counts.join(", ")}`);
