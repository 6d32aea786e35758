/**
 * `cgvsni evaluate`: the evaluation protocol, head and one-class model, per renderer.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import { UsageError } from "../lib/core/errors.ts";
import { initBackend } from "../lib/backends/select.ts";
import {
  detectorEvaluationDir,
  evaluateDetector,
  evaluationShardFile,
  mergeDetectorEvaluation,
  scoreDetectorShard,
} from "../lib/eval/evaluate_detector.ts";
import { basename, join, resolve } from "node:path";
import { writeGraph } from "../lib/cluster/graph.ts";
import type { UnitKinds } from "../lib/cluster/local.ts";
import { parseShard } from "../lib/cluster/shard.ts";
import type { Detector } from "../lib/detect/detector.ts";
import { CLUSTER_FLAGS, execute, shardingOf } from "./_cluster.ts";
import { evaluate } from "../lib/eval/evaluate.ts";
import type { CropMode, Evaluation } from "../lib/eval/evaluation.ts";
import { fmtCi, oneclassLabel } from "../lib/eval/results.ts";
import { TOO_CLEAN } from "../lib/eval/controls.ts";
import { openDetector } from "./detect.ts";
import {
  bool,
  choice,
  type Command,
  COMPUTE_FLAGS,
  EXIT,
  num,
  ONECLASS_RUN_FLAG,
  type ParsedArgs,
  RUNS_FLAG,
  str,
} from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { DEFAULT_CROPS, DEFAULT_EVAL_TILES } from "../lib/eval/evaluate.ts";
import { DEFAULT_BOOTSTRAP } from "../lib/eval/metrics.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";
import { DEFAULT_ONECLASS_RUN } from "../lib/oneclass/train.ts";
import { fileSha256 } from "../lib/core/bundle.ts";

/** The `evaluate` command. */
export const evaluateCommand: Command = {
  name: "evaluate",
  usage:
    "--map RUN [--oneclass-run NAME] [--test-data DIR] [flags]\n       cgvsni evaluate --detector DIR|URL --test-data DIR [flags]",
  summary:
    "Evaluate head and one-class model on test images, natural vs every renderer, with 95% CIs.",
  description: `
On RUN's test split (disjoint from everything either stage trained on or set a threshold with),
or on every image of another dataset folder (--test-data DIR, its own dataset.csv; never used
for training or thresholds), for natural images against every renderer, seen in training or
not: the supervised head (p(CG) >= its threshold) and the one-class model (score > 0), each with
accuracy, CG recall, NI recall, HTER = (FPR+FNR)/2, ROC AUC, EER and TPR at FPR = 5%, with 95%
stratified-bootstrap confidence intervals. Thresholds are the models' own, set on natural images
only: the one-class model's on its training vectors, the head's at the 1 - nu quantile of p(CG)
over the map's natural validation images (set once, kept in the map run). Image scores are means
over several crops per image (--crops).
Diagnostics: feature norms per class; a positive control (natural test images blurred,
${TOO_CLEAN}: should score outside); a negative control (natural test images per source folder:
should score inside at about 1 - nu).
Writes RUN/NAME/evaluation[-DATASET]/: results.json, results.md, roc.svg, histograms.svg.
Unusable test images are listed (skipped.txt) and the rest evaluated.
A one-class run without a map (train-oneclass --data): --oneclass-run NAME alone.
A finished detector (--detector DIR|URL, e.g. models/cgbench-small) on a labelled dataset folder
(--test-data DIR): every image is scored exactly as \`detect\` scores it, with the same metrics
and controls; results in runs/detectors/DETECTOR-DATASET/ (-CSV after it for a --test-csv
other than dataset.csv). With a detector, --shard i/N scores
the i-th of N slices of the images into that folder's shards/, and --merge turns every shard into
the evaluation one process makes; --shards N [--executor slurm] does both as a graph of units
(docs/cluster.md). --map RUN --test-data DIR with --shard, --merge or --shards does the same with
the run's detector (images scored as detect --map scores them, tiles up to its limit), into
runs/detectors/RUN-NAME-DATASET/; a run's own test split: compute its vectors in slices first
(features --map RUN --shards N), and evaluate --map RUN reads them.`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    { name: "map", type: "string", arg: "RUN", help: "the map run" },
    {
      name: "detector",
      type: "string",
      arg: "DIR|URL",
      help: "evaluate this detector folder (export-detector) instead of a run; needs --test-data",
    },
    ONECLASS_RUN_FLAG,
    RUNS_FLAG,
    {
      name: "test-data",
      type: "string",
      arg: "DIR",
      help: "score every image of this dataset folder instead of the test split",
    },
    {
      name: "test-csv",
      type: "string",
      arg: "FILE",
      help: "the CSV of --test-data (default DIR/dataset.csv)",
    },
    {
      name: "crops",
      type: "string",
      arg: "MODE",
      default: DEFAULT_CROPS,
      help: "crops per image: tiles (N x N grid) | ten (TenCrop) | center",
    },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      default: String(DEFAULT_EVAL_TILES),
      help: "tiles per side for --crops tiles",
    },
    {
      name: "bootstrap",
      type: "string",
      arg: "N",
      default: String(DEFAULT_BOOTSTRAP),
      help: "bootstrap resamples for the confidence intervals",
    },
    { name: "seed", type: "string", arg: "N", default: "0", help: "bootstrap seed" },
    { name: "no-controls", type: "boolean", help: "skip the positive and negative controls" },
    {
      name: "shard",
      type: "string",
      arg: "i/N",
      help:
        "with --test-data and --detector or --map: score only the i-th of N slices (merge with --merge)",
    },
    {
      name: "merge",
      type: "boolean",
      help:
        "with --test-data and --detector or --map: the evaluation of the shards scored into its folder",
    },
    ...CLUSTER_FLAGS,
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    if (str(a, "detector") !== undefined) return await runDetector(a);
    if (str(a, "shard") || bool(a, "merge") || shardingOf(a)) {
      // another folder: the run's detector scores it in slices, as detect would
      if (str(a, "map") && str(a, "test-data")) return await runDetector(a);
      throw new UsageError(
        "evaluate: --shard, --merge and --shards go with --test-data DIR (and --detector DIR or " +
          "--map RUN); for a run's own test split compute its vectors in slices first " +
          "(features --map RUN --shards N), then evaluate --map RUN reads them",
      );
    }
    const map = str(a, "map");
    if (!map && !str(a, "oneclass-run")) {
      throw new UsageError(
        "evaluate: --map RUN is required (or --oneclass-run NAME of a run without a map)",
      );
    }
    const ev = await evaluate({
      map,
      oneclass: str(a, "oneclass-run"),
      runs: str(a, "runs"),
      crops: choice(a, "crops", ["tiles", "ten", "center"] as CropMode[]),
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      bootstrap: num(a, "bootstrap", { int: true, min: 1 }),
      seed: num(a, "seed", { int: true }),
      testData: str(a, "test-data"),
      testCsv: str(a, "test-csv"),
      noControls: bool(a, "no-controls"),
      backend: str(a, "backend", "auto") as BackendName,
    });
    printResults(ev);
    console.log(`(* = a renderer the map was trained on) results in ${ev.dir}`);
    return 0;
  },
};

/** `evaluate --detector DIR|URL --test-data DIR`. */
async function runDetector(a: ParsedArgs): Promise<number> {
  const dir = str(a, "detector"), map = str(a, "map"), testData = str(a, "test-data");
  if (dir && map) throw new UsageError("evaluate: --detector and --map exclude each other");
  if (!testData) {
    throw new UsageError("evaluate --detector needs --test-data DIR (a labelled dataset folder)");
  }
  const runs = str(a, "runs", DEFAULT_RUNS)!;
  const oneclassRun = str(a, "oneclass-run", DEFAULT_ONECLASS_RUN)!;
  if (map && (a.values.crops !== undefined || a.values.tiles !== undefined)) {
    throw new UsageError(
      "evaluate --map RUN --test-data DIR in shards scores as detect --map does (its own tiles): " +
        "--crops and --tiles do not apply",
    );
  }
  // a run's detector: where its evaluation goes is named after the run and its one-class model
  const params: EvaluateParams = {
    ...(map ? { map, oneclassRun, runs: resolve(runs) } : { detector: dir }),
    testData,
    testCsv: str(a, "test-csv"),
    out: resolve(
      detectorEvaluationDir(
        runs,
        map ? `${map}-${oneclassRun}` : dir!,
        testData,
        str(a, "test-csv"),
      ),
    ),
    // what the detector is made of: its units run again when a model changes under its name
    models: await modelSums(
      map
        ? [
          join(resolve(runs), map, "model", "model.json"),
          join(resolve(runs), map, oneclassRun, "oneclass.json"),
        ]
        : /^(https?|file):/.test(dir!)
        ? []
        : ["detector.json", "model.json", "head.json", "oneclass.json"].map((f) => join(dir!, f)),
    ),
    bootstrap: num(a, "bootstrap", { int: true, min: 1 }),
    seed: num(a, "seed", { int: true }),
    noControls: bool(a, "no-controls"),
  };
  const how = shardingOf(a), shardText = str(a, "shard");
  if ([how, shardText, bool(a, "merge") || undefined].filter((x) => x).length > 1) {
    throw new UsageError("evaluate: --shards, --shard and --merge exclude each other");
  }
  if (how) {
    const graph = await writeGraph({
      version: 1,
      name: `evaluate-${basename(params.out)}`,
      dir: params.out,
      writes: [params.out],
      units: [
        { id: "score", kind: "evaluate-shard", after: [], shards: how.shards, params },
        { id: "merge", kind: "evaluate-merge", after: ["score"], params },
      ],
    });
    const code = await execute(graph, how, EVALUATE_KINDS);
    if (code === EXIT.ok && how.executor === "local") {
      console.log(`results in ${params.out}`);
    }
    return code;
  }
  const backend = await initBackend(str(a, "backend", "auto") as BackendName);
  for (const n of backend.notices) console.error(`notice: ${n}`);
  const det = await openDetectorOf(params);
  try {
    if (shardText) {
      const file = await scoreDetectorShard(det, { ...params, shard: parseShard(shardText) });
      console.log(`scores of shard ${shardText} in ${file}`);
      return 0;
    }
    const ev = bool(a, "merge")
      ? await mergeDetectorEvaluation(det, params)
      : await evaluateDetector(det, params);
    printResults(ev);
    if (ev.skipped.length) console.log(`${ev.skipped.length} image(s) skipped: see skipped.txt`);
    console.log(`(* = a renderer the map was trained on) results in ${ev.dir}`);
    return 0;
  } finally {
    det.dispose();
  }
}

/** One line per renderer: head and one-class AUC, HTER, NI recall with intervals. */
function printResults(ev: Evaluation): void {
  for (const r of ev.results) {
    console.log(
      `${(r.renderer + (r.seen ? "*" : "")).padEnd(12)} head AUC ${fmtCi(r.head?.auc)} HTER ${
        fmtCi(r.head?.hter)
      } | ` +
        `${oneclassLabel(ev)} AUC ${fmtCi(r.oneclass.auc)} HTER ${
          fmtCi(r.oneclass.hter)
        } NI recall ${fmtCi(r.oneclass.niRecall)}` +
        (r.fused
          ? ` | fused AUC ${fmtCi(r.fused.auc)} HTER ${fmtCi(r.fused.hter)} NI recall ${
            fmtCi(r.fused.niRecall)
          }`
          : ""),
    );
  }
}

/** What an evaluation unit needs: the detector (a folder, or a run's), the data, the options. */
interface EvaluateParams {
  /** Detector folder or URL. */
  detector?: string;
  /** Or a map run, whose detector is evaluated (as `detect --map` scores). */
  map?: string;
  /** The map run's one-class run. */
  oneclassRun?: string;
  /** The runs folder of `map`. */
  runs?: string;
  /** Checksums of the detector's files (absent ones named so). */
  models?: string[];
  /** The labelled dataset folder. */
  testData: string;
  /** Its CSV, if not `testData/dataset.csv`. */
  testCsv?: string;
  /** The results folder. */
  out: string;
  /** Bootstrap resamples. */
  bootstrap?: number;
  /** Bootstrap seed. */
  seed?: number;
  /** Skip the controls. */
  noControls?: boolean;
}

/** Runs `f` with the detector a unit names, on the backend this process chose. */
async function withDetector<T>(p: EvaluateParams, f: (d: Detector) => Promise<T>): Promise<T> {
  await initBackend("auto");
  const det = await openDetectorOf(p);
  try {
    return await f(det);
  } finally {
    det.dispose();
  }
}

/** The SHA-256 of each file, or "absent". */
async function modelSums(files: string[]): Promise<string[]> {
  return await Promise.all(
    files.map(async (f) => (await fileSha256(f).catch(() => undefined)) ?? `absent ${f}`),
  );
}

/** The detector a unit's parameters name: a detector folder, or a run's. */
function openDetectorOf(p: EvaluateParams): Promise<Detector> {
  return openDetector(
    p.map ? { map: p.map, runs: p.runs, "oneclass-run": p.oneclassRun } : { detector: p.detector },
  );
}

/** The units of `evaluate --detector … --shards N`: a shard of the images, and the merge. */
export const EVALUATE_KINDS: UnitKinds = {
  "evaluate-shard": {
    resources: { cpus: 2, memMB: 4096, minutes: 4 * 60 },
    run: (p, { shard, log }) =>
      withDetector(
        p as EvaluateParams,
        async (det) =>
          void await scoreDetectorShard(det, { ...(p as EvaluateParams), shard, progress: log }),
      ),
    outputs: (p, shard) => [evaluationShardFile((p as EvaluateParams).out, shard)],
  },
  "evaluate-merge": {
    resources: { cpus: 1, memMB: 4096, minutes: 60 },
    run: (p, { log }) =>
      withDetector(
        p as EvaluateParams,
        async (det) =>
          void await mergeDetectorEvaluation(det, { ...(p as EvaluateParams), progress: log }),
      ),
    outputs: (p) => [join((p as EvaluateParams).out, "results.json")],
  },
};
