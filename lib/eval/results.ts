/**
 * What an evaluation writes (`results.json`, `results.md`, `roc.svg`, `histograms.svg`) and
 * reads back ({@link currentEvaluation}), and the formatting shared by every report of it.
 *
 * @module
 */

import { join } from "node:path";
import { atomicWrite, readJsonIfExists, writeJson } from "../core/files.ts";
import { type Chart, renderSvg } from "../core/plot.ts";
import type { Progress } from "../core/progress.ts";
import { UNSET_HEAD_THRESHOLD } from "../map/threshold.ts";
import type { WithCi } from "./metrics.ts";
import { type Evaluation, type MetricName, METRICS } from "./evaluation.ts";

/**
 * A finished evaluation in `dir` (its `results.json`) that is still current, for the pipelines
 * that reuse what finished. One written before the head had its threshold (the head decided at
 * 0.5) is not: it is left in place, to be overwritten by a new evaluation.
 */
export async function currentEvaluation(
  dir: string,
  log?: Progress,
): Promise<Evaluation | undefined> {
  const saved = await readJsonIfExists<Evaluation>(join(dir, "results.json"));
  if (saved?.map && !saved.headThreshold) {
    log?.log(`${dir}: evaluated before the head had its threshold; evaluating again`);
    return undefined;
  }
  return saved;
}

/** Writes `results.json`, `results.md`, `roc.svg` and `histograms.svg` of `ev` into `dir`. */
export async function writeEvaluation(dir: string, ev: Evaluation): Promise<void> {
  await writeJson(join(dir, "results.json"), ev);
  await atomicWrite(join(dir, "results.md"), resultsMarkdown(ev));
  await atomicWrite(join(dir, "roc.svg"), rocSvg(ev));
  await atomicWrite(join(dir, "histograms.svg"), histogramSvg(ev));
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

/**
 * What the detector calls each class, when the images carry verdicts: per class (natural, then
 * each renderer folder), the shares called computer-generated, unsure and natural.
 */
function verdictLines(ev: Evaluation): string[] {
  const judged = ev.images.filter((i) => i.verdict);
  if (!judged.length) return [];
  const classes = [...new Set(judged.map((i) => i.label === 0 ? "natural" : i.source))];
  const share = (xs: typeof judged, v: string) =>
    (xs.filter((i) => i.verdict === v).length / xs.length).toFixed(3);
  const missing = ev.images.length - judged.length;
  return [
    `What \`detect\` calls each class (rule \`${ev.rule ?? "both"}\`)` +
    (missing
      ? ` (${missing} images were scored before verdicts were kept and are not counted):`
      : ":"),
    "",
    "| class | images | computer-generated | unsure | natural |",
    "|---|---|---|---|---|",
    ...classes.map((c) => {
      const xs = judged.filter((i) => (i.label === 0 ? "natural" : i.source) === c);
      return `| ${c} | ${xs.length} | ${share(xs, "computer-generated")} | ${
        share(xs, "unsure")
      } | ${share(xs, "natural")} |`;
    }),
    "",
  ];
}

/** `0.912 [0.85, 0.96]`. */
export function fmtCi(m?: WithCi): string {
  if (!m) return "–";
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  return `${f(m.value)} [${f(m.lo)}, ${f(m.hi)}]`;
}

/**
 * How an evaluation's head decides, in words: `CG at p ≥ 0.6581 (the 0.95 quantile of 53 natural
 * val+flow images of the split)`. Evaluations older than the head's threshold decided at 0.5.
 */
export function headRule(ev: Pick<Evaluation, "headThreshold">): string {
  const t = ev.headThreshold;
  return t?.n
    ? `CG at p ≥ ${t.value.toPrecision(4)} (the ${1 - t.nu} quantile of ${t.n} ${t.from})`
    : `CG at p ≥ ${t?.value ?? UNSET_HEAD_THRESHOLD}`;
}

/** The name of an evaluation's one-class model in tables: `flow on l9`. */
export function oneclassLabel(ev: Pick<Evaluation, "oneclassKind" | "features">): string {
  return `one-class (${ev.oneclassKind} on ${ev.features})`;
}

/** How the fused score decides, in words. */
export const FUSED_RULE = "Fused: each stage's score as an upper-tail p-value among the natural " +
  "images its threshold was set on, combined by Fisher's method; CG above the 0.95 quantile of " +
  "χ²(4).";

/** The stages an evaluation reports, in table order (`fused` when both stages have it). */
export const STAGES = ["head", "oneclass", "fused"] as const;

/** One of {@link STAGES}. */
export type Stage = typeof STAGES[number];

/** A stage's name in tables. */
export function stageLabel(ev: Pick<Evaluation, "oneclassKind" | "features">, k: Stage): string {
  return k === "head"
    ? "softmax head"
    : k === "oneclass"
    ? oneclassLabel(ev)
    : "fused (head + one-class)";
}

/** Each stage whose AUC is below chance against a renderer, in words (results.md, the report). */
export function belowChance(ev: Evaluation): string[] {
  return ev.results.flatMap((r) =>
    STAGES.filter((k) => r[k] && r[k]!.auc.value < 0.5).map((k) =>
      `${
        k === "head" ? "the head" : k === "oneclass" ? "the one-class model" : "the fused score"
      } against ${r.renderer} (AUC ${r[k]!.auc.value.toFixed(3)})`
    )
  );
}

/** The results as Markdown: one row per renderer and stage, then the diagnostics. */
export function resultsMarkdown(ev: Evaluation): string {
  const head = ["test renderer", "n (NI/CG)", "stage", ...METRICS.map((m) => LABELS[m])];
  const rows = ev.results.flatMap((r) =>
    STAGES.filter((k) => r[k]).map((k) => [
      `${r.renderer}${r.seen ? " (seen)" : ""}`,
      `${r.natural}/${r.rendered}`,
      stageLabel(ev, k),
      ...METRICS.map((m) => fmtCi(r[k]![m])),
    ])
  );
  const below = belowChance(ev);
  const c = ev.controls;
  return [
    ev.detector
      ? `# Evaluation: detector \`${ev.detector}\` (map trained on ${ev.trainedOn})`
      : `# Evaluation: ${
        ev.map ? `map \`${ev.map}\` (trained on ${ev.trainedOn}), ` : ""
      }one-class \`${ev.oneclassRun}\``,
    "",
    `${ev.testSet}${ev.perturbation ? `, every image perturbed by ${ev.perturbation}` : ""}. ` +
    `Head: mean p(CG) over ${+ev.crops.perImage.toFixed(
      1,
    )} crop(s) per image (${ev.crops.mode}), ${headRule(ev)}. ` +
    `${oneclassLabel(ev)}: CG at score > 0, threshold ${ev.threshold.value.toPrecision(5)} ` +
    `(${ev.threshold.from}, ν = ${ev.threshold.nu}). ` +
    (ev.results.some((r) => r.fused) ? `${FUSED_RULE} ` : "") +
    `95 % intervals: stratified bootstrap, ${ev.bootstrap.reps} resamples (seed ${ev.bootstrap.seed}).`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    below.length
      ? `**Below chance:** ${
        below.join("; ")
      }: these scores rank renders as more natural than photographs.\n`
      : "",
    ...verdictLines(ev),
    "## Diagnostics",
    "",
    ...(ev.norms.length
      ? [
        "Norm of the one-class feature vectors per class (mean; quartiles):",
        "",
        ...ev.norms.map((s) =>
          `- ${s.name} (${s.n}): ${s.mean.toPrecision(4)}; ${
            s.q.map((v) => v.toPrecision(4)).join(", ")
          }`
        ),
        "",
      ]
      : []),
    ...(c
      ? [
        c.positive
          ? `Positive control: natural test images blurred (${c.positive.perturbation}), ${c.positive.n} images: ` +
            `one-class puts ${fmtCi(c.positive.oneclassOutside)} outside` +
            (c.positive.oneclassNotNatural
              ? ` and calls ${fmtCi(c.positive.oneclassNotNatural)} not natural (outside, or ` +
                "failing its check)"
              : "") +
            (c.positive.headCg ? `; the head calls ${fmtCi(c.positive.headCg)} CG` : "") +
            (c.positive.fusedCg ? `; the fused score ${fmtCi(c.positive.fusedCg)}.` : ".")
          : "",
        "",
        `Negative control: share of natural test images inside, per source folder (target ${c.target}): ` +
        c.negative.map((x) => `${x.source} (${x.n}) ${fmtCi(x.inside)}`).join("; ") + ".",
        "",
      ]
      : []),
    ev.skipped.length ? `Skipped (unusable): ${ev.skipped.join(", ")}` : "",
  ].join("\n").trimEnd() + "\n";
}

/** ROC curves of head and one-class model, one panel per renderer. */
export function rocSvg(ev: Evaluation): string {
  const charts: Chart[] = ev.results.map((r) => ({
    title: `natural vs ${r.renderer}${r.seen ? " (seen)" : ""}`,
    xLabel: "false-positive rate",
    yLabel: "true-positive rate",
    xRange: [0, 1],
    yRange: [0, 1],
    series: [
      ...(r.head && r.roc.head
        ? [{
          name: `head AUC ${r.head.auc.value.toFixed(3)}`,
          points: r.roc.head.map((p) => [p.fpr, p.tpr] as [number, number]),
        }]
        : []),
      {
        name: `${ev.oneclassKind} AUC ${r.oneclass.auc.value.toFixed(3)}`,
        points: r.roc.oneclass.map((p) => [p.fpr, p.tpr] as [number, number]),
      },
      ...(r.fused && r.roc.fused
        ? [{
          name: `fused AUC ${r.fused.auc.value.toFixed(3)}`,
          points: r.roc.fused.map((p) => [p.fpr, p.tpr] as [number, number]),
        }]
        : []),
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
