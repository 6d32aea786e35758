/**
 * The evaluation protocol: on the run's test split (disjoint from everything the map and the
 * flow trained on), for natural images against **every** renderer of the dataset, seen in
 * training or not, the supervised head (p(CG) ≥ 0.5) and the flow (score > 0) are scored with
 * the same metrics, each with a 95 % stratified-bootstrap confidence interval:
 * accuracy, CG recall, NI recall, HTER, ROC AUC, EER, TPR at FPR = 5 %.
 *
 * Image-level decisions average several crops per image (a grid of tiles, TenCrop, or the
 * centre crop). Writes `results.json`, `results.md`, `roc.svg` and `histograms.svg` into
 * `runs/<map run>/<one-class run>/evaluation/`.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { type BackendName, initBackend } from "../backends/select.ts";
import { ImageStore, type View } from "../data/cache.ts";
import { loadDataset } from "../data/dataset.ts";
import { samplesOf, usable } from "../data/samples.ts";
import { applySplit } from "../data/split.ts";
import { CgvsniError, UsageError } from "../core/errors.ts";
import { features } from "../features/cache.ts";
import { atomicWrite, exists, readJsonIfExists, writeJson } from "../core/files.ts";
import { bootstrap, metricSet, rocCurve, type RocPoint, type WithCi } from "./metrics.ts";
import { loadENet } from "../map/io.ts";
import { OneClassModel } from "../oneclass/model.ts";
import { type Chart, renderSvg } from "../core/plot.ts";
import { makeProgress, type Progress, ticker } from "../core/progress.ts";
import { ensureDir, runPath } from "../runs/folder.ts";
import type { MapRunConfig } from "../map/train.ts";

/** How many crops an image is judged on. */
export type CropMode = "tiles" | "ten" | "center";

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** The map run. */
  modelName: string;
  /** The one-class run inside it (default `flow`). */
  flow?: string;
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** Crops per image: a grid of tiles (default), TenCrop, or the centre crop. */
  crops?: CropMode;
  /** Tiles per side for `tiles` (default 3). */
  tiles?: number;
  /** Bootstrap resamples (default 1000). */
  bootstrap?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** tfjs backend. */
  backend?: BackendName;
  /** Crop cache folder (default `<runs>/.cache`). */
  cacheDir?: string;
  /** Progress and log sink. */
  progress?: Progress;
}

/** The metrics the evaluation reports. */
export const METRICS = [
  "accuracy",
  "cgRecall",
  "niRecall",
  "hter",
  "auc",
  "eer",
  "tprAt5",
] as const;

/** One metric name. */
export type MetricName = typeof METRICS[number];

/** Results for natural images against one renderer. */
export interface RendererResult {
  /** Renderer (class) name. */
  renderer: string;
  /** Its label. */
  label: number;
  /** The renderer the map was trained on. */
  seen: boolean;
  /** Natural test images. */
  natural: number;
  /** This renderer's test images. */
  rendered: number;
  /** Supervised head (p(CG) ≥ 0.5). */
  head: Record<MetricName, WithCi>;
  /** One-class flow (score > 0). */
  flow: Record<MetricName, WithCi>;
  /** ROC curves. */
  roc: { head: RocPoint[]; flow: RocPoint[] };
}

/** Per-image scores on the test split. */
export interface ImageScore {
  /** Name in dataset.csv. */
  name: string;
  /** Label. */
  label: number;
  /** Mean p(CG) over the image's crops. */
  pCg: number;
  /** Mean flow score over the image's crops. */
  score: number;
}

/** Everything an evaluation reports (also `results.json`). */
export interface Evaluation {
  /** Map run name. */
  modelName: string;
  /** One-class run name. */
  flow: string;
  /** One-class model kind (`flow` or `mlp`). */
  oneClassKind: string;
  /** The renderer the map was trained on. */
  trainedOn: string;
  /** Crop mode and count per image. */
  crops: { mode: CropMode; perImage: number };
  /** Bootstrap resamples and seed. */
  bootstrap: { reps: number; seed: number };
  /** Results per renderer, in label order. */
  results: RendererResult[];
  /** Per-image scores. */
  images: ImageScore[];
  /** Test images that could not be used, with the reason. */
  skipped: string[];
  /** When it was computed. */
  created: string;
}

/** Evaluates a map run and its one-class model on the test split. */
export async function evaluate(o: EvaluateOptions): Promise<Evaluation & { dir: string }> {
  const log = o.progress ?? makeProgress();
  const runs = resolve(o.runs ?? "runs");
  if (!o.modelName) throw new UsageError("--model-name RUN is required");
  const mapRun = runPath(runs, o.modelName);
  const flowName = o.flow ?? "flow";
  const config = await readJsonIfExists<MapRunConfig>(join(mapRun, "config.json"));
  if (!config || config.kind !== "map") {
    throw new CgvsniError(`${mapRun}: not a map run (no config.json)`);
  }
  const ocDir = join(mapRun, flowName);
  if (!(await exists(join(ocDir, "oneclass.json")))) {
    throw new CgvsniError(
      `${ocDir}: no trained one-class model (run train-flow --model-name ${o.modelName} first)`,
    );
  }
  const backend = await initBackend(o.backend ?? "auto");
  for (const n of backend.notices) log.log(`notice: ${n}`);
  const { net, norm, manifest } = await loadENet(join(mapRun, "model"));
  const { model: oc } = await OneClassModel.load(ocDir);
  try {
    const mode = o.crops ?? "tiles";
    if (!["tiles", "ten", "center"].includes(mode)) {
      throw new UsageError(`--crops must be tiles, ten or center, got "${mode}"`);
    }
    const tiles = o.tiles ?? 3;
    const view: View = mode === "tiles"
      ? { kind: "tiles", size: net.cfg.crop, perSide: tiles }
      : mode === "ten"
      ? { kind: "ten", size: net.cfg.crop }
      : { kind: "tiles", size: net.cfg.crop, perSide: 1 };
    const ds = await loadDataset(config.dataset.root, { csv: config.dataset.csv });
    const split = applySplit(
      ds.images,
      await Deno.readTextFile(join(mapRun, "split.csv")),
      join(mapRun, "split.csv"),
    );
    const store = new ImageStore({
      dir: o.cacheDir ?? join(runs, ".cache"),
      maxPixels: config.maxPixels,
    });
    const dir = join(ocDir, "evaluation");
    await ensureDir(dir);
    const all = split.filter((e) => e.role === "test");
    const test = await usable(all, store, view, net.cfg.crop, {
      skipBad: true,
      run: dir,
      log,
      what: "evaluation",
    });
    const skipped = all.filter((e) => !test.includes(e)).map((e) => e.name);
    const samples = await samplesOf(test, store, view);
    log.start("test features", samples.length);
    const key = `test-${mode}${mode === "tiles" ? tiles : ""}`;
    const f = await features(
      mapRun,
      key,
      net,
      manifest.sha256 as string,
      norm,
      samples,
      store,
      view,
      ticker(log),
    );
    log.end();
    const s = oc.score(f.data, f.n);
    const byImage = new Map<string, ImageScore & { k: number }>();
    samples.forEach((sm, i) => {
      const r = byImage.get(sm.entry.name) ??
        { name: sm.entry.name, label: sm.entry.label, pCg: 0, score: 0, k: 0 };
      r.pCg += f.pCg[i];
      r.score += s[i];
      r.k++;
      byImage.set(sm.entry.name, r);
    });
    const images = [...byImage.values()].map(({ k, ...r }) => ({
      ...r,
      pCg: r.pCg / k,
      score: r.score / k,
    }));
    const natural = images.filter((r) => r.label === 0);
    const reps = o.bootstrap ?? 1000, seed = o.seed ?? 0;
    const results: RendererResult[] = [];
    for (const cls of ds.classes.filter((c) => c.label > 0)) {
      const cg = images.filter((r) => r.label === cls.label);
      if (cg.length === 0 || natural.length === 0) {
        log.log(`note: no test images for natural vs ${cls.name}; skipped`);
        continue;
      }
      const both = [...natural, ...cg];
      const labels = both.map((r) => (r.label === 0 ? 0 : 1));
      const head = bootstrap(
        both.map((r) => r.pCg),
        labels,
        (sc, l) => ({ ...metricSet(sc, l, 0.5, false) }),
        reps,
        seed,
      );
      const flow = bootstrap(
        both.map((r) => r.score),
        labels,
        (sc, l) => ({ ...metricSet(sc, l, 0, true) }),
        reps,
        seed,
      );
      results.push({
        renderer: cls.name,
        label: cls.label,
        seen: cls.label === config.renderer.label,
        natural: natural.length,
        rendered: cg.length,
        head: head as Record<MetricName, WithCi>,
        flow: flow as Record<MetricName, WithCi>,
        roc: {
          head: rocCurve(both.map((r) => r.pCg), labels),
          flow: rocCurve(both.map((r) => r.score), labels),
        },
      });
    }
    const ev: Evaluation = {
      modelName: o.modelName,
      flow: flowName,
      oneClassKind: oc.map.cfg.kind,
      trainedOn: config.renderer.name,
      crops: { mode, perImage: samples.length / Math.max(1, test.length) },
      bootstrap: { reps, seed },
      results,
      images,
      skipped,
      created: new Date().toISOString(),
    };
    await writeJson(join(dir, "results.json"), ev);
    await atomicWrite(join(dir, "results.md"), resultsMarkdown(ev));
    await atomicWrite(join(dir, "roc.svg"), rocSvg(ev));
    await atomicWrite(join(dir, "histograms.svg"), histogramSvg(ev));
    return { ...ev, dir };
  } finally {
    net.dispose();
    oc.dispose();
  }
}

const LABELS: Record<MetricName, string> = {
  accuracy: "accuracy",
  cgRecall: "CG recall",
  niRecall: "NI recall",
  hter: "HTER",
  auc: "ROC AUC",
  eer: "EER",
  tprAt5: "TPR@FPR5%",
};

/** `0.912 [0.85, 0.96]`. */
export function fmtCi(m: WithCi): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  return `${f(m.value)} [${f(m.lo)}, ${f(m.hi)}]`;
}

/** The results as a Markdown table: one row per renderer and method. */
export function resultsMarkdown(ev: Evaluation): string {
  const head = ["test renderer", "n (NI/CG)", "method", ...METRICS.map((m) => LABELS[m])];
  const rows = ev.results.flatMap((r) =>
    (["head", "flow"] as const).map((k) => [
      `${r.renderer}${r.seen ? " (seen)" : ""}`,
      `${r.natural}/${r.rendered}`,
      k === "head" ? "softmax head" : `one-class (${ev.oneClassKind})`,
      ...METRICS.map((m) => fmtCi(r[k][m])),
    ])
  );
  return [
    `# Evaluation: map \`${ev.modelName}\` (trained on ${ev.trainedOn}), one-class \`${ev.flow}\``,
    "",
    `Test split only. Image-level scores: mean over ${ev.crops.perImage} crop(s) per image (${ev.crops.mode}). ` +
    `Head: p(CG) ≥ 0.5; one-class: score > 0. 95 % intervals: stratified bootstrap, ${ev.bootstrap.reps} resamples ` +
    `(seed ${ev.bootstrap.seed}).`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    ev.skipped.length ? `Skipped (unusable): ${ev.skipped.join(", ")}` : "",
  ].join("\n").trimEnd() + "\n";
}

/** ROC curves of head and flow, one panel per renderer. */
export function rocSvg(ev: Evaluation): string {
  const charts: Chart[] = ev.results.map((r) => ({
    title: `natural vs ${r.renderer}${r.seen ? " (seen)" : ""}`,
    xLabel: "false-positive rate",
    yLabel: "true-positive rate",
    xRange: [0, 1],
    yRange: [0, 1],
    series: [
      {
        name: `head AUC ${r.head.auc.value.toFixed(3)}`,
        points: r.roc.head.map((p) => [p.fpr, p.tpr]),
      },
      {
        name: `${ev.oneClassKind} AUC ${r.flow.auc.value.toFixed(3)}`,
        points: r.roc.flow.map((p) => [p.fpr, p.tpr]),
      },
      { name: "chance", points: [[0, 0], [1, 1]], color: "#aaa", dashed: true },
    ],
  }));
  return renderSvg(charts, 360, 340);
}

/** Histograms of the one-class scores, natural vs each renderer. */
export function histogramSvg(ev: Evaluation): string {
  const all = ev.images.map((i) => i.score);
  const lo = Math.min(...all), hi = Math.max(...all);
  const bins = 20, w = (hi - lo) / bins || 1;
  const hist = (xs: number[]) =>
    Array.from({ length: bins }, (_, b) => {
      const n = xs.filter((x) => Math.min(bins - 1, Math.floor((x - lo) / w)) === b).length;
      return [lo + (b + 0.5) * w, n / Math.max(1, xs.length)] as [number, number];
    });
  const nat = ev.images.filter((i) => i.label === 0).map((i) => i.score);
  const charts: Chart[] = ev.results.map((r) => ({
    title: `one-class score: natural vs ${r.renderer}`,
    xLabel: "score (> 0: computer-generated)",
    yLabel: "share of images",
    bars: true,
    series: [
      { name: "natural", points: hist(nat) },
      {
        name: r.renderer,
        points: hist(ev.images.filter((i) => i.label === r.label).map((i) => i.score)),
      },
    ],
  }));
  return renderSvg(charts, 360, 300);
}
