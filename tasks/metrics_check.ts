/**
 * Metric correctness against an independent implementation: generates score/label sets (with
 * ties, imbalance, perfect and inverted separations), computes every metric here and with
 * scikit-learn (Debian's python3-sklearn), and compares.
 *
 *   deno task metrics-check [--tolerance 1e-6]
 *
 * @module
 */

import { type Command, num, runCommand } from "../cli/_args.ts";
import { fileURLToPath } from "node:url";
import { metricSet } from "../lib/eval/metrics.ts";
import { Rng } from "../lib/core/rng.ts";

const PY = fileURLToPath(new URL("./py/metrics_check.py", import.meta.url));

/** The test cases: scores, labels, threshold. */
export function cases(): {
  scores: number[];
  labels: number[];
  threshold: number;
  strict: boolean;
}[] {
  const out = [];
  const rng = new Rng("metrics-check");
  for (let k = 0; k < 40; k++) {
    const n = 5 + rng.int(200);
    const labels = Array.from({ length: n }, () => (rng.next() < 0.2 + 0.6 * rng.next() ? 1 : 0));
    labels[0] = 0, labels[1] = 1;
    const sep = rng.next() * 3 - 0.5;
    const coarse = k % 3 === 0; // rounded scores: many ties
    const scores = labels.map((l) => {
      const v = rng.normal() + sep * l;
      return coarse ? Math.round(v * 2) / 2 : v;
    });
    out.push({ scores, labels, threshold: k % 2 ? 0 : 0.5, strict: k % 2 === 1 });
  }
  out.push({ scores: [1, 2, 3, 4], labels: [0, 0, 1, 1], threshold: 2.5, strict: false });
  out.push({ scores: [4, 3, 2, 1], labels: [0, 0, 1, 1], threshold: 2.5, strict: true });
  out.push({ scores: [1, 1, 1, 1], labels: [0, 1, 0, 1], threshold: 1, strict: false });
  return out;
}

/** Largest |ours − scikit-learn| over every metric and case. */
export async function compare(
  python = "/usr/bin/python3",
): Promise<{ maxDiff: number; cases: number; worst: string }> {
  const cs = cases();
  const p = new Deno.Command(python, {
    args: [PY],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({ cases: cs })));
  await w.close();
  const out = await p.output();
  if (!out.success) {
    throw new Error(
      `scikit-learn side failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`,
    );
  }
  const theirs = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>[];
  let maxDiff = 0, worst = "";
  cs.forEach((c, i) => {
    const ours = metricSet(c.scores, c.labels, c.threshold, c.strict) as unknown as Record<
      string,
      number
    >;
    for (const k of Object.keys(theirs[i])) {
      const d = Math.abs(ours[k] - theirs[i][k]);
      if (!(d <= maxDiff)) {
        [maxDiff, worst] = [d, `case ${i} ${k}: ours ${ours[k]} sklearn ${theirs[i][k]}`];
      }
    }
  });
  return { maxDiff, cases: cs.length, worst };
}

/** The `metrics-check` task. */
export const metricsCheckCommand: Command = {
  name: "metrics-check",
  usage: "[--tolerance X]",
  summary: "Compare AUC, EER, TPR@FPR5%, accuracy, recalls and HTER with scikit-learn.",
  permissions: "--allow-read --allow-run=/usr/bin/python3 --allow-env",
  writes: "nothing",
  flags: [
    {
      name: "tolerance",
      type: "string",
      arg: "X",
      default: "1e-6",
      help: "largest difference that passes",
    },
  ],
  async run(a) {
    const tol = num(a, "tolerance", { min: 0 }) ?? 1e-6;
    const r = await compare();
    const ok = r.maxDiff <= tol;
    console.log(
      `${
        ok ? "PASS" : "FAIL"
      }: ${r.cases} cases x 7 metrics (AUC, EER, TPR@FPR5%, accuracy, CG recall, NI recall, HTER); ` +
        `max |cgvsni - scikit-learn| = ${r.maxDiff.toExponential(2)}${ok ? "" : ` (${r.worst})`}`,
    );
    return ok ? 0 : 1;
  },
};

if (import.meta.main) Deno.exit(await runCommand(metricsCheckCommand, Deno.args));
