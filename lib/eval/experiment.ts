/**
 * The renderer matrix: for each renderer R of the dataset, train a map on natural + R, train a
 * one-class model on its natural features, and evaluate both on every renderer. Rows are the
 * training renderer, columns the test renderer; the diagonal is "seen", everything else tests
 * generalisation to an unseen renderer. All rows share one split (it does not depend on the
 * training renderer), so every column tests on the same images.
 *
 * Resumable: a map, flow or evaluation that finished is never recomputed; an interrupted one is
 * resumed from its checkpoint.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { loadDataset } from "../data/dataset.ts";
import { evaluate, type EvaluateOptions, type Evaluation, fmtCi } from "./evaluate.ts";
import { atomicWrite, exists, readJsonIfExists, writeJson } from "../core/files.ts";
import type { WithCi } from "./metrics.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import { checkRunName, ensureDir } from "../runs/folder.ts";
import { trainFlow, type TrainFlowOptions } from "../oneclass/train.ts";
import { trainMap, type TrainMapOptions } from "../map/train.ts";

/** Options of {@link experiment}. */
export interface ExperimentOptions {
  /** Dataset folder. */
  data: string;
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** Experiment name: runs are `<name>-<renderer>`, the matrix goes to `runs/<name>/`. */
  name?: string;
  /** Training renderers (default: every renderer of the dataset). */
  renderers?: string[];
  /** Options passed to every map training (data, runs, name, renderer are set here). */
  map?: Partial<TrainMapOptions>;
  /** Options passed to every one-class training. */
  flow?: Partial<TrainFlowOptions>;
  /** Options passed to every evaluation. */
  evaluation?: Partial<EvaluateOptions>;
  /** Progress and log sink. */
  progress?: Progress;
}

/** One cell: metrics of head and flow for a (training, test) renderer pair. */
export interface MatrixCell {
  /** Renderer the map was trained on. */
  train: string;
  /** Renderer tested against natural images. */
  test: string;
  /** Supervised head HTER and AUC. */
  head: { hter: WithCi; auc: WithCi };
  /** One-class HTER and AUC. */
  flow: { hter: WithCi; auc: WithCi };
  /** Test images (natural / rendered). */
  n: [number, number];
}

/** The matrix (also `matrix.json`). */
export interface Matrix {
  /** Experiment name. */
  name: string;
  /** Renderers, in label order. */
  renderers: string[];
  /** Every cell, row-major. */
  cells: MatrixCell[];
  /** Seconds spent per training renderer in this invocation (0 when reused). */
  seconds: Record<string, number>;
  /** When it was assembled. */
  created: string;
}

/** Runs (or resumes) the whole matrix. */
export async function experiment(o: ExperimentOptions): Promise<Matrix & { dir: string }> {
  const log = o.progress ?? makeProgress();
  const runs = resolve(o.runs ?? "runs");
  const name = checkRunName(o.name ?? "experiment");
  const ds = await loadDataset(o.data, { csv: o.map?.csv });
  const all = ds.classes.filter((c) => c.label > 0).map((c) => c.name);
  const renderers = o.renderers?.length ? o.renderers : all;
  for (const r of renderers) {
    if (!all.includes(r)) {
      throw new Error(`renderer ${r} is not in the dataset (${all.join(", ")})`);
    }
  }
  const dir = join(runs, name);
  await ensureDir(dir);
  const cells: MatrixCell[] = [];
  const seconds: Record<string, number> = {};
  for (const r of renderers) {
    const t0 = performance.now();
    const ev = await pipeline({ ...o, runs, run: `${name}-${r}`, renderer: r, progress: log });
    for (const res of ev.results) {
      cells.push({
        train: r,
        test: res.renderer,
        head: { hter: res.head.hter, auc: res.head.auc },
        flow: { hter: res.flow.hter, auc: res.flow.auc },
        n: [res.natural, res.rendered],
      });
    }
    seconds[r] = +((performance.now() - t0) / 1000).toFixed(1);
  }
  const m: Matrix = { name, renderers: all, cells, seconds, created: new Date().toISOString() };
  await writeJson(join(dir, "matrix.json"), m);
  await atomicWrite(join(dir, "matrix.md"), matrixMarkdown(m));
  return { ...m, dir };
}

/** Options of {@link pipeline}. */
export interface PipelineOptions extends Omit<ExperimentOptions, "name" | "renderers"> {
  /** Map run name. */
  run: string;
  /** Training renderer. */
  renderer: string;
}

/**
 * One row of the method: map, one-class model, evaluation, each reused when it finished and
 * resumed when it was interrupted. Returns the evaluation.
 */
export async function pipeline(o: PipelineOptions): Promise<Evaluation> {
  const log = o.progress ?? makeProgress();
  const runs = resolve(o.runs ?? "runs");
  const mapDir = join(runs, o.run);
  if (!(await exists(join(mapDir, "model/model.json")))) {
    const resume = await exists(join(mapDir, "config.json"));
    log.log(
      `== ${o.run}: ${resume ? "resuming" : "training"} the image map (natural vs ${o.renderer})`,
    );
    await trainMap({
      ...o.map,
      data: o.data,
      runs,
      name: o.run,
      renderer: o.renderer,
      resume,
      progress: log,
    });
  } else log.log(`== ${o.run}: image map done, reused`);
  const flowName = o.flow?.name ?? (o.flow?.model === "mlp" ? "mlp" : "flow");
  if (!(await exists(join(mapDir, flowName, "oneclass.json")))) {
    const resume = await exists(join(mapDir, flowName, "config.json"));
    log.log(`== ${o.run}: ${resume ? "resuming" : "training"} the one-class model`);
    await trainFlow({ ...o.flow, modelName: o.run, runs, name: flowName, resume, progress: log });
  } else log.log(`== ${o.run}: one-class model done, reused`);
  const saved = await readJsonIfExists<Evaluation>(
    join(mapDir, flowName, "evaluation", "results.json"),
  );
  if (saved) {
    log.log(`== ${o.run}: evaluation done, reused`);
    return saved;
  }
  log.log(`== ${o.run}: evaluating on the test split`);
  return await evaluate({ ...o.evaluation, modelName: o.run, flow: flowName, runs, progress: log });
}

/** The matrix as Markdown: HTER and AUC tables, head and flow side by side. */
export function matrixMarkdown(m: Matrix): string {
  const rows = [...new Set(m.cells.map((c) => c.train))];
  const cols = m.renderers;
  const table = (title: string, pick: (c: MatrixCell) => string) => [
    `### ${title}`,
    "",
    `| train \\ test | ${cols.join(" | ")} |`,
    `|---|${cols.map(() => "---").join("|")}|`,
    ...rows.map((r) =>
      `| **${r}** | ${
        cols.map((c) => {
          const cell = m.cells.find((x) => x.train === r && x.test === c);
          return cell ? (r === c ? `**${pick(cell)}**` : pick(cell)) : "–";
        }).join(" | ")
      } |`
    ),
    "",
  ];
  return [
    `## Renderer matrix: ${m.name}`,
    "",
    "Rows: the renderer the map was trained on (with natural images); columns: the renderer tested against the " +
    "natural test images. Diagonal (bold) = seen in training. Each cell: head / one-class, 95 % bootstrap CI in brackets.",
    "",
    ...table(
      "HTER (lower is better): head | one-class",
      (c) => `${fmtCi(c.head.hter)} \\| ${fmtCi(c.flow.hter)}`,
    ),
    ...table(
      "ROC AUC (higher is better): head | one-class",
      (c) => `${fmtCi(c.head.auc)} \\| ${fmtCi(c.flow.auc)}`,
    ),
    `Test images per cell (natural / rendered): ${
      [...new Set(m.cells.map((c) => `${c.test} ${c.n[0]}/${c.n[1]}`))].join(", ")
    }.`,
  ].join("\n") + "\n";
}
