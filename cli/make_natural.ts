/**
 * `cgvsni make-natural`: assemble folders of photographs into a natural-image corpus
 * (lib/data/corpus.ts).
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { UsageError } from "../lib/core/errors.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { buildNaturalCorpus, type CorpusSource } from "../lib/data/corpus.ts";
import { parseCsvRecords } from "../lib/data/csv.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";
import { bool, choice, type Command, COMPUTE_FLAGS, MAX_PIXELS_FLAG, num, str } from "./_args.ts";
import { MODEL_TASK } from "./_perms.ts";

/** Where the corpus goes unless told another. */
const DEFAULT_OUT = `${DEFAULT_RUNS}/natural`;

/** The sources of a `--sources` CSV (`source,dir[,licence,include,exclude]`; dirs relative to it). */
async function sourcesFile(file: string): Promise<CorpusSource[]> {
  const recs = parseCsvRecords(await Deno.readTextFile(file), file);
  const head = recs[0]?.fields.map((h) => h.trim().toLowerCase()) ?? [];
  const at = (k: string) => head.indexOf(k);
  if (at("source") < 0 || at("dir") < 0) {
    throw new UsageError(
      `${file}: the header needs source and dir (and may have licence, include, exclude)`,
    );
  }
  const field = (f: string[], k: string) =>
    at(k) >= 0 && f[at(k)]?.trim() ? f[at(k)].trim() : undefined;
  return recs.slice(1).filter((r) => r.fields.some((x) => x.trim())).map(({ fields: f, line }) => {
    const name = field(f, "source"), dir = field(f, "dir");
    if (!name || !dir) throw new UsageError(`${file}:${line}: a row needs a source and a dir`);
    return {
      name,
      dir: resolve(dirname(file), dir),
      licence: field(f, "licence"),
      include: field(f, "include"),
      exclude: field(f, "exclude"),
    };
  });
}

/** The `make-natural` command. */
export const makeNaturalCommand: Command = {
  name: "make-natural",
  usage: "[NAME=]DIR... [--sources FILE] [--out DIR] [--group source|camera]",
  summary: "Assemble folders of photographs into a natural-image corpus with dataset.csv.",
  description: `
Each folder is a source (NAME=DIR, or DIR named after its last part; or the rows of --sources FILE,
a CSV source,dir,licence,include,exclude with dirs relative to it; include/exclude are regular
expressions on paths inside the folder). Every image found (recursively) is copied as it is to
OUT/NAME/... (not resized, not re-encoded); OUT/dataset.csv lists them, label 0, Group = the source
(or, with --group camera, the EXIF camera), so splits and leave-one-source-out keep a group whole;
OUT/SOURCES.csv records each file's source, original path, licence, EXIF camera, size, format and a
SHA-256 of its pixels. Identical pixels are kept once (OUT/duplicates.csv); unreadable files are
named and skipped (OUT/skipped.txt). Running again with more sources adds them. Images of any size
are kept; RAISE or VISION laid out as in the README work as they are:
  deno task make-natural --out runs/natural /data/RAISE /data/VISION`,
  permissions: MODEL_TASK,
  writes: `${DEFAULT_OUT} (or --out DIR; elsewhere needs --allow-write=DIR)`,
  flags: [
    { name: "out", type: "string", arg: "DIR", default: DEFAULT_OUT, help: "the corpus folder" },
    { name: "sources", type: "string", arg: "FILE", help: "a CSV of sources (see above)" },
    {
      name: "group",
      type: "string",
      arg: "G",
      default: "source",
      help: "what dataset.csv's Group holds: source | camera",
    },
    { name: "link", type: "boolean", help: "hard-link files instead of copying them" },
    MAX_PIXELS_FLAG,
    { name: "quiet", type: "boolean", help: "no progress bar" },
    ...COMPUTE_FLAGS.filter((f) => f.name === "decoder"),
  ],
  async run(a) {
    const sources: CorpusSource[] = [];
    const file = str(a, "sources");
    if (file) sources.push(...await sourcesFile(file));
    for (const p of a.positionals) {
      const eq = p.indexOf("=");
      const dir = eq > 0 ? p.slice(eq + 1) : p;
      const name = eq > 0 ? p.slice(0, eq) : resolve(dir).split("/").pop()!;
      sources.push({ name, dir });
    }
    if (sources.length === 0) {
      throw new UsageError(
        "make-natural: give folders of photographs, or --sources FILE (see --help)",
      );
    }
    const r = await buildNaturalCorpus({
      out: str(a, "out", DEFAULT_OUT)!,
      sources,
      group: choice(a, "group", ["source", "camera"] as const) ?? "source",
      link: bool(a, "link"),
      maxPixels: num(a, "max-pixels", { int: true, min: 1 }),
      progress: makeProgress({ quiet: bool(a, "quiet") }),
    });
    for (const s of r.skipped) console.error(`skipped ${s.path}: ${s.reason}`);
    return r.skipped.length ? 3 : 0;
  },
};
