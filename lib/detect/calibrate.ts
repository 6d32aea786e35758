/**
 * Calibration to a user's cameras (or renderer): a detector and photographs the user knows are
 * natural make a new detector folder, in one of three modes.
 *
 * - `threshold`: each stage's threshold becomes the larger of its own and the (1 − ν) quantile of
 *   the user's photographs' scores (one-class raw score; the head's mean p(CG) over `detect`'s
 *   tiles), and their scores join each stage's natural reference (which the fused score reads).
 *   About (1 − ν) of photographs like theirs are inside; under rules both, head and oneclass
 *   nothing flagged before is flagged now (under `fused` an image near its cut-off can cross it).
 *   The one-class model's checks (a Gaussian's slope) are not re-set: such a camera needs `refit`.
 * - `refit`: the one-class model is fitted again, same kind and settings, on the natural corpus it
 *   came from (`corpus`: a detector folder holds no photographs) and the user's photographs; its
 *   threshold set as the model sets it, the head's moved as in `threshold` (no map retrained).
 * - `renders`: a kernel head learns the user's renders: fitted again on its support vectors and
 *   their features (`RbfSvmHead.withImages`: an SVM's solution depends on its support vectors
 *   alone), then thresholds move as in `threshold`. Its reference stays the old head's (the user's
 *   photographs joined), which rule `fused` reads the new head against: measure it (`evaluate`).
 *
 * The new detector records how it was calibrated in `detector.json` (`provenance.calibration`),
 * `detect` prints it in its header, the model card (if any) is copied with a section appended.
 * The output folder must not exist or be empty: nothing already written is replaced.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { CgvsniError, ImageError, UsageError } from "../core/errors.ts";
import { exists } from "../core/files.ts";
import type { Progress } from "../core/progress.ts";
import { meanPerImage, quantile } from "../core/stats.ts";
import { loadDataset } from "../data/dataset.ts";
import { readImage } from "../data/decode.ts";
import type { RgbImage } from "../data/image.ts";
import { listImages } from "../data/manifest.ts";
import type { OneClassEstimator } from "../oneclass/estimator.ts";
import { RbfSvmHead } from "../head/svm.ts";
import { Detector, loadDetector, type StageOutputs } from "./detector.ts";

/** How a detector is calibrated (see the module documentation). */
export type CalibrationMode = "threshold" | "refit" | "renders";

/** The values of {@link CalibrationMode}. */
export const CALIBRATION_MODES: readonly CalibrationMode[] = ["threshold", "refit", "renders"];

/** Fewest photographs a calibration takes; under 1/ν the quantile is the largest score. */
export const MIN_CALIBRATION_IMAGES = 10;

/** Options of {@link calibrate}. */
export interface CalibrateOptions {
  /** The detector (a folder or a URL). */
  detector: string;
  /** The user's photographs: a dataset folder (its label-0 rows) or any folder of images. */
  natural: string;
  /** Another CSV for `natural`. */
  naturalCsv?: string;
  /** The new detector's folder (must not exist, or be empty). */
  out: string;
  /** `threshold` (default) or `refit`. */
  mode?: CalibrationMode;
  /** `refit`: the natural corpus the model is fitted on with the user's photographs. */
  corpus?: string;
  /** Another CSV for `corpus`. */
  corpusCsv?: string;
  /** `renders`: the renders the head learns (a dataset folder's rows of label 1 or more, or every image under it). */
  renders?: string;
  /** Another CSV for `renders`. */
  rendersCsv?: string;
  /** Refuse images with more pixels (default: the decoder's limit). */
  maxPixels?: number;
  /** Progress and log sink. */
  progress?: Progress;
}

/** How a detector was calibrated (`provenance.calibration` of its `detector.json`). */
export interface CalibrationRecord {
  /** The mode. */
  mode: CalibrationMode;
  /** The detector calibrated. */
  from: string;
  /** The user's photographs. */
  natural: string;
  /** How many were used. */
  images: number;
  /** Those that could not be read, with why. */
  skipped: { path: string; reason: string }[];
  /** `refit`: the corpus and how many of its photographs were used. */
  corpus?: { root: string; images: number };
  /** `renders`: the renders the head learnt, those that could not be read, its support vectors. */
  renders?: {
    root: string;
    images: number;
    skipped: { path: string; reason: string }[];
    supportVectors: { before: number; after: number };
  };
  /** The one-class threshold, before and after. */
  oneclassThreshold: { before: number; after: number };
  /** The head's threshold on p(CG), before and after. */
  headThreshold: { before: number; after: number };
  /** ISO date. */
  date: string;
}

/** A photograph and its source (the dataset's Group; a file of a plain folder is its own). */
interface Photo {
  path: string;
  group: string;
}

/**
 * The photographs of a folder: a dataset's label-0 rows, or every image under it; with
 * `renders`, a dataset's rows of the other labels, or every image under it.
 */
async function photographs(dir: string, csv?: string, renders = false): Promise<Photo[]> {
  if (csv || await exists(join(dir, "dataset.csv"))) {
    const ds = await loadDataset(dir, { csv, naturalOnly: !renders, rendersOnly: renders });
    return ds.images.filter((e) => (e.label === 0) !== renders)
      .map((e) => ({ path: e.path, group: e.group }));
  }
  if (!(await Deno.stat(dir).then((s) => s.isDirectory, () => false))) {
    throw new CgvsniError(`${dir}: not a folder of ${renders ? "renders" : "photographs"}`);
  }
  return (await listImages(dir)).sort().map((path) => ({ path, group: path }));
}

/**
 * `renders` mode's first step: the detector with its kernel head fitted again on its support
 * vectors and the renders' features (sharing the given detector's one-class model).
 */
async function withRenders(
  det: Detector,
  o: CalibrateOptions,
): Promise<{ det: Detector; renders: NonNullable<CalibrationRecord["renders"]> }> {
  const head = det.featureHead;
  if (!(head instanceof RbfSvmHead)) {
    throw new UsageError(
      `calibrate --mode renders teaches a kernel head (rbf); ${det.info.name} has ` +
        (head ? `a ${det.info.head!.kind} head` : det.map ? "an image map" : "no head") +
        ": train-head --model rbf",
    );
  }
  const files = await photographs(o.renders!, o.rendersCsv, true);
  const { outs: rows, skipped } = await readEach(
    files,
    o,
    "your renders",
    (img) => det.headFeatures(img),
  );
  if (rows.length < MIN_CALIBRATION_IMAGES) {
    throw new CgvsniError(
      `${o.renders}: ${rows.length} readable renders; the head learns from at least ` +
        `${MIN_CALIBRATION_IMAGES}`,
    );
  }
  const x = new Float32Array(rows.length * head.dim);
  rows.forEach((r, i) => x.set(r, i * head.dim));
  o.progress?.log(
    `fitting the kernel head again on its support vectors and ${rows.length} renders`,
  );
  const taught = head.withImages(x, rows.length, head.dim, new Array(rows.length).fill(1));
  const before = (head.provenance?.learnt as { renders: string; images: number }[]) ?? [];
  taught.provenance = {
    ...head.provenance,
    learnt: [...before, { renders: resolve(o.renders!), images: rows.length }],
  };
  const next = new Detector(det.map, det.oneClass, det.info, taught);
  return {
    det: next,
    renders: {
      root: resolve(o.renders!),
      images: rows.length,
      skipped,
      supportVectors: { before: head.supportVectors, after: taught.supportVectors },
    },
  };
}

/** Each readable photograph's stage outputs; the unreadable ones named, with why. */
async function collect(
  det: Detector,
  photos: Photo[],
  o: CalibrateOptions,
  what: string,
  oneClassOnly = false,
): Promise<{ outs: StageOutputs[]; groups: string[]; skipped: CalibrationRecord["skipped"] }> {
  return await readEach(
    photos,
    o,
    what,
    async (img, path) => (await det.stages(img, { name: path, oneClassOnly })).outputs,
  );
}

/**
 * `f` of each readable image of `files`, with the group of each; the unreadable ones named, with
 * why (progress as `what`).
 */
async function readEach<T>(
  files: Photo[],
  o: CalibrateOptions,
  what: string,
  f: (img: RgbImage, path: string) => Promise<T>,
): Promise<{ outs: T[]; groups: string[]; skipped: CalibrationRecord["skipped"] }> {
  const outs: T[] = [], groups: string[] = [];
  const skipped: CalibrationRecord["skipped"] = [];
  o.progress?.start(what, files.length);
  for (const { path, group } of files) {
    o.progress?.tick();
    try {
      const img = await readImage(path, { maxPixels: o.maxPixels, onWarning: () => {} });
      outs.push(await f(img, path));
      groups.push(group);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      skipped.push({ path, reason: e.reason });
      o.progress?.log(`skipped ${e.message}`);
    }
  }
  o.progress?.end();
  return { outs, groups, skipped };
}

/** The stage outputs of many images as one (rows tagged with their image). */
function stack(outs: StageOutputs[]): StageOutputs {
  const dim = outs[0].vectors.dim;
  const n = outs.reduce((a, x) => a + x.vectors.n, 0);
  const data = new Float32Array(n * dim), image = new Int32Array(n);
  let at = 0;
  outs.forEach((x, i) => {
    data.set(x.vectors.data, at * dim);
    image.fill(i, at, at + x.vectors.n);
    at += x.vectors.n;
  });
  return { images: outs.length, vectors: { data, n, dim, image } };
}

/** A sorted union of two references. */
const merged = (a: ArrayLike<number>, b: number[]) =>
  [...Array.from(a), ...b].sort((x, y) => x - y);

/**
 * Calibrates a detector to a user's photographs (see the module documentation) and writes the
 * new detector to `out`.
 *
 * @example Re-set the thresholds on twenty of the shipped photographs
 * ```ts
 * import { calibrate } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const dir = await Deno.makeTempDir();
 * const rows = (await Deno.readTextFile("dataset/dataset.csv")).split("\n")
 *   .filter((l) => l.startsWith("Photos/")).slice(0, 20);
 * await Deno.writeTextFile(`${dir}/mine.csv`, ["Name,Label", ...rows].join("\n"));
 * const r = await calibrate({
 *   detector: "models/cgbench-small", natural: "dataset", naturalCsv: `${dir}/mine.csv`,
 *   out: `${dir}/calibrated`,
 * });
 * console.log(r.images, r.oneclassThreshold.after >= r.oneclassThreshold.before); // 20 true
 * ```
 */
export async function calibrate(o: CalibrateOptions): Promise<CalibrationRecord> {
  const mode = o.mode ?? "threshold";
  if (!CALIBRATION_MODES.includes(mode)) {
    throw new UsageError(`calibrate: mode must be ${CALIBRATION_MODES.join(" or ")}, got ${mode}`);
  }
  // a flag of another mode is refused, not ignored: a forgotten --mode would calibrate otherwise
  if (mode !== "renders" && (o.renders || o.rendersCsv)) {
    throw new UsageError(`calibrate: --renders is for --mode renders (the mode is ${mode})`);
  }
  if (mode !== "refit" && (o.corpus || o.corpusCsv)) {
    throw new UsageError(`calibrate: --corpus is for --mode refit (the mode is ${mode})`);
  }
  if (mode === "renders" && !o.renders) {
    throw new UsageError(
      "calibrate --mode renders needs --renders DIR: the renders the head learns (and --natural " +
        "DIR, photographs its thresholds are set on again)",
    );
  }
  if (mode === "refit" && !o.corpus) {
    throw new UsageError(
      "calibrate --mode refit needs --corpus DIR: the natural photographs the model is refitted " +
        "on with yours (a detector holds no photographs)",
    );
  }
  const out = resolve(o.out);
  const release = await claimFolder(out);
  let ok = false;
  try {
    const record = await calibrateInto(o, mode, out);
    ok = true;
    return record;
  } finally {
    await release(ok);
  }
}

/**
 * Claims an empty (or new) output folder for this calibration alone: a marker created there
 * exclusively, so that two calibrations started at once never write into one folder.
 */
async function claimFolder(out: string): Promise<(ok: boolean) => Promise<void>> {
  const there = await Deno.stat(out).catch(() => undefined);
  if (there && !there.isDirectory) throw new CgvsniError(`${out}: exists and is not a folder`);
  await Deno.mkdir(out, { recursive: true });
  const claim = join(out, ".calibrating");
  try {
    (await Deno.open(claim, { write: true, createNew: true })).close();
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    throw new CgvsniError(
      `${out}: another calibration is writing it (${claim}; remove that file if none is running)`,
    );
  }
  // done: the claim goes; failed: so does a folder this call made and nothing was written to
  const release = async (ok: boolean) => {
    await Deno.remove(claim).catch(() => {});
    if (!ok && !there) await Deno.remove(out).catch(() => {}); // only removes it when empty
  };
  for await (const e of Deno.readDir(out)) {
    if (e.name === ".calibrating") continue;
    await release(false);
    throw new CgvsniError(`${out}: not empty (calibrate writes a new detector folder)`);
  }
  return release;
}

/** {@link calibrate}'s work, into a folder claimed for it. */
async function calibrateInto(
  o: CalibrateOptions,
  mode: CalibrationMode,
  out: string,
): Promise<CalibrationRecord> {
  const paths = await photographs(o.natural, o.naturalCsv);
  let det = await loadDetector(o.detector);
  let oc: OneClassEstimator | undefined;
  let renders: CalibrationRecord["renders"];
  try {
    if (mode === "renders") {
      // the photographs are checked before the renders' features, which take seconds an image
      if (paths.length < MIN_CALIBRATION_IMAGES) {
        throw new CgvsniError(
          `${o.natural}: ${paths.length} photographs; calibration takes at least ` +
            `${MIN_CALIBRATION_IMAGES}`,
        );
      }
      ({ det, renders } = await withRenders(det, o));
    }
    const mine = await collect(det, paths, o, "your photographs");
    if (mine.outs.length < MIN_CALIBRATION_IMAGES) {
      throw new CgvsniError(
        `${o.natural}: ${mine.outs.length} readable photographs; calibration takes at least ` +
          `${MIN_CALIBRATION_IMAGES} (${Math.ceil(1 / det.oneClass.nu)} or more for its quantile)`,
      );
    }
    if (mine.outs.length < 1 / det.oneClass.nu) {
      o.progress?.log(
        `note: ${mine.outs.length} photographs: the (1 - ${det.oneClass.nu}) quantile is their ` +
          "largest score",
      );
    }
    const k = mine.outs.length, all = stack(mine.outs);
    // the head: the larger of its threshold and the user's photographs' quantile
    const h = det.info.headThreshold;
    const pUser = mine.outs.map((x) =>
      x.head ? meanPerImage(x.head.pCg, x.head.image, 1)[0] : Number.NaN
    );
    const headAfter = pUser.every(Number.isFinite)
      ? Math.max(h.value, quantile(pUser, 1 - h.nu))
      : h.value;
    const headThreshold = pUser.every(Number.isFinite)
      ? {
        ...h,
        value: headAfter,
        from: `${h.from}; raised to the ${1 - h.nu} quantile of ${k} calibration photographs`,
        n: h.n + k,
        reference: merged(h.reference, pUser),
      }
      : h;
    let corpus: CalibrationRecord["corpus"];
    const before = det.oneClass.threshold;
    if (mode !== "refit") {
      oc = det.oneClass;
      const raw = meanPerImage(
        await oc.scoreSamples(all.vectors.data, all.vectors.n),
        all.vectors.image,
        k,
      );
      oc.threshold = Math.max(before, quantile(raw, 1 - oc.nu));
      oc.reference = Float32Array.from(merged(oc.reference ?? [], raw));
    } else {
      // the corpus refits the one-class model only: its head is not run (a whole-image head's
      // features take seconds an image)
      const theirs = await collect(
        det,
        await photographs(o.corpus!, o.corpusCsv),
        o,
        "corpus",
        true,
      );
      if (theirs.outs.length < MIN_CALIBRATION_IMAGES) {
        throw new CgvsniError(
          `${o.corpus}: ${theirs.outs.length} readable photographs; a refit needs the corpus the ` +
            "model was fitted on",
        );
      }
      const both = stack([...theirs.outs, ...mine.outs]);
      // a threshold set out of fold over whole sources is set so again: the corpus's sources,
      // and the user's photographs as one more
      const bySource = det.oneClass.provenance?.threshold === "cv-source";
      const names = [...new Set(theirs.groups)];
      if (bySource && names.length === theirs.groups.length) {
        throw new UsageError(
          `${o.corpus}: this detector's threshold is set out of fold over whole sources; give ` +
            "the corpus with its Group column (its dataset.csv, or --corpus-csv)",
        );
      }
      const source = [...theirs.groups.map((g) => names.indexOf(g)), ...mine.outs.map(() => -1)]
        .map((g) => g < 0 ? names.length : g);
      oc = det.oneClass.clone();
      o.progress?.log(`refitting ${oc.kind} on ${both.images} photographs`);
      await oc.fit(both.vectors.data, both.vectors.n, both.vectors.dim, {
        groups: both.vectors.image,
        ...(bySource ? { foldGroups: Array.from(both.vectors.image, (i) => source[i]) } : {}),
      });
      oc.provenance = det.oneClass.provenance;
      corpus = { root: resolve(o.corpus!), images: theirs.outs.length };
    }
    const record: CalibrationRecord = {
      mode,
      from: det.info.name,
      natural: resolve(o.natural),
      images: k,
      skipped: mine.skipped,
      ...(corpus ? { corpus } : {}),
      ...(renders ? { renders } : {}),
      oneclassThreshold: { before, after: oc.threshold },
      headThreshold: { before: h.value, after: headAfter },
      date: new Date().toISOString(),
    };
    if (det.featureHead) { // a whole-image head keeps its threshold and reference in head.json too
      det.featureHead.threshold = headThreshold.value;
      det.featureHead.reference = [...headThreshold.reference];
    }
    const calibrated = new Detector(det.map, oc, {
      ...det.info,
      // calibrated again: still one "(calibrated)"; provenance keeps the chain
      name: det.info.name.endsWith(" (calibrated)")
        ? det.info.name
        : `${det.info.name} (calibrated)`,
      headThreshold,
      provenance: { ...det.info.provenance, calibration: record },
    }, det.featureHead);
    await calibrated.save(out);
    await modelCard(o.detector, out, record);
    return record;
  } finally {
    if (oc && oc !== det.oneClass) oc.dispose();
    det.dispose();
  }
}

/** Copies the detector's model card, when it has one on disk, with the calibration appended. */
async function modelCard(from: string, out: string, r: CalibrationRecord): Promise<void> {
  const card = /^(https?|file):\/\//.test(from) ? undefined : join(from, "MODEL_CARD.md");
  const old = card ? await Deno.readTextFile(card).catch(() => undefined) : undefined;
  const f = (x: number) => x.toPrecision(5);
  const section = [
    "## Calibrated",
    "",
    `This detector is \`${r.from}\` calibrated on ${r.images} photographs of \`${r.natural}\` ` +
    `(${r.date.slice(0, 10)}), mode \`${r.mode}\`` +
    (r.corpus
      ? `, the one-class model refitted with ${r.corpus.images} of \`${r.corpus.root}\``
      : "") +
    (r.renders
      ? `, its kernel head fitted again on its ${r.renders.supportVectors.before} support ` +
        `vectors and ${r.renders.images} renders of \`${r.renders.root}\` ` +
        `(${r.renders.supportVectors.after} support vectors now)`
      : "") +
    ".",
    "",
    "| threshold | before | after |",
    "| --- | --- | --- |",
    `| one-class score | ${f(r.oneclassThreshold.before)} | ${f(r.oneclassThreshold.after)} |`,
    `| head p(CG) | ${f(r.headThreshold.before)} | ${f(r.headThreshold.after)} |`,
    "",
    r.skipped.length ? `${r.skipped.length} files could not be read and were left out.\n` : "",
    r.renders?.skipped.length
      ? `${r.renders.skipped.length} renders could not be read and were left out.\n`
      : "",
  ].join("\n");
  await Deno.writeTextFile(
    join(out, "MODEL_CARD.md"),
    (old ? old.trimEnd() + "\n\n" : `# ${r.from} (calibrated)\n\n`) + section,
  );
}
