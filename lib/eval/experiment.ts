/**
 * Experiments over renderers, every stage of the method per row:
 *
 * - `pairs`: for each renderer R, a map trained on natural + R; every renderer tested. The
 *   diagonal is "seen", everything else an unseen renderer.
 * - `loro` (leave one renderer out, the field's standard): for each renderer R, a map trained on
 *   natural + every *other* renderer; R is then unseen by every stage (the one-class model sees
 *   natural images only, and R's images are only ever test images).
 *
 * All rows share one split (it does not depend on the training renderers), so every column tests
 * on the same images. Resumable: a map, one-class model or evaluation that finished is reused; an
 * interrupted one is resumed from its checkpoint.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UsageError } from "../core/errors.ts";
import { atomicWrite, exists, readJsonIfExists, writeJson } from "../core/files.ts";
import { type Graph, type Unit, unitSeconds, writeGraph } from "../cluster/graph.ts";
import { runGraph, type UnitKinds } from "../cluster/local.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import { FEATURES_KINDS, type PrecomputeOptions } from "./precompute.ts";
import { loadDataset } from "../data/dataset.ts";
import { DEFAULT_SOURCE } from "../features/sources.ts";
import { trainMap, type TrainMapOptions } from "../map/train.ts";
import { DEFAULT_KIND } from "../oneclass/estimator.ts";
import {
  defaultRunName,
  resolveSettings,
  setAsideStale,
  trainOneClass,
  type TrainOneClassOptions,
} from "../oneclass/train.ts";
import { checkRunName, DEFAULT_RUNS, ensureDir } from "../runs/folder.ts";
import { currentEvaluation, fmtCi } from "./results.ts";
import { evaluate, type EvaluateOptions } from "./evaluate.ts";
import type { Evaluation } from "./evaluation.ts";
import type { WithCi } from "./metrics.ts";

/** The protocols of {@link experiment}. */
export type ExperimentProtocol = "pairs" | "loro";

/** Options of {@link experiment}. */
export interface ExperimentOptions {
  /** Dataset folder. */
  data: string;
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** Experiment name: runs are `<name>-<row>`, the matrix goes to `runs/<name>/`. */
  name?: string;
  /** `pairs` (default) or `loro`. */
  protocol?: ExperimentProtocol;
  /** Rows: training renderers (pairs) or held-out renderers (loro); default every renderer. */
  renderers?: string[];
  /** Options passed to every map training (data, runs, name, renderer are set here). */
  map?: Partial<TrainMapOptions>;
  /** Options passed to every one-class training. */
  oneclass?: Partial<TrainOneClassOptions>;
  /** Options passed to every evaluation. */
  evaluation?: Partial<EvaluateOptions>;
  /** Slices each row's feature extraction is cut into, each a unit of its own (default 1). */
  featureShards?: number;
  /** Progress and log sink. */
  progress?: Progress;
}

/** One cell: metrics of head and one-class model for a (row, test renderer) pair. */
export interface MatrixCell {
  /** The row: the training renderer (pairs) or the held-out renderer (loro). */
  train: string;
  /** Renderer tested against natural images. */
  test: string;
  /** Whether the map saw this renderer. */
  seen: boolean;
  /** Supervised head HTER and AUC. */
  head?: { hter: WithCi; auc: WithCi };
  /** One-class HTER, AUC and natural recall. */
  oneclass: { hter: WithCi; auc: WithCi; niRecall: WithCi };
  /** Test images (natural / rendered). */
  n: [number, number];
}

/** The matrix (also `matrix.json`). */
export interface Matrix {
  /** Experiment name. */
  name: string;
  /** Protocol. */
  protocol: ExperimentProtocol;
  /** Renderers, in label order. */
  renderers: string[];
  /** The one-class model (kind on source). */
  oneclass: string;
  /** Every cell, row-major. */
  cells: MatrixCell[];
  /** Seconds spent per row in this invocation (small when reused). */
  seconds: Record<string, number>;
  /** When it was assembled. */
  created: string;
}

/** The experiment's defaults: its name and protocol. */
export const EXPERIMENT_DEFAULTS = { name: "experiment", protocol: "pairs" } as const;

/**
 * Runs (or resumes) every row of an experiment.
 *
 * @example Leave one renderer out, on the shipped dataset
 * ```ts
 * import { experiment } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * await initBackend("auto");
 * const runs = await Deno.makeTempDir();
 * const m = await experiment({
 *   data: "dataset",
 *   runs,
 *   protocol: "loro",
 *   renderers: ["POVRay"],
 *   map: { crop: 80, width: 4, fc: 8, epochs: 1 },
 *   oneclass: { features: "residual", oneclass: "gauss" },
 *   evaluation: { bootstrap: 50, noControls: true },
 *   progress: makeProgress({ quiet: true }),
 * });
 * console.log(m.cells.find((c) => !c.seen));
 * ```
 */
export async function experiment(o: ExperimentOptions): Promise<Matrix & { dir: string }> {
  const log = o.progress ?? makeProgress();
  const graph = await experimentPlan(o);
  await runGraph(graph, EXPERIMENT_KINDS, { log });
  const m = await readJsonIfExists<Matrix>(join(graph.dir, "matrix.json"));
  return { ...m!, dir: graph.dir };
}

/**
 * Checks an experiment's options and writes its graph of units to `runs/<name>/graph.json`
 * (see {@link experimentGraph}), for the local executor or a scheduler.
 */
export async function experimentPlan(o: ExperimentOptions): Promise<Graph> {
  const runs = resolve(o.runs ?? DEFAULT_RUNS);
  const name = checkRunName(o.name ?? EXPERIMENT_DEFAULTS.name);
  const protocol = o.protocol ?? EXPERIMENT_DEFAULTS.protocol;
  if (protocol !== "pairs" && protocol !== "loro") {
    throw new UsageError(`protocol must be pairs or loro, got "${protocol}"`);
  }
  const ds = await loadDataset(o.data, { csv: o.map?.csv });
  const all = ds.classes.filter((c) => c.label > 0).map((c) => c.name);
  const rows = o.renderers?.length ? o.renderers : all;
  for (const r of rows) {
    if (!all.includes(r)) {
      throw new UsageError(`renderer ${r} is not in the dataset (renderers: ${all.join(", ")})`);
    }
  }
  if (protocol === "loro" && all.length < 2) {
    throw new UsageError("leave-one-renderer-out needs at least two renderers");
  }
  await ensureDir(join(runs, name));
  return await writeGraph(experimentGraph({ ...o, runs, name, protocol, renderers: rows }, all));
}

/** What a row of an experiment trains against, and its map run's name. */
function rowsOf(
  o: ExperimentOptions & { name: string; protocol: ExperimentProtocol },
  all: string[],
) {
  return (o.renderers?.length ? o.renderers : all).map((r) => ({
    row: r,
    train: o.protocol === "pairs" ? [r] : all.filter((x) => x !== r),
    run: o.protocol === "pairs" ? `${o.name}-${r}` : `${o.name}-no${r}`,
  }));
}

/** The options an experiment's units carry: everything but the log sink, the executor's. */
export type ExperimentGraphOptions = Omit<ExperimentOptions, "progress"> & {
  runs: string;
  name: string;
  protocol: ExperimentProtocol;
  renderers: string[];
};

/**
 * An experiment as units: per row a map, its feature vectors (in `featureShards` slices, see
 * lib/eval/precompute.ts), a one-class model and an evaluation, each needing the one before;
 * then the matrix, needing every row. `o.renderers` are the rows, already checked.
 *
 * @example Leave one renderer out over three renderers: thirteen units
 * ```ts
 * import { experimentGraph } from "./experiment.ts";
 * const g = experimentGraph({ data: "dataset", runs: "/tmp/runs", name: "e", protocol: "loro", renderers: ["Cycles", "EEVEE", "POVRay"], featureShards: 4 }, ["Cycles", "EEVEE", "POVRay"]);
 * console.log(g.units.length, g.units[1].shards, g.units[12].after); // 13 4 ["eval-noCycles", "eval-noEEVEE", "eval-noPOVRay"]
 * ```
 */
export function experimentGraph(o: ExperimentGraphOptions, all: string[] = o.renderers): Graph {
  const { progress: _p, ...params } = o as ExperimentOptions & ExperimentGraphOptions;
  const rows = rowsOf({ ...params, renderers: o.renderers }, all.length ? all : o.renderers);
  const units: Unit[] = rows.flatMap(({ row, train, run }) => {
    // each unit carries the options it uses: another bootstrap count does not touch the maps
    const at = { data: o.data, runs: o.runs, run, renderers: train, row };
    const oneclass = { ...at, oneclass: o.oneclass };
    const tag = run.slice(o.name.length + 1);
    return [
      { id: `map-${tag}`, kind: "map", after: [], params: { ...at, map: o.map } },
      {
        id: `features-${tag}`,
        kind: "features",
        after: [`map-${tag}`],
        shards: o.featureShards ?? 1,
        params: featureParams({ ...oneclass, evaluation: o.evaluation }),
      },
      // the map named too: a map trained again makes the one-class model again
      {
        id: `oneclass-${tag}`,
        kind: "oneclass",
        after: [`map-${tag}`, `features-${tag}`],
        params: oneclass,
      },
      {
        id: `eval-${tag}`,
        kind: "evaluate",
        after: [`oneclass-${tag}`],
        params: { ...oneclass, evaluation: o.evaluation },
      },
    ];
  });
  units.push({
    id: "matrix",
    kind: "matrix",
    after: units.filter((u) => u.kind === "evaluate").map((u) => u.id),
    params: { ...params, rows: rows.map((r) => ({ row: r.row, run: r.run })) },
  });
  return {
    version: 1,
    name: `experiment-${o.name}`,
    dir: join(o.runs, o.name),
    writes: [o.runs],
    units,
  };
}

/** A row unit's parameters: the pipeline's options and which row it is. */
type RowParams = Omit<PipelineOptions, "progress"> & { row: string };

/** The matrix unit's parameters. */
type MatrixParams = ExperimentGraphOptions & { rows: { row: string; run: string }[] };

/** Collects every row's evaluation into `matrix.json` and `matrix.md`. */
async function writeMatrix(p: MatrixParams, g: Graph, log: Progress): Promise<void> {
  const all = (await loadDataset(p.data, { csv: p.map?.csv })).classes
    .filter((c) => c.label > 0).map((c) => c.name);
  const cells: MatrixCell[] = [];
  const seconds: Record<string, number> = {};
  let oneclass = "";
  for (const { row, run } of p.rows) {
    const ev = await pipelineEvaluate({ ...p, run, renderers: [], progress: log });
    oneclass = `${ev.oneclassKind} on ${ev.features}`;
    for (const res of ev.results) {
      cells.push({
        train: row,
        test: res.renderer,
        seen: res.seen,
        head: res.head ? { hter: res.head.hter, auc: res.head.auc } : undefined,
        oneclass: {
          hter: res.oneclass.hter,
          auc: res.oneclass.auc,
          niRecall: res.oneclass.niRecall,
        },
        n: [res.natural, res.rendered],
      });
    }
    const tag = run.slice(p.name.length + 1);
    let s = 0;
    for (const k of ["map", "features", "oneclass", "eval"]) {
      const u = g.units.find((x) => x.id === `${k}-${tag}`);
      if (u) s += (await unitSeconds(g.dir, u)).reduce((a, b) => a + b, 0);
    }
    seconds[row] = +s.toFixed(1);
  }
  const m: Matrix = {
    name: p.name,
    protocol: p.protocol,
    renderers: all,
    oneclass,
    cells,
    seconds,
    created: new Date().toISOString(),
  };
  await writeJson(join(g.dir, "matrix.json"), m);
  await atomicWrite(join(g.dir, "matrix.md"), matrixMarkdown(m));
}

/** Resources per piece on a scheduler: the map trains longest, the matrix is bookkeeping. */
export const EXPERIMENT_KINDS: UnitKinds = {
  map: {
    resources: { cpus: 4, memMB: 16384, minutes: 24 * 60 },
    preemptible: true,
    run: (p, { log }) => pipelineMap({ ...(p as RowParams), progress: log }),
    outputs: (p) => [join(oneclassOf(p as RowParams).mapDir, "model", "model.json")],
  },
  ...FEATURES_KINDS,
  oneclass: {
    resources: { cpus: 2, memMB: 8192, minutes: 12 * 60 },
    preemptible: true,
    // another map: fitted again (other settings are setAsideStale's to judge)
    run: (p, { log, redo }) =>
      pipelineOneClass({ ...(p as RowParams), progress: log }, redo === "inputs"),
    outputs: (p) => {
      const { mapDir, name } = oneclassOf(p as RowParams);
      return [join(mapDir, name, "oneclass.json")];
    },
  },
  evaluate: {
    resources: { cpus: 2, memMB: 8192, minutes: 6 * 60 },
    run: async (p, { log, redo }) =>
      void await pipelineEvaluate({ ...(p as RowParams), progress: log }, !!redo),
    outputs: (p) => {
      const { mapDir, name } = oneclassOf(p as RowParams);
      return [join(mapDir, name, "evaluation", "results.json")];
    },
  },
  matrix: {
    resources: { cpus: 1, memMB: 2048, minutes: 30 },
    run: (p, { graph, log }) => writeMatrix(p as MatrixParams, graph, log),
    outputs: (p) => [join((p as MatrixParams).runs, (p as MatrixParams).name, "matrix.json")],
  },
};

/** Options of {@link pipeline}. */
export interface PipelineOptions
  extends Omit<ExperimentOptions, "name" | "renderers" | "protocol"> {
  /** Map run name. */
  run: string;
  /** The renderers the map learns against. */
  renderers: string[];
}

/**
 * One row of the method: map, one-class model, evaluation, each reused when it finished and
 * resumed when it was interrupted. Returns the evaluation.
 *
 * @example One row: map, one-class model, evaluation (reused when finished)
 * ```ts
 * import { pipeline } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * await initBackend("auto");
 * const runs = await Deno.makeTempDir();
 * const ev = await pipeline({
 *   data: "dataset",
 *   runs,
 *   run: "row",
 *   renderers: ["Cycles"],
 *   map: { crop: 80, width: 4, fc: 8, epochs: 1 },
 *   oneclass: { features: "residual", oneclass: "knn" },
 *   evaluation: { bootstrap: 50, noControls: true },
 *   progress: makeProgress({ quiet: true }),
 * });
 * console.log(ev.results.length); // 3 renderers
 * ```
 */
export async function pipeline(o: PipelineOptions): Promise<Evaluation> {
  await pipelineMap(o);
  await pipelineOneClass(o);
  return await pipelineEvaluate(o);
}

/** A row's image map: reused when it finished, resumed when it was interrupted. */
export async function pipelineMap(o: PipelineOptions): Promise<void> {
  const log = o.progress ?? makeProgress();
  const runs = resolve(o.runs ?? DEFAULT_RUNS);
  const mapDir = join(runs, o.run);
  if (!(await exists(join(mapDir, "model/model.json")))) {
    const resume = await exists(join(mapDir, "checkpoints"));
    log.log(
      `== ${o.run}: ${resume ? "resuming" : "training"} the image map (natural vs ${
        o.renderers.join("+")
      })`,
    );
    await trainMap({
      ...o.map,
      data: o.data,
      runs,
      name: o.run,
      renderer: o.renderers.join(","),
      resume,
      progress: log,
    });
  } else log.log(`== ${o.run}: image map done, reused`);
}

/** What a row's `features` unit computes (lib/eval/precompute.ts): its map's vectors, as the
 * row's one-class model and evaluation will read them. */
function featureParams(o: Omit<PipelineOptions, "progress">): Omit<PrecomputeOptions, "progress"> {
  return {
    runs: resolve(o.runs ?? DEFAULT_RUNS),
    map: o.run,
    features: o.oneclass?.features,
    tiles: o.oneclass?.tiles,
    crops: o.evaluation?.crops,
    evalTiles: o.evaluation?.tiles,
    cacheDir: o.oneclass?.cacheDir,
    backend: o.oneclass?.backend,
  };
}

/** The one-class run of a row's map, and where it is. */
function oneclassOf(o: Omit<PipelineOptions, "progress">) {
  const oc = o.oneclass ?? {};
  const source = oc.features ?? DEFAULT_SOURCE, kind = oc.oneclass ?? DEFAULT_KIND;
  const mapDir = join(resolve(o.runs ?? DEFAULT_RUNS), o.run);
  return { oc, source, kind, name: oc.name ?? defaultRunName(source, kind), mapDir };
}

/**
 * A row's one-class model: reused when it finished, resumed when it was interrupted; with `redo`
 * (its map was trained again since) a finished one is set aside and fitted again.
 */
export async function pipelineOneClass(o: PipelineOptions, redo = false): Promise<void> {
  const log = o.progress ?? makeProgress();
  const { oc, source, kind, name, mapDir } = oneclassOf(o);
  await setAsideStale(
    join(mapDir, name),
    log,
    resolveSettings(oc.settings, source, kind),
    redo ? "fitted on the features of an image map trained again since" : undefined,
  );
  if (!(await exists(join(mapDir, name, "oneclass.json")))) {
    const resume = await exists(join(mapDir, name, "checkpoints"));
    log.log(`== ${o.run}: ${resume ? "resuming" : "training"} the one-class model ${name}`);
    await trainOneClass({
      ...oc,
      map: o.run,
      runs: resolve(o.runs ?? DEFAULT_RUNS),
      name,
      resume,
      progress: log,
    });
  } else log.log(`== ${o.run}: one-class model ${name} done, reused`);
}

/**
 * A row's evaluation on the test split: reused when it is current, made again with `redo` (the
 * one-class model was fitted again since).
 */
export async function pipelineEvaluate(o: PipelineOptions, redo = false): Promise<Evaluation> {
  const log = o.progress ?? makeProgress();
  const { name, mapDir } = oneclassOf(o);
  const saved = redo ? undefined : await currentEvaluation(join(mapDir, name, "evaluation"), log);
  if (saved) {
    log.log(`== ${o.run}: evaluation done, reused`);
    return saved;
  }
  log.log(`== ${o.run}: evaluating on the test split`);
  return await evaluate({
    ...o.evaluation,
    map: o.run,
    oneclass: name,
    runs: resolve(o.runs ?? DEFAULT_RUNS),
    progress: log,
  });
}

/** The matrix as Markdown: AUC and HTER tables, head and one-class model side by side. */
export function matrixMarkdown(m: Matrix): string {
  const rows = [...new Set(m.cells.map((c) => c.train))];
  const cols = m.renderers;
  const table = (title: string, pick: (c: MatrixCell) => string) => [
    `### ${title}`,
    "",
    `| ${m.protocol === "loro" ? "held out" : "train"} \\ test | ${cols.join(" | ")} |`,
    `|---|${cols.map(() => "---").join("|")}|`,
    ...rows.map((r) =>
      `| **${r}** | ${
        cols.map((c) => {
          const cell = m.cells.find((x) => x.train === r && x.test === c);
          return cell ? (cell.seen ? pick(cell) : `**${pick(cell)}**`) : "–";
        }).join(" | ")
      } |`
    ),
    "",
  ];
  const intro = m.protocol === "loro"
    ? "Leave one renderer out: row R is a map trained on natural images and every renderer but R; " +
      "columns are the renderers tested against the natural test images. Bold = a renderer no " +
      "stage ever saw (the diagonal)."
    : "Rows: the renderer the map was trained on (with natural images); columns: the renderer tested " +
      "against the natural test images. Bold = a renderer the map never saw (off the diagonal).";
  const loro = m.protocol === "loro"
    ? [
      "### The held-out renderer",
      "",
      "| held-out renderer | n (NI/CG) | head AUC | head HTER | one-class AUC | one-class HTER | one-class NI recall |",
      "|---|---|---|---|---|---|---|",
      ...rows.map((r) => {
        const c = m.cells.find((x) => x.train === r && x.test === r)!;
        return `| ${r} | ${c.n[0]}/${c.n[1]} | ${fmtCi(c.head?.auc)} | ${fmtCi(c.head?.hter)} | ${
          fmtCi(c.oneclass.auc)
        } | ${fmtCi(c.oneclass.hter)} | ${fmtCi(c.oneclass.niRecall)} |`;
      }),
      "",
    ]
    : [];
  return [
    `## ${m.protocol === "loro" ? "Leave-one-renderer-out" : "Renderer matrix"}: ${m.name}`,
    "",
    `${intro} Each cell: head / one-class (${m.oneclass}), 95 % bootstrap CI in brackets.`,
    "",
    ...loro,
    ...table(
      "ROC AUC (higher is better): head | one-class",
      (c) => `${fmtCi(c.head?.auc)} \\| ${fmtCi(c.oneclass.auc)}`,
    ),
    ...table(
      "HTER (lower is better): head | one-class",
      (c) => `${fmtCi(c.head?.hter)} \\| ${fmtCi(c.oneclass.hter)}`,
    ),
    `Test images per cell (natural / rendered): ${
      [...new Set(m.cells.map((c) => `${c.test} ${c.n[0]}/${c.n[1]}`))].join(", ")
    }.`,
  ].join("\n") + "\n";
}
