/**
 * Writes the two committed manifests that keep issue 27's photograph pools apart
 * (tasks/production/pools.ts), each row a photograph with `SHA256` (of the file's bytes) and
 * `PixelSHA256` (of its decoded pixels, as `make-natural` hashes them, `pixelHash`):
 *
 * - `tasks/natural/manifest.csv` (Name, Source, SHA256, PixelSHA256): the natural corpus, from its
 *   `SOURCES.csv` (whose `SHA256` column is the pixel hash) and its files;
 * - `tasks/production/textures.csv` (Name, Source, Origin, SHA256, PixelSHA256): every photograph
 *   of the texture sources in the gatherer's folder, with its origin from `sources.csv`.
 *
 *   deno run --allow-read --allow-write=tasks --allow-env --allow-ffi tasks/production/manifests.ts \
 *     --corpus runs/natural --sources /work/natural-src [--textures urban100,sunhays80]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";
import { fileSha256 } from "../../lib/core/bundle.ts";
import { formatCsv, parseCsvRecords } from "../../lib/data/csv.ts";
import { pixelHash } from "../../lib/data/corpus.ts";
import { readImage } from "../../lib/data/decode.ts";

const HERE = dirname(new URL(import.meta.url).pathname);
const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    corpus: { type: "string", default: "runs/natural" },
    sources: { type: "string" },
    textures: { type: "string", default: "urban100,sunhays80" },
  },
});
if (!v.sources) throw new Error("give --sources DIR (the folder tasks/natural/gather.ts filled)");

/** A CSV's rows as objects keyed by its header. */
async function table(file: string): Promise<Record<string, string>[]> {
  const [head, ...rows] = parseCsvRecords(await Deno.readTextFile(file), file);
  return rows.map((r) => Object.fromEntries(head.fields.map((h, i) => [h, r.fields[i]])));
}

/** SHA-256 of a file's bytes, refusing a missing file by name. */
async function bytes(path: string): Promise<string> {
  const sha = await fileSha256(path);
  if (!sha) throw new Error(`${path}: missing`);
  return sha;
}

const corpus = resolve(v.corpus!);
const natural = [];
for (const r of await table(join(corpus, "SOURCES.csv"))) {
  natural.push([r.Name, r.Source, await bytes(join(corpus, r.Name)), r.SHA256]);
}
await Deno.writeTextFile(
  join(HERE, "../natural/manifest.csv"),
  formatCsv(["Name", "Source", "SHA256", "PixelSHA256"], natural),
);

const sources = resolve(v.sources);
const origin = new Map(
  (await table(join(sources, "sources.csv"))).map((r) => [r.source, r.licence]),
);
const textures = [];
for (const source of v.textures!.split(",")) {
  const where = origin.get(source)?.split("; ").at(-1);
  if (!where) throw new Error(`${join(sources, "sources.csv")}: no source ${source}`);
  const names = [...Deno.readDirSync(join(sources, source))].filter((e) => e.isFile)
    .map((e) => e.name).sort();
  for (const name of names) {
    const path = join(sources, source, name);
    const img = await readImage(path);
    textures.push([
      `${source}/${name}`,
      source,
      `${where}/${name}`,
      await bytes(path),
      pixelHash(img.width, img.height, img.data),
    ]);
  }
}
await Deno.writeTextFile(
  join(HERE, "textures.csv"),
  formatCsv(["Name", "Source", "Origin", "SHA256", "PixelSHA256"], textures),
);
console.error(`wrote ${natural.length} corpus rows and ${textures.length} texture rows`);
