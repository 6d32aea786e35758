/**
 * The one-class comparison: every one-class model × feature source, against every renderer,
 * with the maps of an experiment (leave one renderer out by default, so the held-out renderer
 * is unseen by every stage), over several seeds (each seed draws its own split, map
 * initialisation and one-class initialisation). Per cell: ROC AUC, HTER and NI recall at the
 * model's natural-only threshold, with 95 % bootstrap CIs per seed, and the mean and range over
 * seeds. The supervised head is reported the same way next to them.
 *
 * `residual` and `mobilenet` features need no map: they depend only on the split (the seed), so
 * they are fitted once per seed and every renderer is unseen for them.
 *
 * Resumable like {@link experiment}: finished maps, models and evaluations are reused. A model
 * fitted on whole-image features of an older definition is not reused: its folder is renamed
 * `<name>-v<version>` (nothing is deleted) and the cell is fitted again.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { type Graph, type Unit, unitSeconds, writeGraph } from "../cluster/graph.ts";
import { runGraph, type UnitKinds } from "../cluster/local.ts";
import type { RedoReason } from "../cluster/graph.ts";
import { CgvsniError, UsageError } from "../core/errors.ts";
import { atomicWrite, exists, readJsonIfExists, writeJson } from "../core/files.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import { mean } from "../core/stats.ts";
import { loadDataset } from "../data/dataset.ts";
import { FEATURE_SOURCES, type FeatureSource, needsMap } from "../features/sources.ts";
import type { TrainMapOptions } from "../map/train.ts";
import { ONECLASS_KINDS, type OneClassKind } from "../oneclass/estimator.ts";
import type { AnyOptions } from "../oneclass/io.ts";
import {
  resolveSettings,
  setAsideStale,
  trainOneClass,
  type TrainOneClassOptions,
} from "../oneclass/train.ts";
import { checkRunName, DEFAULT_RUNS, ensureDir } from "../runs/folder.ts";
import { currentEvaluation, fmtCi } from "./results.ts";
import { evaluate, type EvaluateOptions } from "./evaluate.ts";
import type { Evaluation } from "./evaluation.ts";
import { EXPERIMENT_KINDS, type ExperimentProtocol } from "./experiment.ts";
import type { WithCi } from "./metrics.ts";

/** Options of {@link oneclassMatrix}. */
export interface OneClassMatrixOptions {
  /** Dataset folder. */
  data: string;
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** Name: map runs are `<name>-s<seed>-no<R>` (loro) or `<name>-s<seed>-<R>` (pairs). */
  name?: string;
  /** Seeds (default 0, 1, 2). */
  seeds?: number[];
  /** `loro` (default) or `pairs`. */
  protocol?: ExperimentProtocol;
  /** Feature sources (default: all). */
  sources?: FeatureSource[];
  /** One-class models (default {@link MATRIX_KINDS}). */
  kinds?: OneClassKind[];
  /** Options of every map training. */
  map?: Partial<TrainMapOptions>;
  /** Options of every one-class training. */
  oneclass?: Partial<TrainOneClassOptions>;
  /** Settings per one-class kind (e.g. the flow's width). */
  settings?: Partial<Record<OneClassKind, AnyOptions>>;
  /** Options of every evaluation. */
  evaluation?: Partial<EvaluateOptions>;
  /** Progress and log sink. */
  progress?: Progress;
}

/** One result: a stage on one renderer for one seed and row. */
export interface OneClassCell {
  /** Seed. */
  seed: number;
  /** Row: the held-out (loro) or training (pairs) renderer. */
  row: string;
  /** Feature source, or `head` for the supervised head. */
  source: FeatureSource | "head";
  /** One-class model, or `head`. */
  kind: OneClassKind | "head";
  /** Tested renderer. */
  test: string;
  /** Whether any stage saw it. */
  seen: boolean;
  /** ROC AUC. */
  auc: WithCi;
  /** HTER at the model's threshold. */
  hter: WithCi;
  /** Natural recall at the model's threshold. */
  niRecall: WithCi;
}

/** The comparison (also `oneclass-matrix.json`). */
export interface OneClassMatrix {
  /** Name. */
  name: string;
  /** Protocol. */
  protocol: ExperimentProtocol;
  /** Seeds. */
  seeds: number[];
  /** Renderers. */
  renderers: string[];
  /** Every cell. */
  cells: OneClassCell[];
  /** Seconds its units took (when they ran, not only in this invocation). */
  seconds: number;
  /** When. */
  created: string;
}

/**
 * The one-class models compared by default: every kind but the mixture, whose full covariances on
 * L9's 4096 numbers would take hours a cell (ask for it with `kinds`).
 *
 * @example
 * ```ts
 * import { MATRIX_KINDS } from "./oneclass_matrix.ts";
 * console.log(MATRIX_KINDS); // ["flow", "mlp", "gauss", "knn"]
 * ```
 */
export const MATRIX_KINDS: readonly OneClassKind[] = ONECLASS_KINDS.filter((k) => k !== "gmm");

/** The comparison's defaults: its name, protocol and seeds (every source by default). */
export const MATRIX_DEFAULTS = { name: "oneclass", protocol: "loro", seeds: [0, 1, 2] } as const;

/**
 * Runs (or resumes) the comparison.
 *
 * @example Two models on residual features, one seed, on the shipped dataset
 * ```ts
 * import { oneclassMatrix } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * await initBackend("auto");
 * const m = await oneclassMatrix({
 *   data: "dataset",
 *   runs: await Deno.makeTempDir(),
 *   seeds: [0],
 *   sources: ["residual"],
 *   kinds: ["gauss", "knn"],
 *   map: { crop: 80, width: 4, fc: 8, epochs: 1 },
 *   evaluation: { bootstrap: 50 },
 *   progress: makeProgress({ quiet: true }),
 * });
 * console.log(m.cells.length);
 * ```
 */
export async function oneclassMatrix(
  o: OneClassMatrixOptions,
): Promise<OneClassMatrix & { dir: string }> {
  const graph = await oneclassMatrixPlan(o);
  await runGraph(graph, ONECLASS_MATRIX_KINDS, { log: o.progress ?? makeProgress() });
  const m = await readJsonIfExists<OneClassMatrix>(join(graph.dir, "oneclass-matrix.json"));
  return { ...m!, dir: graph.dir };
}

/** The settings a cell fits its kind with: the common ones, then the kind's own. */
function cellSettings(o: Omit<OneClassMatrixOptions, "progress">, kind: OneClassKind): AnyOptions {
  return { ...o.oneclass?.settings, ...o.settings?.[kind] };
}

/** One cell of the comparison as a unit: a one-class model of a map run, fitted and evaluated. */
interface CellParams {
  runs: string;
  seed: number;
  row: string;
  run: string;
  ocName: string;
  source: FeatureSource;
  kind: OneClassKind;
  options: Omit<OneClassMatrixOptions, "progress">;
}

/**
 * Checks the comparison's options and writes it as units to `runs/<name>/graph.json`: per seed
 * and row a map (the experiment's `map` unit; only where a cell needs it), per map the cells (a
 * one-class model fitted and evaluated; the sources without a map once per seed), then the table.
 * A cell fitted on an older definition of its features or with other settings is set aside first
 * (its folder renamed), so that it, and the table after it, run again.
 *
 * @example The units of two models on residual features, one seed, leave one renderer out
 * ```ts
 * import { oneclassMatrixPlan } from "./oneclass_matrix.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const g = await oneclassMatrixPlan({ data: "dataset", runs: await Deno.makeTempDir(), seeds: [0], sources: ["residual"], kinds: ["gauss", "knn"], progress: makeProgress({ quiet: true }) });
 * console.log(g.units.map((u) => u.id)); // ["map-s0-noCycles", "cell-s0-noCycles-residual-gauss", "cell-s0-noCycles-residual-knn", "table"]
 * ```
 */
export async function oneclassMatrixPlan(o: OneClassMatrixOptions): Promise<Graph> {
  const log = o.progress ?? makeProgress();
  const runs = resolve(o.runs ?? DEFAULT_RUNS);
  const name = checkRunName(o.name ?? MATRIX_DEFAULTS.name);
  const protocol = o.protocol ?? MATRIX_DEFAULTS.protocol;
  const seeds = o.seeds ?? [...MATRIX_DEFAULTS.seeds];
  const sources = o.sources ?? [...FEATURE_SOURCES];
  const kinds = o.kinds ?? [...MATRIX_KINDS];
  const ds = await loadDataset(o.data, { csv: o.map?.csv });
  const renderers = ds.classes.filter((c) => c.label > 0).map((c) => c.name);
  if (protocol === "loro" && renderers.length < 2) {
    throw new UsageError("leave-one-renderer-out needs at least two renderers");
  }
  const dir = join(runs, name);
  await ensureDir(dir);
  const { progress: _p, ...options } = { ...o, runs, name, protocol, seeds, sources, kinds };
  const units: Unit[] = [];
  const cells: CellParams[] = [];
  for (const seed of seeds) {
    const noMapDone = new Set<FeatureSource>();
    for (const row of renderers) {
      const trainOn = protocol === "loro" ? renderers.filter((r) => r !== row) : [row];
      const run = `${name}-s${seed}-${protocol === "loro" ? "no" : ""}${row}`;
      const mapUnit = `map-${run.slice(name.length + 1)}`;
      const at = units.length;
      for (const source of sources) {
        if (noMapDone.has(source)) continue;
        for (const kind of kinds) {
          const cell = { runs, seed, row, run, ocName: `${source}-${kind}`, source, kind, options };
          const settings = resolveSettings(cellSettings(o, kind), source, kind);
          await setAsideStale(join(runs, run, cell.ocName), log, settings);
          cells.push(cell);
          units.push({
            id: `cell-${run.slice(name.length + 1)}-${cell.ocName}`,
            kind: "oneclass-cell",
            after: [mapUnit],
            params: cell,
          });
        }
        if (!needsMap(source)) noMapDone.add(source);
      }
      // the map, when a cell needs it (the sources without a map use the first row's split only)
      if (units.length > at) {
        units.splice(at, 0, {
          id: mapUnit,
          kind: "map",
          after: [],
          params: { data: o.data, runs, run, renderers: trainOn, row, map: { ...o.map, seed } },
        });
      }
    }
  }
  units.push({
    id: "table",
    kind: "oneclass-table",
    after: units.filter((u) => u.kind === "oneclass-cell").map((u) => u.id),
    params: { ...options, renderers, dir, cells: cells.map(({ options: _o, ...c }) => c) },
  });
  return await writeGraph({
    version: 1,
    name: `oneclass-matrix-${name}`,
    dir,
    writes: [runs],
    units,
  });
}

/** The table unit's parameters. */
type TableParams = Omit<OneClassMatrixOptions, "progress"> & {
  name: string;
  protocol: ExperimentProtocol;
  seeds: number[];
  renderers: string[];
  dir: string;
  cells: Omit<CellParams, "options">[];
};

/** Collects every cell's evaluation into `oneclass-matrix.json` and `.md`. */
async function writeTable(p: TableParams, g: Graph): Promise<void> {
  const cells: OneClassCell[] = [];
  const push = (
    c: Omit<CellParams, "options">,
    source: OneClassCell["source"],
    kind: OneClassCell["kind"],
    ev: Evaluation,
    stage: "head" | "oneclass",
  ) => {
    for (const r of ev.results) {
      const m = r[stage];
      if (!m) continue;
      cells.push({
        seed: c.seed,
        row: c.row,
        source,
        kind,
        test: r.renderer,
        seen: stage === "head" || needsMap(source as FeatureSource) ? r.seen : false,
        auc: m.auc,
        hter: m.hter,
        niRecall: m.niRecall,
      });
    }
  };
  const headDone = new Set<string>();
  for (const c of p.cells) {
    const file = join(p.runs!, c.run, c.ocName, "evaluation", "results.json");
    const ev = await readJsonIfExists<Evaluation>(file);
    if (!ev) throw new CgvsniError(`${file}: the cell's evaluation is missing`);
    push(c, c.source, c.kind, ev, "oneclass");
    if (!headDone.has(`${c.seed} ${c.row}`)) {
      push(c, "head", "head", ev, "head");
      headDone.add(`${c.seed} ${c.row}`);
    }
  }
  let seconds = 0;
  for (const u of g.units) seconds += (await unitSeconds(g.dir, u)).reduce((a, b) => a + b, 0);
  const m: OneClassMatrix = {
    name: p.name,
    protocol: p.protocol,
    seeds: p.seeds,
    renderers: p.renderers,
    cells,
    seconds: +seconds.toFixed(1),
    created: new Date().toISOString(),
  };
  await writeJson(join(p.dir, "oneclass-matrix.json"), m);
  await atomicWrite(join(p.dir, "oneclass-matrix.md"), oneclassMatrixMarkdown(m));
}

/**
 * The comparison's units (its maps are the experiment's `map` units), for the executors.
 *
 * @example The kinds a comparison's graph uses
 * ```ts
 * import { ONECLASS_MATRIX_KINDS } from "./oneclass_matrix.ts";
 * console.log(Object.keys(ONECLASS_MATRIX_KINDS)); // ["map", "oneclass-cell", "oneclass-table"]
 * ```
 */
export const ONECLASS_MATRIX_KINDS: UnitKinds = {
  map: EXPERIMENT_KINDS.map,
  "oneclass-cell": {
    resources: { cpus: 2, memMB: 8192, minutes: 12 * 60 },
    preemptible: true,
    run: async (params, { log, redo }) => void await runCell(params as CellParams, log, redo),
    outputs: (params) => {
      const c = params as CellParams;
      return [
        join(c.runs, c.run, c.ocName, "oneclass.json"),
        join(c.runs, c.run, c.ocName, "evaluation", "results.json"),
      ];
    },
  },
  "oneclass-table": {
    resources: { cpus: 1, memMB: 2048, minutes: 30 },
    run: (p, { graph }) => writeTable(p as TableParams, graph),
    outputs: (p) => [join((p as TableParams).dir, "oneclass-matrix.json")],
  },
};

/**
 * Trains (or reuses) one one-class model and evaluates it (or reuses its evaluation); with `redo`
 * `inputs` (its map was trained again) a finished model is set aside and both are made again,
 * with `params` (other options) it is evaluated again. Models of
 * an older feature definition or other settings were set aside when the graph was written.
 */
async function runCell(c: CellParams, log: Progress, redo?: RedoReason): Promise<Evaluation> {
  const { runs, run, ocName, source, kind, seed, options: o } = c;
  const ocDir = join(runs, run, ocName);
  const settings = cellSettings(o, kind);
  if (redo === "inputs") {
    await setAsideStale(ocDir, log, undefined, "fitted on an image map trained again since");
  }
  if (!(await exists(join(ocDir, "oneclass.json")))) {
    log.log(`== ${run}/${ocName}: fitting ${kind} on ${source} features`);
    await trainOneClass({
      ...o.oneclass,
      map: run,
      runs,
      name: ocName,
      features: source,
      oneclass: kind,
      seed,
      settings,
      resume: await exists(join(ocDir, "checkpoints")),
      progress: log,
    });
  }
  // asked with other options (the evaluation's, say): evaluated again
  const saved = redo ? undefined : await currentEvaluation(join(ocDir, "evaluation"), log);
  if (saved) return saved;
  return await evaluate({
    ...o.evaluation,
    map: run,
    oneclass: ocName,
    runs,
    noControls: true,
    progress: log,
  });
}

/** `0.912 (0.88–0.95)`: mean over seeds and their range. */
function spread(xs: number[]): string {
  if (xs.length === 0) return "–";
  if (xs.length === 1) return xs[0].toFixed(3);
  return `${mean(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
}

/** The comparison as Markdown: unseen-renderer AUC, NI recall and HTER per model and source. */
export function oneclassMatrixMarkdown(m: OneClassMatrix): string {
  const configs = [...new Set(m.cells.map((c) => `${c.source}|${c.kind}`))];
  const pick = (key: string, test: string, unseenOnly: boolean) =>
    m.cells.filter((c) =>
      `${c.source}|${c.kind}` === key && c.test === test && (!unseenOnly || !c.seen)
    );
  const unseenRows = (key: string) =>
    m.cells.filter((c) => `${c.source}|${c.kind}` === key && !c.seen);
  const label = (key: string) => {
    const [s, k] = key.split("|");
    return s === "head" ? "supervised head | –" : `${s} | ${k}`;
  };
  const table = (title: string, metric: "auc" | "niRecall" | "hter") => [
    `### ${title}`,
    "",
    `| features | model | ${m.renderers.join(" | ")} | mean over unseen cells |`,
    `|---|---|${m.renderers.map(() => "---").join("|")}|---|`,
    ...configs.map((key) =>
      `| ${label(key)} | ${
        m.renderers.map((t) => spread(pick(key, t, true).map((c) => c[metric].value))).join(" | ")
      } | ${spread(seedMeans(unseenRows(key), metric))} |`
    ),
    "",
  ];
  const seed0 = m.seeds[0];
  return [
    `## One-class comparison: ${m.name} (${
      m.protocol === "loro" ? "leave one renderer out" : "renderer pairs"
    }, seeds ${m.seeds.join(", ")})`,
    "",
    (m.protocol === "loro"
      ? "Each column is a renderer tested when the map was trained on the other renderers (so no stage saw it). "
      : "Cells where the map saw the renderer are left out. ") +
    "Each cell: mean over seeds (range over seeds). One-class models decide at their own threshold, " +
    "set on natural training images only; the head at the (1 − ν) quantile of p(CG) on the " +
    "natural validation images of its map.",
    "",
    ...table("ROC AUC on unseen renderers", "auc"),
    ...table("NI recall at the natural-only threshold (target 1 − ν = 0.95)", "niRecall"),
    ...table("HTER at the threshold", "hter"),
    `### 95 % bootstrap CIs, seed ${seed0}: AUC | NI recall`,
    "",
    `| features | model | ${m.renderers.join(" | ")} |`,
    `|---|---|${m.renderers.map(() => "---").join("|")}|`,
    ...configs.map((key) =>
      `| ${label(key)} | ${
        m.renderers.map((t) => {
          const c = pick(key, t, true).find((x) => x.seed === seed0);
          return c ? `${fmtCi(c.auc)} \\| ${fmtCi(c.niRecall)}` : "–";
        }).join(" | ")
      } |`
    ),
    "",
    `Wall time of the run that wrote this: ${(m.seconds / 60).toFixed(1)} min.`,
  ].join("\n") + "\n";
}

/** Per seed, the mean of a metric over a configuration's unseen cells. */
function seedMeans(cells: OneClassCell[], metric: "auc" | "niRecall" | "hter"): number[] {
  const seeds = [...new Set(cells.map((c) => c.seed))];
  return seeds.map((s) => mean(cells.filter((c) => c.seed === s).map((c) => c[metric].value)));
}
