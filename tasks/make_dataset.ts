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
 * (`deno task make-dataset --help` lists every flag.)
 *
 * @module
 */

import { type Command, num, runCommand, str } from "../cli/_args.ts";
import { CgvsniError } from "../lib/core/errors.ts";
import { join, resolve } from "node:path";
import { formatCsv, parseCsvRecords } from "../lib/data/csv.ts";
import { centerCrop } from "../lib/data/image.ts";
import { readImage } from "../lib/data/decode.ts";
import { encodePng } from "../lib/data/png.ts";
import { Rng } from "../lib/core/rng.ts";

/** Builds the subset (see the module documentation). */
export async function makeDataset(o: {
  from: string;
  out: string;
  perClass: number;
  size: number;
  seed: number;
}): Promise<string> {
  const from = resolve(o.from), out = resolve(o.out);
  const { perClass, size, seed } = o;
  let sourcesText: string;
  try {
    sourcesText = await Deno.readTextFile(join(from, "SOURCES.csv"));
  } catch (e) {
    throw new CgvsniError(
      `${join(from, "SOURCES.csv")}: ${
        e instanceof Deno.errors.NotFound
          ? "not found (is --from a cgbench folder?)"
          : (e as Error).message
      }`,
    );
  }

  const sources = parseCsvRecords(sourcesText);
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
  return `${chosen.length} images, ${(bytes / 1e6).toFixed(1)} MB: ${counts.join(", ")}`;
}

/** The `make-dataset` task. */
export const makeDatasetCommand: Command = {
  name: "make-dataset",
  usage: "[--from DIR] [--out DIR] [--per-class N]",
  summary:
    "Rebuild the small dataset shipped in dataset/ from cgbench: a seeded subset, central crops.",
  permissions: "--allow-read --allow-write=dataset --allow-env=IMAGESCRIPT_WASM_SIMD",
  writes: "--out DIR (dataset/; elsewhere needs --allow-write=DIR)",
  flags: [
    {
      name: "from",
      type: "string",
      arg: "DIR",
      default: "../shared/data/cgbench",
      help: "the cgbench folder",
    },
    { name: "out", type: "string", arg: "DIR", default: "dataset", help: "where the subset goes" },
    {
      name: "per-class",
      type: "string",
      arg: "N",
      default: "40",
      help: "images per class (fewer if a class has fewer)",
    },
    { name: "size", type: "string", arg: "N", default: "256", help: "side of the central crop" },
    { name: "seed", type: "string", arg: "N", default: "0", help: "seed of the choice" },
  ],
  async run(a) {
    console.log(
      await makeDataset({
        from: str(a, "from", "../shared/data/cgbench")!,
        out: str(a, "out", "dataset")!,
        perClass: num(a, "per-class", { int: true, min: 1 }) ?? 40,
        size: num(a, "size", { int: true, min: 16 }) ?? 256,
        seed: num(a, "seed", { int: true }) ?? 0,
      }),
    );
    return 0;
  },
};

if (import.meta.main) Deno.exit(await runCommand(makeDatasetCommand, Deno.args));
