/**
 * `cgvsni calibrate`: a detector calibrated to a user's own photographs (lib/detect/calibrate.ts).
 *
 * @module
 */

import { initBackend } from "../lib/backends/select.ts";
import type { BackendName } from "../lib/backends/select.ts";
import { UsageError } from "../lib/core/errors.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { calibrate, CALIBRATION_MODES } from "../lib/detect/calibrate.ts";
import { choice, type Command, COMPUTE_FLAGS, MAX_PIXELS_FLAG, num, str } from "./_args.ts";
import { ENV } from "./_perms.ts";

/** The `calibrate` command. */
export const calibrateCommand: Command = {
  name: "calibrate",
  usage:
    "--detector DIR --natural DIR --out DIR [--mode threshold|refit|renders] [--corpus DIR] [--renders DIR]",
  summary:
    "A detector calibrated to your own cameras' photographs, or taught your renders (a new detector folder).",
  description: `
--natural DIR holds photographs you know are natural, from the cameras you will examine (a dataset
folder's label-0 rows, or every image under it; at least 10, better 20 or more). Two modes:
  threshold (default)  only the thresholds move: each stage's becomes the larger of its own and
                       the (1 - nu) quantile of your photographs' scores, so about 95 % of
                       photographs like yours are inside, and (but under --rule fused) nothing flagged before is flagged
                       now. A camera failing the one-class model's slope check needs refit.
  refit                the one-class model is fitted again, same kind and settings, on --corpus
                       DIR (the natural photographs it was fitted on; a detector holds none) and
                       yours together; the head's threshold moves as in threshold.
  renders              a kernel head (rbf) learns the renders of --renders DIR (your renderer's,
                       say; a dataset folder's rows of label 1 or more, or every image under it;
                       at least 10): it is fitted again on its support vectors and them (the
                       detector holds none of the images it was trained on), then the thresholds
                       move on your photographs as in threshold (under rule fused the new head is
                       read against the old head's reference: check it on other photographs).
Writes a new detector folder --out (which must not exist, or be empty) whose detector.json and
MODEL_CARD.md say how it was calibrated; detect prints it in its header.`,
  permissions:
    `--allow-read --allow-write=runs,models --allow-env=${ENV} --allow-ffi --allow-sys=systemMemoryInfo,osRelease,loadavg`,
  writes: "--out DIR (runs/ or models/; elsewhere needs --allow-write=DIR)",
  flags: [
    { name: "detector", type: "string", arg: "DIR|URL", help: "the detector to calibrate" },
    { name: "natural", type: "string", arg: "DIR", help: "your photographs" },
    { name: "natural-csv", type: "string", arg: "FILE", help: "another CSV for --natural" },
    { name: "out", type: "string", arg: "DIR", help: "the new detector folder" },
    {
      name: "mode",
      type: "string",
      arg: "MODE",
      default: "threshold",
      help:
        "threshold (re-set the thresholds) | refit (refit the one-class model) | renders (the head learns renders)",
    },
    { name: "corpus", type: "string", arg: "DIR", help: "refit: the natural corpus" },
    { name: "corpus-csv", type: "string", arg: "FILE", help: "another CSV for --corpus" },
    { name: "renders", type: "string", arg: "DIR", help: "renders: the renders the head learns" },
    { name: "renders-csv", type: "string", arg: "FILE", help: "another CSV for --renders" },
    MAX_PIXELS_FLAG,
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const detector = str(a, "detector"), natural = str(a, "natural"), out = str(a, "out");
    if (!detector || !natural || !out) {
      throw new UsageError("calibrate: give --detector DIR, --natural DIR and --out DIR");
    }
    await initBackend(str(a, "backend", "auto") as BackendName);
    const r = await calibrate({
      detector,
      natural,
      naturalCsv: str(a, "natural-csv"),
      out,
      mode: choice(a, "mode", CALIBRATION_MODES),
      corpus: str(a, "corpus"),
      corpusCsv: str(a, "corpus-csv"),
      renders: str(a, "renders"),
      rendersCsv: str(a, "renders-csv"),
      maxPixels: num(a, "max-pixels", { int: true, min: 1 }),
      progress: makeProgress(),
    });
    const f = (x: number) => x.toPrecision(5);
    console.log(
      `calibrated (${r.mode}) on ${r.images} photographs: one-class threshold ` +
        `${f(r.oneclassThreshold.before)} -> ${f(r.oneclassThreshold.after)}, head ` +
        `${f(r.headThreshold.before)} -> ${f(r.headThreshold.after)}; wrote ${out}`,
    );
    if (r.renders) {
      const sv = r.renders.supportVectors;
      console.log(
        `the head learnt ${r.renders.images} renders: ${sv.before} -> ${sv.after} support vectors`,
      );
    }
    const skipped = [...r.skipped, ...(r.renders?.skipped ?? [])];
    for (const s of skipped) console.error(`skipped ${s.path}: ${s.reason}`);
    return skipped.length ? 3 : 0;
  },
};
