/**
 * `cgvsni detect`: score image files and folders.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { initBackend } from "../lib/backends/select.ts";
import { formatCsv } from "../lib/data/csv.ts";
import { hasImageExtension } from "../lib/data/image.ts";
import {
  type Detection,
  type Detector,
  detectorFromRun,
  loadDetector,
} from "../lib/detect/detector.ts";
import { ImageError, oneLine, UsageError } from "../lib/core/errors.ts";
import { atomicWrite } from "../lib/core/files.ts";
import { heatmapPng } from "../lib/detect/heatmap.ts";
import { runPath } from "../lib/runs/folder.ts";
import { BACKEND_FLAG, bool, type Command, num, str } from "./_args.ts";

/** Default detector shipped with the toolkit. */
export const DEFAULT_MODEL = new URL("../models/cgbench-small/", import.meta.url);

/** Exit code when some inputs could not be scored (the others were). */
export const EXIT_SOME_FAILED = 3;

/**
 * Expands files and folders (recursively, sorted) into image paths. Symbolic links to folders
 * are not followed (no loops); links to files are. Files named explicitly are kept whatever
 * their extension (the decoder decides); in folders only image extensions are picked up.
 */
export async function expandInputs(
  paths: string[],
): Promise<{ files: string[]; errors: [string, string][] }> {
  const files: string[] = [], errors: [string, string][] = [];
  const walk = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      errors.push([dir, `cannot list folder: ${oneLine(e)}`]);
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && hasImageExtension(e.name)) files.push(p);
      else if (e.isSymlink && hasImageExtension(e.name)) {
        try {
          if ((await Deno.stat(p)).isFile) files.push(p);
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
    if (st.isDirectory) await walk(p);
    else files.push(p);
  }
  return { files, errors };
}

/** The `detect` command. */
export const detectCommand: Command = {
  name: "detect",
  usage: "PATH... [--model DIR|URL | --model-name RUN] [--json|--csv] [--heatmap DIR]",
  summary:
    "Score images (files or folders, recursive): p(CG) from the head, the flow score, a verdict.",
  description: `
Each image is tiled with the map's crop size (up to --max-tiles per side, spread over the whole
image) and gets the mean p(CG) of the supervised head and the mean one-class score (> 0:
computer-generated). Verdict (--rule both, the default): "computer-generated" or "natural" only
when head and flow agree, each outside its unsure band (|p - 0.5| <= --unsure-p; |score| <=
--unsure * R^2), else "unsure". --rule head or flow uses one stage alone. "disagree" marks
images where head (p >= 0.5) and flow (score > 0) decide differently.
Unreadable files are listed with the reason; the others are still scored.

Detector: --model DIR or URL (a folder written by export-detector; default: the cgbench-small
detector shipped in models/), or --model-name RUN [--flow NAME] to use a run directly.

Exit codes: 0 every input scored; 3 some inputs could not be scored (listed; the rest were);
1 nothing could run (bad model, no permission); 2 bad flags.`,
  permissions:
    "--allow-read --allow-write=runs --allow-env=IMAGESCRIPT_WASM_SIMD,CGVSNI_DNNL,CGVSNI_POOL_MB --allow-ffi --allow-sys=systemMemoryInfo (--allow-net=HOST only for --model https://HOST/...)",
  flags: [
    {
      name: "model",
      type: "string",
      arg: "DIR|URL",
      help: "detector folder or URL (default: models/cgbench-small)",
    },
    {
      name: "model-name",
      type: "string",
      arg: "RUN",
      help: "use map run RUN and its one-class run instead",
    },
    {
      name: "flow",
      type: "string",
      arg: "NAME",
      default: "flow",
      help: "one-class run inside RUN (with --model-name)",
    },
    {
      name: "runs",
      type: "string",
      arg: "DIR",
      default: "runs",
      help: "folder of run folders (with --model-name)",
    },
    { name: "json", type: "boolean", help: "print JSON (one object with results and errors)" },
    {
      name: "csv",
      type: "boolean",
      help: "print CSV (file,verdict,p_cg,score,crops,disagree,error)",
    },
    {
      name: "heatmap",
      type: "string",
      arg: "DIR",
      help: "write a PNG heatmap of per-tile scores per image into DIR",
    },
    {
      name: "max-tiles",
      type: "string",
      arg: "N",
      help: "most tiles per image side (default: the detector's, 4)",
    },
    {
      name: "rule",
      type: "string",
      arg: "RULE",
      help:
        "verdict rule: both (head and flow agree), head or flow (default: the detector's, both)",
    },
    {
      name: "unsure-p",
      type: "string",
      arg: "X",
      help: "half-width of the head's unsure band around p = 0.5 (default 0.1)",
    },
    {
      name: "unsure",
      type: "string",
      arg: "X",
      help: "half-width of the unsure band, as a fraction of R^2 (default 0.1)",
    },
    {
      name: "max-pixels",
      type: "string",
      arg: "N",
      default: "100000000",
      help: "refuse images with more pixels",
    },
    BACKEND_FLAG,
  ],
  async run(a) {
    if (a.positionals.length === 0) {
      throw new UsageError("detect: give at least one file or folder (see --help)");
    }
    if (bool(a, "json") && bool(a, "csv")) {
      throw new UsageError("detect: --json and --csv exclude each other");
    }
    const backend = await initBackend(str(a, "backend", "auto") as BackendName);
    for (const n of backend.notices) console.error(`notice: ${n}`);
    const name = str(a, "model-name");
    const det: Detector = name
      ? await detectorFromRun(
        runPath(resolve(str(a, "runs", "runs")!), name),
        str(a, "flow", "flow"),
      )
      : await loadDetector(str(a, "model") ?? DEFAULT_MODEL);
    const unsure = num(a, "unsure", { min: 0 });
    if (unsure !== undefined) det.info.unsure = unsure;
    const unsureP = num(a, "unsure-p", { min: 0, max: 0.49 });
    if (unsureP !== undefined) det.info.unsureP = unsureP;
    const rule = str(a, "rule");
    if (rule !== undefined) {
      if (!["both", "head", "flow"].includes(rule)) {
        throw new UsageError(`--rule must be both, head or flow, got "${rule}"`);
      }
      det.info.rule = rule as "both" | "head" | "flow";
    }
    const maxTiles = num(a, "max-tiles", { int: true, min: 1, max: 64 });
    const maxPixels = num(a, "max-pixels", { int: true, min: 1 });
    const heatDir = str(a, "heatmap");
    if (heatDir) await Deno.mkdir(heatDir, { recursive: true });
    const { files, errors } = await expandInputs(a.positionals);
    const results: [string, Detection][] = [];
    for (const f of files) {
      try {
        const bytes = await Deno.readFile(f).catch((e) => {
          throw new ImageError(
            f,
            e instanceof Deno.errors.IsADirectory ? "is a folder" : `cannot read: ${oneLine(e)}`,
          );
        });
        const d = await det.score(bytes, { name: f, maxTilesPerSide: maxTiles, maxPixels });
        results.push([f, d]);
        if (heatDir) {
          const out = join(
            heatDir,
            f.replace(/^\/+/, "").replace(/[\/\\]/g, "__") + ".heatmap.png",
          );
          await atomicWrite(out, await heatmapPng(d.tiles, d.width, d.height, det.crop));
        }
      } catch (e) {
        if (!(e instanceof ImageError)) throw e;
        errors.push([f, e.reason]);
      }
    }
    det.dispose();
    print(
      results,
      errors,
      bool(a, "json") ? "json" : bool(a, "csv") ? "csv" : "table",
      det.info.name,
    );
    return errors.length > 0 ? EXIT_SOME_FAILED : 0;
  },
};

function print(
  results: [string, Detection][],
  errors: [string, string][],
  mode: "json" | "csv" | "table",
  model: string,
) {
  const r3 = (x: number) => +x.toFixed(4);
  if (mode === "json") {
    console.log(JSON.stringify(
      {
        model,
        results: results.map(([file, d]) => ({
          file,
          verdict: d.verdict,
          p_cg: r3(d.pCg),
          score: r3(d.score),
          crops: d.crops,
          disagree: d.disagree,
          width: d.width,
          height: d.height,
        })),
        errors: errors.map(([file, reason]) => ({ file, error: reason })),
      },
      null,
      2,
    ));
    return;
  }
  if (mode === "csv") {
    console.log(
      formatCsv(
        ["file", "verdict", "p_cg", "score", "crops", "disagree", "error"],
        [
          ...results.map((
            [f, d],
          ) => [f, d.verdict, r3(d.pCg), r3(d.score), d.crops, String(d.disagree), ""]),
          ...errors.map(([f, e]) => [f, "", "", "", "", "", e]),
        ],
      ).trimEnd(),
    );
    return;
  }
  const w = Math.min(60, Math.max(4, ...results.map(([f]) => f.length)));
  console.log(`${"file".padEnd(w)}  ${"verdict".padEnd(18)}  p(CG)   score     crops`);
  for (const [f, d] of results) {
    console.log(
      `${f.padEnd(w)}  ${d.verdict.padEnd(18)}  ${d.pCg.toFixed(3)}  ${
        d.score.toFixed(3).padStart(8)
      }  ${d.crops}${d.disagree ? "  (head and flow disagree)" : ""}`,
    );
  }
  if (errors.length) {
    console.log(`\n${errors.length} input(s) could not be scored:`);
    for (const [f, e] of errors) console.log(`  ${f}: ${e}`);
  }
}
