/**
 * The robustness grid of the field's anchors (CNNDetection, Wang et al. 2020; UnivFD, Ojha et
 * al. 2023): the evaluation repeated with every test image perturbed the same way, both classes
 * alike, after decoding and before tiling. Thresholds are the models' own, never re-tuned per
 * perturbation. Writes `<one-class run>/robustness/`: `robustness.json`, `robustness.md`, a
 * table for the report (`robustness.html`) and `robustness.svg` (AUC against the level), and
 * each perturbation's evaluation in a folder of its own.
 *
 * The grid is a graph of units ({@link robustnessPlan}): an evaluation per perturbation, then the
 * table; run here by {@link robustness}, or as Slurm jobs (`robustness --executor slurm`).
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { type Graph, type Unit, writeGraph } from "../cluster/graph.ts";
import { runGraph, type UnitKinds } from "../cluster/local.ts";
import { CgvsniError } from "../core/errors.ts";
import { fileSha256 } from "../core/bundle.ts";
import { atomicWrite, readJsonIfExists, writeJson } from "../core/files.ts";
import { type Chart, esc, renderSvg } from "../core/plot.ts";
import { makeProgress } from "../core/progress.ts";
import { checkPerturbation, parsePerturbation } from "../data/perturb.ts";
import { DEFAULT_ONECLASS_RUN, openOneClassRun } from "../oneclass/train.ts";
import { DEFAULT_RUNS, ensureDir } from "../runs/folder.ts";
import { evaluate, type EvaluateOptions } from "./evaluate.ts";
import type { Evaluation } from "./evaluation.ts";
import { fmtCi } from "./results.ts";
import { bootstrap, DEFAULT_BOOTSTRAP, metricSet, type WithCi } from "./metrics.ts";

/** The grid: none, JPEG 100→30, blur σ 0.5→3, resize, noise, and JPEG after downsizing. */
export const ROBUSTNESS_GRID = [
  "none",
  "jpeg:100",
  "jpeg:90",
  "jpeg:75",
  "jpeg:50",
  "jpeg:30",
  "blur:0.5",
  "blur:1",
  "blur:2",
  "blur:3",
  "resize:0.5",
  "resize:0.75",
  "resize:1.5",
  "noise:2",
  "noise:5",
  "resize:0.5+jpeg:75",
];

/** Options of {@link robustness}. */
export interface RobustnessOptions extends Omit<EvaluateOptions, "perturb" | "out" | "noControls"> {
  /** Perturbations (default {@link ROBUSTNESS_GRID}). */
  grid?: string[];
}

/** One row: a perturbation, natural vs every render pooled, every stage. */
export interface RobustnessRow {
  /** The perturbation (`none` for the clean images). */
  perturbation: string;
  /** Natural and rendered test images. */
  n: [number, number];
  /** Head AUC and HTER (absent without a map). */
  head?: { auc: WithCi; hter: WithCi };
  /** One-class AUC and HTER. */
  oneclass: { auc: WithCi; hter: WithCi };
  /** The fused score's AUC and HTER (absent unless every image has one). */
  fused?: { auc: WithCi; hter: WithCi };
  /** The same per renderer: AUC of head, one-class model and fused score. */
  byRenderer: { renderer: string; head?: number; oneclass: number; fused?: number }[];
}

/** The grid's results (also `robustness.json`). */
export interface Robustness {
  /** What was evaluated. */
  map?: string;
  /** One-class run. */
  oneclassRun: string;
  /** The one-class model. */
  oneclass: string;
  /** Test images. */
  testSet: string;
  /** One row per perturbation. */
  rows: RobustnessRow[];
  /** When. */
  created: string;
}

/** Natural vs all renders pooled, with CIs, from an evaluation's image scores. */
function pooled(
  ev: Evaluation,
  reps: number,
  seed: number,
): Pick<RobustnessRow, "n" | "head" | "oneclass" | "fused"> {
  const labels = ev.images.map((i) => (i.label === 0 ? 0 : 1));
  const m = (scores: number[], t: number, strict: boolean) =>
    bootstrap(scores, labels, (s, l) => ({ ...metricSet(s, l, t, strict) }), reps, seed);
  const oc = m(ev.images.map((i) => i.score), 0, true);
  const withHead = ev.headThreshold && ev.images.every((i) => Number.isFinite(i.pCg));
  const head = withHead
    ? m(ev.images.map((i) => i.pCg), ev.headThreshold!.value, false)
    : undefined;
  const fused = ev.images.every((i) => i.fused !== undefined)
    ? m(ev.images.map((i) => i.fused!), 0, true)
    : undefined;
  return {
    n: [labels.filter((l) => l === 0).length, labels.filter((l) => l === 1).length],
    head: head ? { auc: head.auc, hter: head.hter } : undefined,
    oneclass: { auc: oc.auc, hter: oc.hter },
    ...(fused ? { fused: { auc: fused.auc, hter: fused.hter } } : {}),
  };
}

/**
 * Runs the grid.
 *
 * @example The evaluation under JPEG 75 and a blur
 * ```ts
 * import { robustness } from "./mod.ts";
 * import { trainMap } from "../map/mod.ts";
 * import { trainOneClass } from "../oneclass/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress: makeProgress({ quiet: true }) });
 * await trainOneClass({ map: "m", runs, features: "residual", oneclass: "gauss", progress: makeProgress({ quiet: true }) });
 * const r = await robustness({ map: "m", oneclass: "residual-gauss", runs, grid: ["none", "jpeg:75", "blur:1"], bootstrap: 50, progress: makeProgress({ quiet: true }) });
 * for (const row of r.rows) console.log(row.perturbation, row.oneclass.auc.value);
 * ```
 */
export async function robustness(o: RobustnessOptions): Promise<Robustness & { dir: string }> {
  const graph = await robustnessPlan(o);
  await runGraph(graph, ROBUSTNESS_KINDS, { log: o.progress ?? makeProgress() });
  const r = await readJsonIfExists<Robustness>(join(graph.dir, "robustness.json"));
  return { ...r!, dir: graph.dir };
}

/**
 * Checks the grid and writes it as units to `<one-class run>/robustness/graph.json`: one
 * evaluation per perturbation (independent of each other), then the table from all of them.
 * The units carry the checksums of the models they evaluate: a model trained again is evaluated
 * again, an unchanged one never.
 *
 * @example The units of a two-perturbation grid
 * ```ts
 * import { robustnessPlan } from "./robustness.ts";
 * import { trainMap } from "../map/mod.ts";
 * import { trainOneClass } from "../oneclass/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir(), progress = makeProgress({ quiet: true });
 * await initBackend("auto");
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress });
 * await trainOneClass({ map: "m", runs, features: "residual", oneclass: "gauss", progress });
 * const g = await robustnessPlan({ map: "m", oneclass: "residual-gauss", runs, grid: ["none", "jpeg:75"] });
 * console.log(g.units.map((u) => u.id)); // ["perturb-none", "perturb-jpeg_75", "grid"]
 * ```
 */
export async function robustnessPlan(o: RobustnessOptions): Promise<Graph> {
  const grid = o.grid ?? ROBUSTNESS_GRID;
  for (const g of grid) if (g !== "none") await checkPerturbation(parsePerturbation(g)); // up front
  const runs = resolve(o.runs ?? DEFAULT_RUNS);
  const info = await openOneClassRun(runs, o.map, o.oneclass ?? DEFAULT_ONECLASS_RUN);
  // the whole saved model (its weights' checksum, and the threshold, which the weights omit)
  const model = await fileSha256(join(info.dir, "oneclass.json")).catch(() => undefined);
  if (!model) throw new CgvsniError(`${info.dir}: the one-class model has not finished training`);
  const dir = join(
    info.dir,
    o.testData ? `robustness-${basename(resolve(o.testData))}` : "robustness",
  );
  await ensureDir(dir);
  // a cell carries what it evaluates with, not the grid: another perturbation added touches no cell
  const { progress: _p, grid: _g, ...rest } = o;
  const params = { ...rest, runs, models: [info.config.mapRun?.model ?? "", model] };
  const cells: Unit[] = grid.map((p) => ({
    id: `perturb-${safe(p)}`,
    kind: "robustness-cell",
    after: [],
    params: { ...params, perturbation: p, out: join(dir, safe(p)) },
  }));
  return await writeGraph({
    version: 1,
    name: `robustness-${basename(info.dir)}`,
    dir,
    writes: [runs],
    units: [
      ...cells,
      {
        id: "grid",
        kind: "robustness-grid",
        after: cells.map((c) => c.id),
        params: { ...params, grid, dir },
      },
    ],
  });
}

/** A robustness cell's parameters: the options, the perturbation, where its evaluation goes. */
type CellParams = RobustnessOptions & { perturbation: string; out: string };

/** The grid's table from every cell's evaluation. */
async function writeGrid(p: RobustnessOptions & { grid: string[]; dir: string }): Promise<void> {
  const reps = p.bootstrap ?? DEFAULT_BOOTSTRAP, seed = p.seed ?? 0;
  const rows: RobustnessRow[] = [];
  let first: Evaluation | undefined;
  for (const g of p.grid) {
    const file = join(p.dir, safe(g), "results.json");
    const ev = await readJsonIfExists<Evaluation>(file);
    if (!ev) throw new CgvsniError(`${file}: the evaluation under ${g} is missing`);
    first ??= ev;
    rows.push({
      perturbation: g,
      ...pooled(ev, reps, seed),
      byRenderer: ev.results.map((r) => ({
        renderer: r.renderer,
        head: r.head?.auc.value,
        oneclass: r.oneclass.auc.value,
        ...(r.fused ? { fused: r.fused.auc.value } : {}),
      })),
    });
  }
  const out: Robustness = {
    map: first!.map,
    oneclassRun: first!.oneclassRun,
    oneclass: `${first!.oneclassKind} on ${first!.features}`,
    testSet: first!.testSet,
    rows,
    created: new Date().toISOString(),
  };
  await writeJson(join(p.dir, "robustness.json"), out);
  await atomicWrite(join(p.dir, "robustness.md"), robustnessMarkdown(out));
  await atomicWrite(join(p.dir, "robustness.html"), robustnessHtml(out));
  await atomicWrite(join(p.dir, "robustness.svg"), robustnessSvg(out));
}

/**
 * The robustness grid's units, for the executors.
 *
 * @example The kinds a grid's graph uses
 * ```ts
 * import { ROBUSTNESS_KINDS } from "./robustness.ts";
 * console.log(Object.keys(ROBUSTNESS_KINDS)); // ["robustness-cell", "robustness-grid"]
 * ```
 */
export const ROBUSTNESS_KINDS: UnitKinds = {
  "robustness-cell": {
    resources: { cpus: 2, memMB: 8192, minutes: 6 * 60 },
    run: async (params, { log }) => {
      const { perturbation, out, models: _m, ...o } = params as CellParams & { models: string[] };
      log.log(`== robustness: ${perturbation}`);
      await evaluate({
        ...o,
        perturb: perturbation === "none" ? undefined : perturbation,
        noControls: true,
        out,
        progress: log,
      });
    },
    outputs: (p) => [join((p as CellParams).out, "results.json")],
  },
  "robustness-grid": {
    resources: { cpus: 1, memMB: 4096, minutes: 30 },
    run: (p) => writeGrid(p as RobustnessOptions & { grid: string[]; dir: string }),
    outputs: (p) => [join((p as { dir: string }).dir, "robustness.json")],
  },
};

function safe(p: string): string {
  return p.replace(/[^a-z0-9.]+/gi, "_");
}

/** The grid as Markdown. */
export function robustnessMarkdown(r: Robustness): string {
  const renderers = r.rows[0]?.byRenderer.map((b) => b.renderer) ?? [];
  const fused = r.rows.some((row) => row.fused);
  const perRenderer = (b: RobustnessRow["byRenderer"][number]) =>
    [b.head, b.oneclass, ...(fused ? [b.fused] : [])].map((v) => v?.toFixed(3) ?? "–").join(" / ");
  return [
    `## Robustness: ${
      r.map ? `map \`${r.map}\`, ` : ""
    }one-class \`${r.oneclassRun}\` (${r.oneclass})`,
    "",
    `${r.testSet}; every image of both classes perturbed the same way, after decoding and before tiling. ` +
    "Natural vs every render pooled; thresholds as trained (never re-tuned). 95 % bootstrap CIs.",
    "",
    "| perturbation | n (NI/CG) | head AUC | head HTER | one-class AUC | one-class HTER | " +
    (fused ? "fused AUC | fused HTER | " : "") +
    renderers.map((x) => `${x} AUC head / one-class${fused ? " / fused" : ""}`).join(" | ") + " |",
    `|---|---|---|---|---|---|${fused ? "---|---|" : ""}${renderers.map(() => "---").join("|")}|`,
    ...r.rows.map((row) =>
      `| ${row.perturbation} | ${row.n[0]}/${row.n[1]} | ${fmtCi(row.head?.auc)} | ${
        fmtCi(row.head?.hter)
      } | ${fmtCi(row.oneclass.auc)} | ${fmtCi(row.oneclass.hter)} | ${
        fused ? `${fmtCi(row.fused?.auc)} | ${fmtCi(row.fused?.hter)} | ` : ""
      }${row.byRenderer.map(perRenderer).join(" | ")} |`
    ),
    "",
  ].join("\n");
}

/** The grid as an HTML table for the report. */
export function robustnessHtml(r: Robustness): string {
  const cells = (xs: string[], tag: string) => xs.map((x) => `<${tag}>${esc(x)}</${tag}>`).join("");
  const fused = r.rows.some((row) => row.fused);
  return `<p>${esc(r.testSet)}; both classes perturbed alike; thresholds as trained.</p>` +
    `<div class="scroll"><table><tr>${
      cells(
        [
          "perturbation",
          "NI / CG",
          "head AUC",
          "head HTER",
          "one-class AUC",
          "one-class HTER",
          ...(fused ? ["fused AUC", "fused HTER"] : []),
        ],
        "th",
      )
    }</tr>${
      r.rows.map((row) =>
        `<tr>${
          cells([
            row.perturbation,
            `${row.n[0]} / ${row.n[1]}`,
            fmtCi(row.head?.auc),
            fmtCi(row.head?.hter),
            fmtCi(row.oneclass.auc),
            fmtCi(row.oneclass.hter),
            ...(fused ? [fmtCi(row.fused?.auc), fmtCi(row.fused?.hter)] : []),
          ], "td")
        }</tr>`
      ).join("")
    }</table></div>`;
}

/**
 * AUC against the level, one panel per kind of perturbation (the clean images as level 0); WebP
 * only when the grid holds it.
 */
export function robustnessSvg(r: Robustness): string {
  const clean = r.rows.find((x) => x.perturbation === "none");
  // the rows of one kind of perturbation alone (not chained with another)
  const rowsOf = (kind: string) =>
    r.rows.filter((x) => x.perturbation.startsWith(`${kind}:`) && !x.perturbation.includes("+"));
  const webp = rowsOf("webp").length > 0;
  type Family = [string, string, (v: number) => number, number];
  const families: Family[] = [
    ["jpeg", "JPEG quality", (v) => v, 101],
    ...(webp ? [["webp", "WebP quality", (v: number) => v, 101] as Family] : []),
    ["blur", "blur sigma (px)", (v) => v, 0],
    ["resize", "resize factor", (v) => v, 1],
    ["noise", "noise sigma (0-255)", (v) => v, 0],
  ];
  const charts: Chart[] = families.map(([kind, label, , cleanLevel]) => {
    const rows = rowsOf(kind);
    const level = (p: string) => Number(p.split(":")[1]);
    const pts = (pick: (x: RobustnessRow) => number | undefined) => {
      const out: [number, number][] = rows.map((x) => [level(x.perturbation), pick(x) ?? NaN]);
      if (clean) out.push([cleanLevel, pick(clean) ?? NaN]);
      return out.filter(([, y]) => Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    };
    return {
      title: `${kind}${kind === "jpeg" || kind === "webp" ? " (101 = lossless)" : ""}`,
      xLabel: label,
      yLabel: "ROC AUC",
      yRange: [0, 1] as [number, number],
      series: [
        { name: "head", points: pts((x) => x.head?.auc.value) },
        { name: "one-class", points: pts((x) => x.oneclass.auc.value), dashed: true },
        ...(r.rows.some((x) => x.fused)
          ? [{ name: "fused", points: pts((x) => x.fused?.auc.value) }]
          : []),
      ],
    };
  });
  return renderSvg(charts, 300, 280);
}
