/**
 * `cgvsni manifest`: write a dataset.csv for any folder tree.
 *
 * @module
 */

import { buildManifest, manifestCsv } from "../lib/data/manifest.ts";
import { UsageError } from "../lib/core/errors.ts";
import { atomicWrite } from "../lib/core/files.ts";
import { type Command, str } from "./_args.ts";

/** The `manifest` command. */
export const manifestCommand: Command = {
  name: "manifest",
  usage: "DIR --natural A,B [--out FILE]",
  summary:
    "Write a dataset.csv (Name,Label) for a folder tree: natural folders 0, the others 1..K.",
  description: `
Every top-level folder of DIR holding PNG/JPEG/TIFF images (searched recursively) is a class:
the folders named by --natural get label 0, the others labels 1..K in alphabetical order.
Writes the CSV to standard output, so it needs no write permission:
  deno task manifest /data/cg --natural RAISE,VISION > /data/cg/dataset.csv
or to --out FILE when run with write access to FILE.`,
  permissions: "--allow-read",
  writes: "standard output (or --out FILE, with --allow-write=FILE)",
  flags: [
    {
      name: "natural",
      type: "string",
      arg: "A,B",
      help: "comma-separated folders of natural photographs",
    },
    { name: "out", type: "string", arg: "FILE", help: "write here instead of standard output" },
  ],
  async run(a) {
    const dir = a.positionals[0];
    if (!dir || a.positionals.length > 1) {
      throw new UsageError("manifest: give exactly one folder (see --help)");
    }
    const natural = (str(a, "natural") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    if (natural.length === 0) {
      throw new UsageError(
        "manifest: name the natural-image folders with --natural A,B (see --help)",
      );
    }
    const { rows, renderers } = await buildManifest(dir, natural);
    const csv = manifestCsv(rows);
    const out = str(a, "out");
    if (out) await atomicWrite(out, csv);
    else await Deno.stdout.write(new TextEncoder().encode(csv));
    const summary = `${rows.length} images; natural: ${natural.join(", ")}; ` +
      `renderers: ${renderers.map((r, i) => `${i + 1} ${r}`).join(", ")}`;
    console.error(out ? `wrote ${out}: ${summary}` : summary);
    return 0;
  },
};
