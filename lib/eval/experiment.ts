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
import { atomicWrite, exists, writeJson } from "../core/files.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
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
  const dir = join(runs, name);
  await ensureDir(dir);
  const cells: MatrixCell[] = [];
  const seconds: Record<string, number> = {};
  let oneclass = "";
  for (const r of rows) {
    const t0 = performance.now();
    const train = protocol === "pairs" ? [r] : all.filter((x) => x !== r);
    const run = protocol === "pairs" ? `${name}-${r}` : `${name}-no${r}`;
    const ev = await pipeline({ ...o, runs, run, renderers: train, progress: log });
    oneclass = `${ev.oneclassKind} on ${ev.features}`;
    for (const res of ev.results) {
      cells.push({
        train: r,
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
    seconds[r] = +((performance.now() - t0) / 1000).toFixed(1);
  }
  const m: Matrix = {
    name,
    protocol,
    renderers: all,
    oneclass,
    cells,
    seconds,
    created: new Date().toISOString(),
  };
  await writeJson(join(dir, "matrix.json"), m);
  await atomicWrite(join(dir, "matrix.md"), matrixMarkdown(m));
  return { ...m, dir };
}

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
  const oc = o.oneclass ?? {};
  const source = oc.features ?? DEFAULT_SOURCE, kind = oc.oneclass ?? DEFAULT_KIND;
  const ocName = oc.name ?? defaultRunName(source, kind);
  await setAsideStale(
    join(mapDir, ocName),
    log,
    resolveSettings(oc.settings, source, kind),
  );
  if (!(await exists(join(mapDir, ocName, "oneclass.json")))) {
    const resume = await exists(join(mapDir, ocName, "checkpoints"));
    log.log(`== ${o.run}: ${resume ? "resuming" : "training"} the one-class model ${ocName}`);
    await trainOneClass({ ...oc, map: o.run, runs, name: ocName, resume, progress: log });
  } else log.log(`== ${o.run}: one-class model ${ocName} done, reused`);
  const saved = await currentEvaluation(join(mapDir, ocName, "evaluation"), log);
  if (saved) {
    log.log(`== ${o.run}: evaluation done, reused`);
    return saved;
  }
  log.log(`== ${o.run}: evaluating on the test split`);
  return await evaluate({ ...o.evaluation, map: o.run, oneclass: ocName, runs, progress: log });
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
