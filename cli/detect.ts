/**
 * `cgvsni detect`: score image files and folders, streaming results as they come.
 *
 * @module
 */

import { DEFAULT_ONECLASS_RUN } from "../lib/oneclass/train.ts";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { initBackend } from "../lib/backends/select.ts";
import type { CalibrationRecord } from "../lib/detect/calibrate.ts";
import { CgvsniError, ImageError, oneLine, UsageError } from "../lib/core/errors.ts";
import { atomicWrite, exists, parseExact, stringifyExact } from "../lib/core/files.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { prefetch } from "../lib/core/prefetch.ts";
import { csvLine } from "../lib/data/csv.ts";
import {
  hasImageExtension,
  IMAGE_EXTENSIONS,
  printWarning,
  readImage,
} from "../lib/data/decode.ts";
import {
  checkUnsureShare,
  DEFAULT_UNSURE,
  DEFAULT_UNSURE_P,
  type Detection,
  type Detector,
  detectorFromRun,
  loadDetector,
  VERDICT_RULES,
} from "../lib/detect/detector.ts";
import { heatmapPng, type HeatmapValue } from "../lib/detect/heatmap.ts";
import { needsMap } from "../lib/features/sources.ts";
import {
  bool,
  choice,
  type Command,
  COMPUTE_FLAGS,
  EXIT,
  MAX_PIXELS_FLAG,
  num,
  ONECLASS_RUN_FLAG,
  type ParsedArgs,
  runCommand,
  RUNS_FLAG,
  str,
} from "./_args.ts";
import { MODEL_TASK } from "./_perms.ts";
import { CLUSTER_FLAGS, execute, type Sharding, shardingOf } from "./_cluster.ts";
import { parseShard, type Shard, shardFiles, shardName, shardOf } from "../lib/cluster/shard.ts";
import { writeGraph } from "../lib/cluster/graph.ts";
import type { UnitKinds } from "../lib/cluster/local.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

/** Default detector shipped with the toolkit. */
export const DEFAULT_DETECTOR = new URL("../models/corpus-rbf5/", import.meta.url);

/** An input file, and the path its outputs are named by (relative to the folder given). */
export interface Input {
  /** The file. */
  path: string;
  /** Short name: relative to the folder it was found in, or the file's own name. */
  name: string;
}

/** What a folder scan found. */
export interface Scan {
  /** Image files, sorted. */
  files: Input[];
  /** Inputs that could not be read at all. */
  errors: [string, string][];
  /** Files in folders left out because their name is not an image's, counted by extension. */
  skipped: Map<string, number>;
}

/**
 * Expands files and folders (recursively, sorted) into image paths. Symbolic links to folders
 * are not followed (no loops); links to files are. Files named explicitly are kept whatever
 * their extension (the decoder decides); in folders only image extensions are picked up, and
 * the others are counted by extension.
 */
export async function expandInputs(paths: string[]): Promise<Scan> {
  const files: Input[] = [], errors: [string, string][] = [], skipped = new Map<string, number>();
  const skip = (name: string) => {
    const ext = extname(name).toLowerCase() || "(no extension)";
    skipped.set(ext, (skipped.get(ext) ?? 0) + 1);
  };
  const walk = async (root: string, dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      errors.push([dir, `cannot list folder: ${oneLine(e)}`]);
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(root, p);
      else if (!hasImageExtension(e.name)) {
        if (!e.name.startsWith(".")) skip(e.name);
      } else if (e.isFile) files.push({ path: p, name: relative(root, p) });
      else if (e.isSymlink) {
        try {
          if ((await Deno.stat(p)).isFile) files.push({ path: p, name: relative(root, p) });
          else errors.push([p, "symbolic link to a folder: not followed"]);
        } catch {
          errors.push([p, "broken symbolic link"]);
        }
      }
    }
  };
  for (const p of paths) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(p);
    } catch (e) {
      errors.push([
        p,
        e instanceof Deno.errors.NotFound ? "not found" : `cannot read: ${oneLine(e)}`,
      ]);
      continue;
    }
    if (st.isDirectory) await walk(p, p);
    else files.push({ path: p, name: basename(p) });
  }
  return { files, errors, skipped };
}

/** The `detect` command. */
export const detectCommand: Command = {
  name: "detect",
  usage: "PATH... [--detector DIR|URL | --map RUN] [--json|--jsonl|--csv] [--heatmap DIR]",
  summary:
    "Score images (files or folders, recursive): p(CG) from the head, the one-class score, a verdict.",
  description: `
Each image is prepared as the detector was trained (re-encoded as JPEG first when its map was
trained with --match-compression), tiled with the map's crop size (up to --max-tiles per side,
spread over the whole image), and gets the mean p(CG) of the supervised head and the one-class
score (> 0: computer-generated). Verdict, by the detector's rule (--rule to choose; the default
detector's is fused, chosen by leave-one-source-out): oneclass or head, one stage alone;
both, "computer-generated" or "natural" only when head and one-class model agree, each outside its unsure band (|p - t| <=
--unsure-p, t the head's threshold, set on natural validation images; |score| <= --unsure *
|threshold|, or the band holding --unsure-share S of the natural reference around its threshold's
quantile), else "unsure". The fused score (table,
--json, --jsonl: fused; > 0: computer-generated) reads each stage against the natural images its
threshold was set on and combines the two p-values by Fisher's method; --rule fused decides on it.
"disagree" marks images the two stages call differently. A one-class Gaussian in parts
(the residual features' texture and slope) also gives each part's score (--json, --jsonl:
score_parts). The texture part scores; the slope part is a check: an image that fails it (too
smooth, or too flat, at fine scales for its content, as blurred, upscaled, denoised and some
retouched images are) is never called natural by the one-class stage (failed_checks; the table says
"fails check: slope"), because noise residuals cannot vouch for such an image.
Results stream as images are scored (table rows, --csv rows, --jsonl lines); --json prints one
object at the end. A progress bar with ETA goes to stderr on a terminal. Unreadable files are
listed with the reason; the others are still scored. In folders only ${IMAGE_EXTENSIONS.join(" ")}
files are read; the others are counted.

Detector: --detector DIR or URL (a folder written by export-detector; default: models/corpus-rbf5
shipped with the toolkit; models/corpus-linear, models/corpus-profile and models/cgbench-small are the ones before it, models/corpus-rbf its four-generator twin), or --map RUN [--oneclass-run NAME] to use runs directly.
A detector at https://HOST/... needs network access to that host only: run
  deno run --allow-read --allow-write=runs --allow-env --allow-ffi --allow-sys --allow-net=HOST cli/main.ts detect --detector https://HOST/.../ PATH

Exit codes: 0 every input scored; 3 some inputs could not be scored (listed; the rest were), or
no image was found; 1 nothing could run (bad detector, no permission); 2 bad flags.`,
  permissions: `${MODEL_TASK} (--allow-net=HOST only for --detector https://HOST/...)`,
  writes:
    "standard output; heatmaps to --heatmap DIR (runs/ by default; elsewhere needs --allow-write=DIR)",
  flags: [
    {
      name: "detector",
      type: "string",
      arg: "DIR|URL",
      help: "detector folder or URL (default: models/corpus-rbf5)",
    },
    {
      name: "map",
      type: "string",
      arg: "RUN",
      help: "use map run RUN and its one-class run instead",
    },
    ONECLASS_RUN_FLAG,
    RUNS_FLAG,
    {
      name: "json",
      type: "boolean",
      help: "print one JSON object with results and errors at the end",
    },
    {
      name: "jsonl",
      type: "boolean",
      help: "print one JSON object per image as it is scored (NDJSON)",
    },
    {
      name: "csv",
      type: "boolean",
      help: "print CSV rows as images are scored (file,verdict,p_cg,score,crops,disagree,error)",
    },
    {
      name: "heatmap",
      type: "string",
      arg: "DIR",
      help: "write NAME.heatmap.png per image into DIR (image underneath, colour bar)",
    },
    {
      name: "heatmap-value",
      setting: true,
      type: "string",
      arg: "V",
      help:
        "what heatmaps show: score (one-class, per tile) | pCg (head) (default: score when per tile)",
    },
    {
      name: "max-tiles",
      setting: true,
      type: "string",
      arg: "N",
      help: "most tiles per image side (default: the detector's, 4)",
    },
    {
      name: "rule",
      type: "string",
      arg: "RULE",
      help: "verdict rule: both | head | oneclass | fused (default: the detector's)",
    },
    {
      name: "unsure-p",
      setting: true,
      type: "string",
      arg: "X",
      help:
        `half-width of the head's unsure band around its threshold (default ${DEFAULT_UNSURE_P})`,
    },
    {
      name: "unsure",
      setting: true,
      type: "string",
      arg: "X",
      help:
        `half-width of the one-class unsure band, fraction of |threshold| (default ${DEFAULT_UNSURE})`,
    },
    {
      name: "unsure-share",
      setting: true,
      type: "string",
      arg: "S",
      help: "size the one-class unsure band on the natural reference instead: a share S of it " +
        "around the threshold's quantile (at most 2 nu)",
    },
    MAX_PIXELS_FLAG,
    { name: "quiet", type: "boolean", help: "no progress bar" },
    {
      name: "shard",
      type: "string",
      arg: "i/N",
      help:
        "score only the i-th of N slices of the sorted files, into --out DIR (merge with --merge)",
    },
    {
      name: "out",
      type: "string",
      arg: "DIR",
      help: "folder of a sharded detection (shards/, and with --shards its graph, jobs and logs)",
    },
    {
      name: "merge",
      type: "string",
      arg: "DIR",
      help: "print the shards in DIR as one run would have printed them (--json|--jsonl|--csv)",
    },
    ...CLUSTER_FLAGS,
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const formats = ["json", "jsonl", "csv"].filter((f) => bool(a, f));
    if (formats.length > 1) {
      throw new UsageError(`detect: --${formats.join(" and --")} exclude each other`);
    }
    const mode = (formats[0] ?? "table") as OutputMode;
    const mergeDir = str(a, "merge");
    if (mergeDir) {
      if (a.positionals.length) throw new UsageError("detect: --merge DIR takes no files");
      const { text, errors } = await mergeShards(mergeDir, mode);
      if (text) console.log(text.replace(/\n$/, ""));
      return errors > 0 ? EXIT.someFailed : EXIT.ok;
    }
    if (a.positionals.length === 0) {
      throw new UsageError("detect: give at least one file or folder (see --help)");
    }
    const shardText = str(a, "shard"), outDir = str(a, "out");
    const shard = shardText ? parseShard(shardText) : undefined;
    if (shard && !outDir) throw new UsageError("detect: --shard needs --out DIR for its output");
    const sharding = shardingOf(a);
    if (sharding) {
      if (!outDir) throw new UsageError("detect: --shards needs --out DIR");
      if (shard) throw new UsageError("detect: --shards and --shard exclude each other");
      return await detectGraph(a, resolve(outDir), sharding, mode);
    }
    const rule = choice(a, "rule", [...VERDICT_RULES]);
    const unsure = num(a, "unsure", { min: 0 });
    const unsureShare = num(a, "unsure-share", { min: 0, max: 1 });
    const unsureP = num(a, "unsure-p", { min: 0, max: 0.49 });
    const maxTiles = num(a, "max-tiles", { int: true, min: 1, max: 64 });
    const maxPixels = num(a, "max-pixels", { int: true, min: 1 });
    const heatDir = str(a, "heatmap");
    const heatValue = choice(a, "heatmap-value", ["score", "pCg"] as HeatmapValue[]);
    const scan = await expandInputs(a.positionals);
    const files = shard ? shardOf(scan.files, shard) : scan.files;
    const kept: ShardRow[] = [];
    const backend = await initBackend(str(a, "backend", "auto") as BackendName);
    for (const n of backend.notices) console.error(`notice: ${n}`);
    const det = await openDetector(a.values);
    if (!bool(a, "quiet")) {
      console.error(`detector ${det.info.name}; backend ${backend.name} (${backend.detail})`);
      const cal = det.info.provenance?.calibration as CalibrationRecord | undefined;
      if (cal) {
        console.error(
          `calibrated (${cal.mode}) on ${cal.images} photographs of ${cal.natural}` +
            (cal.renders ? ` and ${cal.renders.images} renders of ${cal.renders.root}` : "") +
            `, ${cal.date.slice(0, 10)}, from ${cal.from}`,
        );
      }
      if (det.featureHead) {
        console.error(
          `head: a ${det.info.head!.kind === "rbf" ? "kernel (RBF SVM)" : "linear"} head on ${
            det.info.head!.features
          } features ` +
            `(${det.featureHead.n.natural} photographs, ${det.featureHead.n.rendered} renders)`,
        );
      }
      console.error(
        `computer-generated at: head p(CG) >= ${+det.headAt.toFixed(4)}, one-class score > 0` +
          (det.fuses ? ", fused score > 0" : "") +
          `; the verdict by rule ${rule ?? det.info.rule}` +
          (rule && rule !== det.info.rule ? ` (the detector's: ${det.info.rule})` : ""),
      );
    }
    if (rule === "fused" && !det.fuses) {
      throw new UsageError(
        `${det.info.name} has no fused score (saved before the stages kept their natural ` +
          "references: export it again); use --rule both, head or oneclass",
      );
    }
    if (heatDir && !det.map) {
      det.dispose();
      throw new UsageError(
        `${det.info.name} has no image map, so no tiles to draw: --heatmap needs a map's head`,
      );
    }
    if (unsureP !== undefined) det.info.unsureP = unsureP;
    if (rule !== undefined) det.info.rule = rule;
    if (unsure !== undefined) {
      det.info.unsure = unsure;
      delete det.info.unsureShare; // a band given as a fraction of |threshold| replaces a sized one
    }
    if (unsureShare !== undefined) {
      if (unsure !== undefined) {
        throw new UsageError("--unsure and --unsure-share size the same band: give one");
      }
      if (det.info.rule === "fused" || det.info.rule === "head") {
        throw new UsageError(
          `--unsure-share sizes the one-class band, which rule ${det.info.rule} does not read ` +
            "(give --rule oneclass or both)",
        );
      }
      checkUnsureShare(unsureShare, det.oneClass.nu, "--unsure-share");
      det.info.unsureShare = unsureShare;
      det.oneClassBand(); // a model without its natural reference is refused before any image
    }
    const value: HeatmapValue = heatValue ?? (needsMap(det.info.features) ? "score" : "pCg");
    if (heatDir) await Deno.mkdir(heatDir, { recursive: true });
    // a shard's output is its file under --out (merged later); it prints nothing itself
    const out = printer(mode, det.info.name, shard ? () => {} : undefined);
    // the inputs that could not be read at all belong to the first shard
    const errors = shard && shard.index > 1 ? [] : [...scan.errors];
    if (scan.skipped.size && !(shard && shard.index > 1)) {
      console.error(
        `skipped ${
          [...scan.skipped.values()].reduce((s, n) => s + n, 0)
        } file(s) without an image name (${
          [...scan.skipped].map(([k, n]) => `${k} ${n}`).join(", ")
        }); name files explicitly to try them`,
      );
    }
    if (scan.files.length === 0) {
      det.dispose();
      out.end(errors);
      console.error(
        `no image found in ${a.positionals.join(", ")} (${IMAGE_EXTENSIONS.join(", ")})`,
      );
      return EXIT.someFailed;
    }
    const bar = makeProgress({ quiet: bool(a, "quiet") });
    bar.start("scoring", files.length);
    let scored = 0;
    // the next image is decoded while this one is scored
    const warnings = new Map<string, string[]>();
    const decode = (f: { path: string }) =>
      readImage(f.path, {
        maxPixels,
        onWarning: (p, m) => {
          warnings.set(p, [...(warnings.get(p) ?? []), m]);
          printWarning(p, m);
        },
      });
    for await (const [f, decoded] of prefetch(files, 1, decode)) {
      try {
        if (decoded.status === "rejected") throw decoded.reason;
        const d = await det.scoreImage(decoded.value, { name: f.path, maxTilesPerSide: maxTiles });
        scored++;
        bar.end();
        out.row(f.path, d, warnings.get(f.path));
        if (shard) {
          kept.push({ file: f.path, d: { ...d, tiles: [] }, warnings: warnings.get(f.path) });
        }
        warnings.delete(f.path);
        if (heatDir) {
          const img = await det.prepare(decoded.value);
          const file = join(heatDir, `${f.name}.heatmap.png`);
          await Deno.mkdir(dirname(file), { recursive: true });
          await atomicWrite(
            file,
            await heatmapPng(img, d.tiles, det.crop, value, undefined, det.headAt),
          );
        }
      } catch (e) {
        if (!(e instanceof ImageError)) throw e;
        bar.end();
        errors.push([f.path, e.reason]);
        out.error(f.path, e.reason);
        if (shard) kept.push({ file: f.path, error: e.reason });
      }
      bar.tick(1, `${scored} scored`);
    }
    bar.end();
    det.dispose();
    out.end(errors);
    if (shard && outDir) {
      await writeShard(outDir, shard, {
        detector: det.info.name,
        files: scan.files.length,
        inputErrors: shard.index === 1 ? scan.errors : [],
      }, kept);
    }
    if (heatDir) {
      console.error(
        `heatmaps (${value === "pCg" ? "p(CG) of the head" : "one-class score"}) in ${
          resolve(heatDir)
        }`,
      );
    }
    return errors.length > 0 ? EXIT.someFailed : EXIT.ok;
  },
};

/** The detector the flags name (`--detector DIR|URL`, or `--map RUN [--oneclass-run NAME]`). */
export async function openDetector(
  v: Record<string, string | boolean | undefined>,
): Promise<Detector> {
  const map = v.map as string | undefined, dir = v.detector as string | undefined;
  if (map && dir) throw new UsageError("detect: --detector and --map exclude each other");
  if (map) {
    return await detectorFromRun(
      resolve((v.runs as string) ?? DEFAULT_RUNS),
      map,
      (v["oneclass-run"] as string) ?? DEFAULT_ONECLASS_RUN,
    );
  }
  if (dir && !/^(https?|file):/.test(dir)) {
    const cfg = join(dir, "config.json");
    if (await exists(cfg) && !(await exists(join(dir, "detector.json")))) {
      throw new CgvsniError(
        `${dir} is a run folder, not a detector: use --map ${
          basename(resolve(dir))
        } (or export-detector first)`,
      );
    }
  }
  return await loadDetector(dir ?? DEFAULT_DETECTOR);
}

const r4 = (x: number) => (Number.isFinite(x) ? +x.toFixed(4) : null);

/** One JSON record of a result. */
function record(file: string, d: Detection, warnings?: string[]) {
  return {
    file,
    verdict: d.verdict,
    p_cg: r4(d.pCg),
    score: r4(d.score),
    ...(d.fused !== undefined ? { fused: r4(d.fused) } : {}),
    ...(d.parts
      ? {
        score_parts: Object.fromEntries(Object.entries(d.parts).map(([k, v]) => [k, r4(v)])),
        failed_checks: d.checks,
      }
      : {}),
    crops: d.crops,
    disagree: d.disagree,
    width: d.width,
    height: d.height,
    ...(warnings?.length ? { warnings } : {}),
  };
}

/** The output formats of `detect`. */
export type OutputMode = "json" | "jsonl" | "csv" | "table";

/** Writes results in one of the output formats, row by row where the format allows. */
function printer(mode: OutputMode, model: string, write: (line: string) => void = console.log) {
  const results: ReturnType<typeof record>[] = [];
  const printed = new Set<string>();
  let headed = false;
  const head = () => {
    if (headed || (mode !== "csv" && mode !== "table")) return;
    headed = true;
    write(
      mode === "csv"
        ? "file,verdict,p_cg,score,crops,disagree,error"
        : `${"file".padEnd(40)}  ${"verdict".padEnd(18)}  p(CG)   score     fused     crops`,
    );
  };
  const error = (file: string, reason: string) => {
    printed.add(file);
    if (mode === "jsonl") write(JSON.stringify({ file, error: reason }));
    if (mode === "csv") {
      head();
      write(csvLine([file, "", "", "", "", "", reason]));
    }
  };
  return {
    row(file: string, d: Detection, warnings?: string[]) {
      const rec = record(file, d, warnings);
      if (mode === "json") return void results.push(rec);
      if (mode === "jsonl") return write(JSON.stringify(rec));
      head();
      if (mode === "csv") {
        return write(
          csvLine([
            file,
            d.verdict,
            rec.p_cg ?? "",
            rec.score ?? "",
            d.crops,
            String(d.disagree),
            "",
          ]),
        );
      }
      // which scoring parts of a Gaussian in parts put the image outside, which checks it fails
      const by = Object.entries(d.parts ?? {})
        .filter(([k, v]) => v > 0 && !d.checks.includes(k)).map(([k]) => k);
      write(
        `${file.padEnd(40)}  ${d.verdict.padEnd(18)}  ${d.pCg.toFixed(3)}  ${
          d.score.toFixed(3).padStart(8)
        }  ${(d.fused === undefined ? "–" : d.fused.toFixed(3)).padStart(8)}  ${d.crops}${
          d.disagree ? "  (head and one-class model disagree)" : ""
        }${by.length ? `  (outside by: ${by.join(", ")})` : ""}${
          d.checks.length ? `  (fails check: ${d.checks.join(", ")})` : ""
        }`,
      );
    },
    error,
    end(errors: [string, string][]) {
      if (mode === "json") {
        write(JSON.stringify(
          { model, results, errors: errors.map(([file, e]) => ({ file, error: e })) },
          null,
          2,
        ));
        return;
      }
      if (mode === "jsonl" || mode === "csv") {
        for (const [file, e] of errors) if (!printed.has(file)) error(file, e);
        return;
      }
      if (errors.length) {
        write(`\n${errors.length} input(s) could not be scored:`);
        for (const [f, e] of errors) write(`  ${f}: ${e}`);
      }
    },
  };
}

/** One scored file of a shard (a detection without its tiles) or the reason it was not. */
type ShardRow =
  | { file: string; d: Detection; warnings?: string[]; error?: undefined }
  | { file: string; error: string };

/** What a shard file starts with. */
interface ShardHead {
  /** The detector's name. */
  detector: string;
  /** Image files found over all shards. */
  files: number;
  /** Inputs that could not be read at all (first shard only). */
  inputErrors: [string, string][];
}

/** Writes a shard's rows to `<out>/shards/shard-i-of-N.jsonl`, whole or not at all. */
async function writeShard(out: string, shard: Shard, head: ShardHead, rows: ShardRow[]) {
  const file = join(out, "shards", `${shardName(shard)}.jsonl`);
  await Deno.mkdir(dirname(file), { recursive: true });
  // JSON that keeps NaN and infinities, so that a merge prints what one process would have
  await atomicWrite(
    file,
    [{ ...head, shard }, ...rows].map((r) => stringifyExact(r) + "\n").join(""),
  );
}

/**
 * The shards of a sharded detection, printed as one process would have printed them: the same
 * rows in the same order, in `mode`. Every shard of the run must be there.
 */
export async function mergeShards(
  dir: string,
  mode: OutputMode,
): Promise<{ text: string; errors: number; scored: number }> {
  const files = await shardFiles(join(dir, "shards"), "jsonl", "run them");
  const lines: string[] = [];
  let head0: ShardHead | undefined, scored = 0;
  const errors: [string, string][] = [];
  const rows: ShardRow[] = [];
  for (const file of files) {
    const [head, ...rest] = (await Deno.readTextFile(file)).split("\n").filter((l) => l)
      .map((l, i) => {
        try {
          // deno-lint-ignore no-explicit-any
          return parseExact<any>(l);
        } catch {
          throw new CgvsniError(`${file}:${i + 1}: not a shard record (a torn write?)`);
        }
      });
    if (!head || typeof head.files !== "number") throw new CgvsniError(`${file}: no shard header`);
    if (head0 && (head.files !== head0.files || head.detector !== head0.detector)) {
      throw new CgvsniError(
        `${file}: written for ${head.files} files with ${head.detector}, but the first shard for ${head0.files} with ${head0.detector}: shards of different runs`,
      );
    }
    head0 ??= head;
    errors.push(...(head.inputErrors ?? []));
    rows.push(...rest);
  }
  const final = printer(mode, head0!.detector, (l) => lines.push(l));
  for (const r of rows) {
    if (r.error !== undefined) {
      errors.push([r.file, r.error]);
      final.error(r.file, r.error);
    } else {
      scored++;
      final.row(r.file, r.d, r.warnings);
    }
  }
  final.end(errors);
  return { text: lines.map((l) => l + "\n").join(""), errors: errors.length, scored };
}

/** The file a sharded detection's merge writes, by output format. */
export const RESULTS_FILE: Record<OutputMode, string> = {
  table: "results.txt",
  csv: "results.csv",
  json: "results.json",
  jsonl: "results.jsonl",
};

/**
 * The command line of one shard: the flags given but the executor's, the output folder and the
 * threads (each job sets its own), and the files as given (jobs start in this folder, so that
 * the merged output names files as one run here would).
 */
function shardArgv(a: ParsedArgs): string[] {
  const drop = new Set([
    "out",
    "merge",
    "shard",
    "threads",
    "config", // its values are in a.values already; it may hold the executor's flags
    ...CLUSTER_FLAGS.map((f) => f.name),
  ]);
  const flags = Object.entries(a.values).filter(([k, v]) => !drop.has(k) && v !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : 1)) // the same flags in any order: the same unit
    .flatMap(([k, v]) => v === true ? [`--${k}`] : v === false ? [] : [`--${k}=${v}`]);
  return [...flags, "--", ...a.positionals];
}

/** `detect --shards N`: a graph of N shard units and a merge, run here or on Slurm. */
async function detectGraph(
  a: ParsedArgs,
  out: string,
  how: Sharding,
  mode: OutputMode,
): Promise<number> {
  const argv = shardArgv(a);
  const graph = await writeGraph({
    version: 1,
    name: `detect-${basename(out)}`,
    dir: out,
    // the jobs write their shards here, and heatmaps where --heatmap says
    writes: [
      out,
      ...(str(a, "heatmap") ? [resolve(str(a, "heatmap")!)] : []),
      // a map run's head threshold and crop cache may be (re)written on first use
      ...(str(a, "map") ? [resolve(str(a, "runs") ?? DEFAULT_RUNS)] : []),
    ],
    units: [
      { id: "detect", kind: "detect", after: [], shards: how.shards, params: { argv, out } },
      // the shards' command line too: other flags or files make another merge
      { id: "merge", kind: "detect-merge", after: ["detect"], params: { out, mode, argv } },
    ],
  });
  const code = await execute(graph, how, DETECT_KINDS);
  if (code === EXIT.ok && how.executor === "local") {
    // what the merge unit wrote, and the exit code one process gives (3: some inputs unscored)
    const { text, errors } = await mergeShards(out, mode);
    if (text) console.log(text.replace(/\n$/, ""));
    if (errors > 0) return EXIT.someFailed;
  }
  return code;
}

/** The parameters of a `detect` shard unit. */
interface DetectParams {
  /** `detect`'s flags and files. */
  argv: string[];
  /** The output folder. */
  out: string;
}

/** The units of `detect --shards N`: a shard of the images, and the merge. */
export const DETECT_KINDS: UnitKinds = {
  detect: {
    resources: { cpus: 2, memMB: 4096, minutes: 4 * 60 },
    async run(params, { shard }) {
      const p = params as DetectParams;
      const code = await runCommand(detectCommand, [
        `--shard=${shard.index}/${shard.count}`,
        `--out=${p.out}`,
        "--quiet",
        ...p.argv, // ends with -- and the files
      ]);
      // 3: some files could not be scored; they are listed in the shard, as one run lists them
      if (code !== EXIT.ok && code !== EXIT.someFailed) {
        throw new CgvsniError(`detect shard ${shard.index}/${shard.count} ended with code ${code}`);
      }
    },
    outputs: (p, shard) => [join((p as DetectParams).out, "shards", `${shardName(shard)}.jsonl`)],
  },
  "detect-merge": {
    resources: { cpus: 1, memMB: 2048, minutes: 30 },
    async run(params) {
      const p = params as { out: string; mode: OutputMode };
      const { text } = await mergeShards(p.out, p.mode);
      await atomicWrite(join(p.out, RESULTS_FILE[p.mode]), text);
    },
    outputs: (params) => {
      const p = params as { out: string; mode: OutputMode };
      return [join(p.out, RESULTS_FILE[p.mode])];
    },
  },
};
