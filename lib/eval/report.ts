/**
 * One self-contained HTML page for a run: dataset summary, configuration, training curves of
 * both stages, the evaluation tables and plots. Styles and SVGs are inline; the page needs no
 * server, no script and no network.
 *
 * @module
 */

import { join } from "node:path";
import { loadDataset } from "../data/dataset.ts";
import { applySplit, splitCounts } from "../data/split.ts";
import { CgvsniError } from "../core/errors.ts";
import { type Evaluation, fmtCi, METRICS } from "./evaluate.ts";
import { atomicWrite, readJsonIfExists } from "../core/files.ts";
import { esc } from "../core/plot.ts";
import { readMetrics } from "../runs/folder.ts";
import type { FlowRunConfig, FlowSummary } from "../oneclass/train.ts";
import type { EpochMetrics, MapRunConfig } from "../map/train.ts";

const CSS =
  `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:1em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}.plots svg{max-width:100%;height:auto;margin:.5em 0}
.note{color:#666;font-size:.9em}`;

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
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`).join("")
  }</table>`;
}

/** Writes `<map run>/report.html` and returns its path. */
export async function writeReport(mapRun: string, flow = "flow"): Promise<string> {
  const config = await readJsonIfExists<MapRunConfig>(join(mapRun, "config.json"));
  if (!config || config.kind !== "map") {
    throw new CgvsniError(`${mapRun}: not a map run (no config.json)`);
  }
  const name = mapRun.split("/").pop()!;
  const parts: string[] = [];
  parts.push(`<h1>cgvsni run <code>${esc(name)}</code></h1>`);
  parts.push(
    `<p>Image map trained on natural images vs <b>${
      esc(config.renderer.name)
    }</b> (label ${config.renderer.label}), ` +
      `${esc(config.protocol)} protocol, crop ${config.enet.crop}; created ${
        esc(config.created)
      }.</p>`,
  );

  // dataset and split
  parts.push("<h2>Dataset and split</h2>");
  try {
    const ds = await loadDataset(config.dataset.root, {
      csv: config.dataset.csv,
      checkFiles: false,
    });
    const split = applySplit(ds.images, await Deno.readTextFile(join(mapRun, "split.csv")));
    const counts = splitCounts(split);
    parts.push(`<p><code>${esc(ds.root)}</code></p>`);
    parts.push(table(
      ["class", "label", "images", "map train", "map val", "flow pool", "test", "unused"],
      ds.classes.map((c) => {
        const k = counts.get(c.label)!;
        return [c.name, c.label, c.count, k.train, k.val, k.flow, k.test, k.unused];
      }),
    ));
  } catch (e) {
    parts.push(`<p class="note">dataset not readable now: ${esc((e as Error).message)}</p>`);
  }

  // map training
  const hist = await readMetrics<EpochMetrics>(mapRun);
  parts.push("<h2>Stage 1: image map (ENet)</h2>");
  if (hist.length) {
    const last = hist[hist.length - 1];
    parts.push(
      `<p>${hist.length} epochs; last: training loss ${last.loss.toFixed(4)}, accuracy ${
        last.train_acc.toFixed(3)
      }; ` +
        `validation accuracy ${last.val_acc.toFixed(3)} per crop, ${
          (last.val_image_acc ?? last.val_acc).toFixed(3)
        } per image.</p>`,
    );
  }
  parts.push(`<div class="plots">${inlineSvg(await readText(join(mapRun, "training.svg")))}</div>`);

  // one-class stage
  const fcfg = await readJsonIfExists<FlowRunConfig>(join(mapRun, flow, "config.json"));
  const summary = await readJsonIfExists<FlowSummary>(join(mapRun, flow, "summary.json"));
  parts.push(`<h2>Stage 2: one-class model (<code>${esc(flow)}</code>)</h2>`);
  if (fcfg) {
    parts.push(
      `<p>${
        esc(
          fcfg.map.kind === "flow"
            ? "Volume-preserving flow (NICE additive couplings)"
            : "Bias-free MLP (Deep SVDD baseline)",
        )
      }, ` +
        `ν = ${fcfg.nu}, R updated every ${fcfg.k} epochs, ${fcfg.train.epochs} epochs.` +
        (summary
          ? ` Fraction of training features inside the sphere: ${
            summary.inside.toFixed(3)
          } (target ${summary.target}), ` +
            `${summary.trainCrops} training crops.`
          : "") +
        "</p>",
    );
    parts.push(
      `<div class="plots">${inlineSvg(await readText(join(mapRun, flow, "training.svg")))}</div>`,
    );
  } else parts.push(`<p class="note">not trained yet</p>`);

  // evaluation
  const ev = await readJsonIfExists<Evaluation>(join(mapRun, flow, "evaluation", "results.json"));
  parts.push("<h2>Evaluation on the test split</h2>");
  if (ev) {
    parts.push(
      `<p>Image-level scores over ${ev.crops.perImage} crop(s) per image (${
        esc(ev.crops.mode)
      }); head: p(CG) ≥ 0.5; ` +
        `one-class: score &gt; 0; 95 % stratified-bootstrap intervals (${ev.bootstrap.reps} resamples).</p>`,
    );
    parts.push(table(
      [
        "test renderer",
        "NI / CG",
        "method",
        "accuracy",
        "CG recall",
        "NI recall",
        "HTER",
        "ROC AUC",
        "EER",
        "TPR@FPR5%",
      ],
      ev.results.flatMap((r) =>
        (["head", "flow"] as const).map((k) => [
          `${r.renderer}${r.seen ? " (seen)" : ""}`,
          `${r.natural} / ${r.rendered}`,
          k === "head" ? "softmax head" : `one-class (${ev.oneClassKind})`,
          ...METRICS.map((m) => fmtCi(r[k][m])),
        ])
      ),
    ));
    parts.push(
      `<div class="plots">${
        inlineSvg(await readText(join(mapRun, flow, "evaluation", "roc.svg")))
      }</div>`,
    );
    parts.push(
      `<div class="plots">${
        inlineSvg(await readText(join(mapRun, flow, "evaluation", "histograms.svg")))
      }</div>`,
    );
    if (ev.skipped.length) {
      parts.push(`<p class="note">Skipped test images: ${esc(ev.skipped.join(", "))}</p>`);
    }
  } else parts.push(`<p class="note">not evaluated yet</p>`);

  parts.push("<h2>Configuration</h2>");
  parts.push(`<pre>${esc(JSON.stringify({ map: config, oneClass: fcfg }, null, 2))}</pre>`);
  parts.push(`<p class="note">Generated by cgvsni on ${esc(new Date().toISOString())}.</p>`);

  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cgvsni run ${esc(name)}</title><style>${CSS}</style></head>
<body>
${parts.join("\n")}
</body></html>
`;
  const out = join(mapRun, "report.html");
  await atomicWrite(out, html);
  return out;
}
