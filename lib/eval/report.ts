/**
 * One self-contained HTML page for a run: dataset summary, configuration, training curves of
 * both stages, the evaluation tables, diagnostics and plots, and the robustness grid when it
 * was computed. Styles and SVGs are inline; the page needs no server, no script and no network.
 *
 * @module
 */

import { join } from "node:path";
import { atomicWrite, readJsonIfExists } from "../core/files.ts";
import { esc } from "../core/plot.ts";
import { splitCounts } from "../data/split.ts";
import { readMapRun, renderersName } from "../map/run.ts";
import type { EpochMetrics } from "../map/train.ts";
import {
  DEFAULT_ONECLASS_RUN,
  type OneClassRunConfig,
  type OneClassSummary,
} from "../oneclass/train.ts";
import { readMetrics } from "../runs/folder.ts";
import { type Evaluation, METRICS } from "./evaluation.ts";
import {
  belowChance,
  fmtCi,
  FUSED_RULE,
  headRule,
  oneclassLabel,
  stageLabel,
  STAGES,
} from "./results.ts";

const CSS =
  `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;margin:1em 0;font-size:.85em}
td,th{border:1px solid #ccc;padding:.3em .5em;text-align:right;white-space:nowrap}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em;max-height:30em}
.plots{overflow-x:auto}.plots svg{max-width:100%;height:auto;margin:.5em 0}
.note{color:#666;font-size:.9em}.warn{background:#fff3cd;border:1px solid #e0c36c;padding:.5em 1em}`;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** Strips the XML-ish prologue of an SVG file so it can be inlined. */
function inlineSvg(svg?: string): string {
  if (!svg) return `<p class="note">(not available)</p>`;
  return svg.replace(/<\?xml[^>]*>/, "").trim();
}

function table(head: string[], rows: (string | number)[][]): string {
  return `<div class="scroll"><table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`).join("")
  }</table></div>`;
}

const HEAD = [
  "test renderer",
  "NI / CG",
  "stage",
  "accuracy",
  "CG recall",
  "NI recall",
  "HTER",
  "ROC AUC",
  "EER",
  "TPR@FPR5%",
];

/** The evaluation part of the page (tables, warnings, diagnostics, plots). */
function evaluationHtml(
  ev: Evaluation,
  dir: string,
  svgs: { roc?: string; hist?: string },
): string {
  const parts: string[] = [];
  parts.push(
    `<p>${esc(ev.testSet)}. Image-level scores over ${ev.crops.perImage} crop(s) per image (${
      esc(ev.crops.mode)
    }); ` +
      `head: ${esc(headRule(ev))}; ${esc(oneclassLabel(ev))}: score &gt; 0 (threshold ${
        ev.threshold.value.toPrecision(5)
      }, ` +
      `${esc(ev.threshold.from)}, ν = ${ev.threshold.nu}); ${
        ev.results.some((r) => r.fused) ? esc(FUSED_RULE) + " " : ""
      }95 % stratified-bootstrap intervals (${ev.bootstrap.reps} resamples).</p>`,
  );
  const below = belowChance(ev);
  if (below.length) {
    parts.push(
      `<p class="warn"><b>Below chance:</b> ${
        esc(below.join("; "))
      }. An AUC under 0.5 means the scores rank ` +
        "renders as <i>more</i> natural than photographs: the model is not merely weak there, it is inverted.</p>",
    );
  }
  parts.push(table(
    HEAD,
    ev.results.flatMap((r) =>
      STAGES.filter((k) => r[k]).map((k) => [
        `${r.renderer}${r.seen ? " (seen)" : ""}`,
        `${r.natural} / ${r.rendered}`,
        stageLabel(ev, k),
        ...METRICS.map((m) => fmtCi(r[k]![m])),
      ])
    ),
  ));
  parts.push("<h3>Diagnostics</h3>");
  parts.push(table(
    ["class", "images", "feature norm: mean", "25 %", "median", "75 %"],
    ev.norms.map((s) => [s.name, s.n, s.mean.toPrecision(4), ...s.q.map((v) => v.toPrecision(4))]),
  ));
  const c = ev.controls;
  if (c) {
    if (c.positive) {
      parts.push(
        `<p>Positive control: ${c.positive.n} natural test images blurred (${
          esc(c.positive.perturbation)
        }): ` +
          `the one-class model puts ${esc(fmtCi(c.positive.oneclassOutside))} outside` +
          (c.positive.headCg ? `; the head calls ${esc(fmtCi(c.positive.headCg))} CG` : "") +
          (c.positive.fusedCg ? `; the fused score ${esc(fmtCi(c.positive.fusedCg))}` : "") +
          ".</p>",
      );
    }
    parts.push(
      `<p>Negative control (share of natural test images inside, target ${c.target}): ` +
        esc(c.negative.map((x) => `${x.source} (${x.n}) ${fmtCi(x.inside)}`).join("; ")) + ".</p>",
    );
  }
  parts.push(`<div class="plots">${inlineSvg(svgs.roc)}</div>`);
  parts.push(`<div class="plots">${inlineSvg(svgs.hist)}</div>`);
  if (ev.skipped.length) {
    parts.push(`<p class="note">Skipped test images: ${esc(ev.skipped.join(", "))}</p>`);
  }
  parts.push(`<p class="note">Files: ${esc(dir)}</p>`);
  return parts.join("\n");
}

/**
 * Writes `<runs>/<map>/report.html` for the map run and one of its one-class runs.
 *
 * @example One HTML page for a run
 * ```ts
 * import { writeReport } from "./mod.ts";
 * import { trainMap } from "../map/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress: makeProgress({ quiet: true }) });
 * console.log(await writeReport(runs, "m")); // .../m/report.html
 * ```
 */
export async function writeReport(
  runs: string,
  mapName: string,
  oneclass: string | string[] = DEFAULT_ONECLASS_RUN,
): Promise<string> {
  const { dir: mapRun, config, dataset, split } = await readMapRun(runs, mapName, {
    checkFiles: false,
  });
  const parts: string[] = [];
  parts.push(`<h1>cgvsni run <code>${esc(mapName)}</code></h1>`);
  parts.push(
    `<p>Image map trained on natural images vs <b>${esc(renderersName(config))}</b>, ${
      esc(config.protocol)
    } protocol, ` +
      `crop ${config.enet.crop}` +
      (config.matchCompression
        ? `, every image re-encoded as JPEG ${config.matchCompression} first`
        : "") +
      (config.train.augment.length ? `, augmented: ${esc(config.train.augment.join(", "))}` : "") +
      `; created ${esc(config.created)}.</p>`,
  );

  parts.push("<h2>Dataset and split</h2>");
  const counts = splitCounts(split);
  parts.push(`<p><code>${esc(dataset.root)}</code></p>`);
  parts.push(table(
    ["class", "label", "images", "map train", "map val", "one-class pool", "test", "unused"],
    dataset.classes.map((c) => {
      const k = counts.get(c.label)!;
      return [c.name, c.label, c.count, k.train, k.val, k.oneclass, k.test, k.unused];
    }),
  ));

  const hist = await readMetrics<EpochMetrics>(mapRun);
  parts.push("<h2>The image map (ENet)</h2>");
  if (hist.length) {
    const last = hist[hist.length - 1];
    parts.push(
      `<p>${hist.length} epochs; last: training loss ${last.loss.toFixed(4)}, accuracy ${
        last.train_acc.toFixed(3)
      }; ` +
        `validation accuracy ${last.val_acc.toFixed(3)} per crop, ${
          (last.val_image_acc ?? last.val_acc).toFixed(3)
        } per image; ` +
        `recall: natural ${last.val_recall_natural.toFixed(3)}` +
        (last.val_recall
          ? Object.entries(last.val_recall).map(([k, v]) => `, ${esc(k)} ${v.toFixed(3)}`).join("")
          : "") +
        ".</p>",
    );
  }
  parts.push(`<div class="plots">${inlineSvg(await readText(join(mapRun, "training.svg")))}</div>`);

  const configs: Record<string, unknown> = {};
  for (const name of Array.isArray(oneclass) ? oneclass : [oneclass]) {
    const ocDir = join(mapRun, name);
    const ocCfg = await readJsonIfExists<OneClassRunConfig>(join(ocDir, "config.json"));
    configs[name] = ocCfg;
    parts.push(...await oneclassSection(name, ocDir, ocCfg));
  }

  parts.push("<h2>Configuration</h2>");
  parts.push(`<pre>${esc(JSON.stringify({ map: config, oneClass: configs }, null, 2))}</pre>`);
  parts.push(`<p class="note">Generated by cgvsni on ${esc(new Date().toISOString())}.</p>`);

  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cgvsni run ${esc(mapName)}</title><style>${CSS}</style></head>
<body>
${parts.join("\n")}
</body></html>
`;
  const out = join(mapRun, "report.html");
  await atomicWrite(out, html);
  return out;
}

/** The one-class run's part of the page: the model, its evaluation, its robustness grid. */
async function oneclassSection(
  name: string,
  ocDir: string,
  ocCfg: OneClassRunConfig | undefined,
): Promise<string[]> {
  const parts: string[] = [];
  const summary = await readJsonIfExists<OneClassSummary>(join(ocDir, "summary.json"));
  parts.push(`<h2>One-class model <code>${esc(name)}</code></h2>`);
  if (ocCfg) {
    parts.push(
      `<p>${esc(ocCfg.oneclass)} on ${esc(ocCfg.features)} features, threshold from ${
        esc(ocCfg.threshold)
      } scores.` +
        (summary
          ? ` ${summary.vectors} training vectors of dimension ${summary.dim} from ${summary.images} natural images; ` +
            `${summary.inside.toFixed(3)} of them inside the threshold (target ${summary.target}).`
          : "") +
        "</p>",
    );
    const svg = await readText(join(ocDir, "training.svg"));
    if (svg) parts.push(`<div class="plots">${inlineSvg(svg)}</div>`);
  } else parts.push(`<p class="note">not trained yet</p>`);

  const evDir = join(ocDir, "evaluation");
  const ev = await readJsonIfExists<Evaluation>(join(evDir, "results.json"));
  parts.push(`<h2>Evaluation: <code>${esc(name)}</code> and the head</h2>`);
  if (ev) {
    parts.push(evaluationHtml(ev, evDir, {
      roc: await readText(join(evDir, "roc.svg")),
      hist: await readText(join(evDir, "histograms.svg")),
    }));
  } else parts.push(`<p class="note">not evaluated yet</p>`);

  const rob = await readText(join(ocDir, "robustness", "robustness.html"));
  if (rob) {
    parts.push(`<h2>Robustness: <code>${esc(name)}</code> and the head</h2>`);
    parts.push(rob);
    parts.push(
      `<div class="plots">${
        inlineSvg(await readText(join(ocDir, "robustness", "robustness.svg")))
      }</div>`,
    );
  }
  return parts;
}
