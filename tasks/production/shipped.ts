/**
 * The handful of production-like renders shipped in `dataset/Production/` (issue 27), for the
 * tests: the scripts of the full set (render.py, then post.py's production recipe: denoiser,
 * effects, resizing and JPEG), with Debian's Blender's CC0 photographic environments as the
 * photographs (the full set's texture pool carries no licence to redistribute), each cut to its
 * central 256x256 pixels and saved as PNG as the rest of `dataset/` is. Writes
 * `dataset/production.csv`: `dataset.csv`'s rows and the renders as one more label.
 *
 *   deno run --allow-read --allow-write --allow-run tasks/production/shipped.ts [--out dataset]
 *     [--count 8] [--first-seed 1000]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { parseDatasetCsv } from "../../lib/data/csv.ts";
import { formatCsv } from "../../lib/data/csv.ts";
import { centerCrop } from "../../lib/data/image.ts";
import { readImage } from "../../lib/data/decode.ts";
import { encodePng } from "../../lib/data/png.ts";
import { blenderHdris, postProcess, renderScene } from "./run.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "dataset" },
    count: { type: "string", default: "8" },
    "first-seed": { type: "string", default: "1000" },
  },
});
const out = resolve(v.out!);
const tmp = await Deno.makeTempDir({ prefix: "cgvsni-shipped-" });
const pool = await blenderHdris();
const csvPath = join(out, "dataset.csv");
const rows = parseDatasetCsv(await Deno.readTextFile(csvPath), csvPath);
const label = Math.max(...rows.map((r) => r.label)) + 1;
await Deno.mkdir(join(out, "Production"), { recursive: true });
const added: (string | number)[][] = [];
try {
  for (let i = 0; i < Number(v.count); i++) {
    const seed = Number(v["first-seed"]) + i;
    const png = join(tmp, `${seed}.png`), jpg = join(tmp, `${seed}.jpg`);
    await renderScene({ seed, out: png, width: 640, height: 480, samples: 16, pool });
    await postProcess([{ in: png, out: jpg, seed, steps: "production" }]);
    const name = `Production/production_${seed}.png`;
    await Deno.writeFile(
      join(out, name),
      await encodePng({ ...centerCrop(await readImage(jpg), 256), channels: 3 }),
    );
    added.push([name, label, `production-seed-${seed}`]);
    console.error(
      `${name}: ${JSON.stringify(JSON.parse(await Deno.readTextFile(jpg + ".json")).steps)}`,
    );
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}
await Deno.writeTextFile(
  join(out, "production.csv"),
  formatCsv(["Name", "Label", "Group"], [...rows.map((r) => [r.name, r.label, r.group]), ...added]),
);
