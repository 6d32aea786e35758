/**
 * Does one synthetic region give a production-like render away? A patch-level one-class model:
 * the `residual` features of single 64 x 64 patches, a Gaussian (Ledoit-Wolf, on principal
 * components) fitted on the patches of natural photographs, and an image's score the mean, the
 * 90 % quantile or the maximum of its patches' scores. The whole-image `residual` source averages
 * its statistics over the 64 most textured patches, which in a photo-textured render are
 * photograph; this asks whether the regions the renderer makes itself (shading, edges, shadows,
 * the environment seen directly) stand out when each patch is judged alone.
 *
 * Protocol: the photographs' sources are split into `--folds` groups; each fold's model is fitted
 * on the patches of the other folds' photographs only, scores its own fold's photographs (sources
 * it never saw) and every render; AUC per render folder, mean and range over the folds. The
 * threshold is the (1 − ν) quantile of the image scores of one further fold held out from the
 * fit, so no test photograph sets it. No render is ever fitted on.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys tasks/production/patches.ts \
 *   --natural runs/natural --natural-csv /work/production/loso-natural.csv \
 *   --renders /work/production --renders /work/production-eevee::/work/production-eevee/production.csv \
 *   --out runs/production-patches.md
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { initBackend } from "../../lib/backends/mod.ts";
import { DEFAULT_NU, mean, quantile } from "../../lib/core/stats.ts";
import { readImage } from "../../lib/data/decode.ts";
import { loadDataset } from "../../lib/data/dataset.ts";
import type { RgbImage } from "../../lib/data/image.ts";
import { rocAuc } from "../../lib/eval/metrics.ts";
import { RESIDUAL_DIM, residualFeatures } from "../../lib/features/residual.ts";
import { rows } from "../../lib/oneclass/estimator.ts";
import { GaussianOneClass } from "../../lib/oneclass/gauss.ts";

const P = 64;
/** The defaults: patches per image at most, folds of sources, principal components. */
export const PATCH_DEFAULTS = { patches: 16, folds: 5, pca: 64 } as const;

/** The 64 x 64 patches on a grid of stride 64, at most `k` of them, evenly spaced in reading order. */
function gridPatches(img: RgbImage, k: number): RgbImage[] {
  const all: [number, number][] = [];
  for (let y = 0; y + P <= img.height; y += P) {
    for (let x = 0; x + P <= img.width; x += P) all.push([x, y]);
  }
  const pick = all.length <= k
    ? all
    : Array.from({ length: k }, (_, i) => all[Math.floor((i + 0.5) * all.length / k)]);
  return pick.map(([x0, y0]) => {
    const data = new Uint8Array(P * P * 3);
    for (let r = 0; r < P; r++) {
      const from = 3 * ((y0 + r) * img.width + x0);
      data.set(img.data.subarray(from, from + 3 * P), 3 * r * P);
    }
    return { width: P, height: P, data };
  });
}

/**
 * Each image's patch features, one row per patch, and each row's image (numbered among the images
 * kept); an image with no whole patch is left out and named in `tooSmall`.
 */
async function features(paths: string[], k: number, what: string) {
  const rows: Float32Array[] = [], image: number[] = [], kept: number[] = [];
  const tooSmall: string[] = [];
  for (const [i, path] of paths.entries()) {
    const patches = gridPatches(await readImage(path), k);
    if (patches.length === 0) tooSmall.push(path);
    else {
      for (const p of patches) {
        rows.push(residualFeatures(p));
        image.push(kept.length);
      }
      kept.push(i);
    }
    if ((i + 1) % 200 === 0) console.error(`${what}: ${i + 1}/${paths.length}`);
  }
  const x = new Float32Array(rows.length * RESIDUAL_DIM);
  rows.forEach((r, j) => x.set(r, j * RESIDUAL_DIM));
  return { x, n: rows.length, image, images: kept.length, kept, tooSmall };
}

/** Patch rows and their images, as {@link imageScores} reads them. */
type Patches = { x: Float32Array; n: number; image: number[]; images: number };

/** The rows of `f` whose image is in `keep`, and their images renumbered. */
function subset(f: Patches, keep: Set<number>): Patches {
  const idx: number[] = [];
  for (let r = 0; r < f.n; r++) if (keep.has(f.image[r])) idx.push(r);
  const x = rows(f.x, RESIDUAL_DIM, idx);
  const renum = new Map([...keep].sort((a, b) => a - b).map((v, j) => [v, j]));
  return { x, n: idx.length, image: idx.map((r) => renum.get(f.image[r])!), images: keep.size };
}

const AGGREGATES = {
  mean,
  q90: (v: number[]) => quantile(v, 0.9),
  max: (v: number[]) => Math.max(...v),
};
type Aggregate = keyof typeof AGGREGATES;

/** Per image, each aggregate of its patches' scores. */
async function imageScores(m: GaussianOneClass, f: Patches): Promise<Record<Aggregate, number[]>> {
  const s = await m.scoreSamples(f.x, f.n);
  const per: number[][] = Array.from({ length: f.images }, () => []);
  for (let r = 0; r < f.n; r++) per[f.image[r]].push(s[r]);
  return Object.fromEntries(
    Object.entries(AGGREGATES).map(([k, fn]) => [k, per.map((v) => v.length ? fn(v) : NaN)]),
  ) as Record<Aggregate, number[]>;
}

/** What {@link patchLevel} is given. */
export interface PatchLevelOptions {
  /** The photographs' dataset folder (label 0; `Group` = source). */
  natural: string;
  /** Another CSV for it. */
  naturalCsv?: string;
  /** Render datasets, `DIR` or `DIR::CSV`: their labels 1..K, grouped by top folder. */
  renders: string[];
  /** Patches per image at most (default 16). */
  patches?: number;
  /** Folds of sources (default 5). */
  folds?: number;
  /** Principal components of the Gaussian (default 64). */
  pca?: number;
}

/** Per render folder and image score: AUC and share called CG, one value per fold. */
export interface PatchLevelResult {
  photographs: number;
  sources: number;
  /** The settings it ran with. */
  patches: number;
  folds: number;
  pca: number;
  /** Images with no whole 64 x 64 patch, left out (their paths). */
  tooSmall: string[];
  /** Natural recall of each fold's photographs at its threshold, per image score. */
  recall: Record<Aggregate, number[]>;
  rows: {
    folder: string;
    n: number;
    auc: Record<Aggregate, number[]>;
    cg: Record<Aggregate, number[]>;
  }[];
}

/**
 * Each source's fold: whole sources, dealt in the order of their names. At least three folds (one
 * tested, one setting the threshold, the others fitted on), and no more than there are sources.
 *
 * @example
 * ```ts
 * import { sourceFolds } from "./patches.ts";
 * console.log(sourceFolds(["b", "a", "c", "a", "d"], 3)); // Map(4) { "a" => 0, "b" => 1, "c" => 2, "d" => 0 }
 * ```
 */
export function sourceFolds(groups: string[], folds: number): Map<string, number> {
  const sources = [...new Set(groups)].sort();
  if (!(Number.isInteger(folds) && folds >= 3 && folds <= sources.length)) {
    throw new RangeError(
      `folds: a whole number from 3 to the ${sources.length} sources, not ${folds}`,
    );
  }
  return new Map(sources.map((s, i) => [s, i % folds]));
}

/**
 * Runs the protocol of the module documentation.
 *
 * @example The shipped dataset's photographs against its renders
 * ```ts
 * import { patchLevel } from "./patches.ts";
 * const r = await patchLevel({ natural: "dataset", renders: ["dataset"], folds: 3, patches: 4, pca: 8 });
 * console.log(r.rows.map((x) => x.folder)); // [ "Cycles", "EEVEE", "POVRay" ]
 * ```
 */
export async function patchLevel(o: PatchLevelOptions): Promise<PatchLevelResult> {
  const k = o.patches ?? PATCH_DEFAULTS.patches, pca = o.pca ?? PATCH_DEFAULTS.pca;
  const folds = o.folds ?? PATCH_DEFAULTS.folds;
  await initBackend("auto");
  const nat = await loadDataset(o.natural, { csv: o.naturalCsv, naturalOnly: true });
  const allPhotos = nat.images.filter((e) => e.label === 0);
  const allRenders: { folder: string; path: string }[] = [];
  for (const spec of o.renders) {
    const [dir, csv] = spec.split("::");
    const ds = await loadDataset(dir, { csv });
    for (const e of ds.images.filter((e) => e.label > 0)) {
      allRenders.push({ folder: e.name.split("/")[0], path: e.path });
    }
  }
  const nf = await features(allPhotos.map((e) => e.path), k, "photographs");
  const rf = await features(allRenders.map((r) => r.path), k, "renders");
  const photos = nf.kept.map((i) => allPhotos[i]), renders = rf.kept.map((i) => allRenders[i]);
  const tooSmall = [...nf.tooSmall, ...rf.tooSmall];
  // whole sources in folds, by the order of their names: one tested, one sets the threshold, the
  // others are fitted on, so at least three, and no more than there are sources
  const foldOf = sourceFolds(photos.map((e) => e.group), folds);
  const sources = [...foldOf.keys()];
  const aggs = Object.keys(AGGREGATES) as Aggregate[];
  const per = () =>
    Object.fromEntries(aggs.map((g) => [g, [] as number[]])) as Record<Aggregate, number[]>;
  const rows = [...new Set(renders.map((r) => r.folder))].map((folder) => ({
    folder,
    n: renders.filter((r) => r.folder === folder).length,
    auc: per(),
    cg: per(),
  }));
  const recall = per();
  for (let f = 0; f < folds; f++) {
    // fold f is tested, the next one sets the threshold, the others are fitted on
    const calib = (f + 1) % folds;
    const fitImgs = new Set<number>(), calImgs = new Set<number>(), testImgs = new Set<number>();
    photos.forEach((e, i) => {
      const g = foldOf.get(e.group)!;
      (g === f ? testImgs : g === calib ? calImgs : fitImgs).add(i);
    });
    const fit = subset(nf, fitImgs);
    const m = new GaussianOneClass({ pca, threshold: "train" });
    await m.fit(fit.x, fit.n, RESIDUAL_DIM);
    const cal = await imageScores(m, subset(nf, calImgs));
    const test = await imageScores(m, subset(nf, testImgs));
    const ren = await imageScores(m, rf);
    for (const agg of aggs) {
      const t = quantile(cal[agg], 1 - DEFAULT_NU);
      recall[agg].push(test[agg].filter((v) => v <= t).length / test[agg].length);
      for (const row of rows) {
        const mine = ren[agg].filter((_, i) => renders[i].folder === row.folder);
        row.auc[agg].push(
          rocAuc([...test[agg], ...mine], [...test[agg].map(() => 0), ...mine.map(() => 1)]),
        );
        row.cg[agg].push(mine.filter((v) => v > t).length / mine.length);
      }
    }
    console.error(
      `fold ${f + 1}/${folds}: ${fit.images} photographs fitted, ${testImgs.size} tested`,
    );
  }
  return {
    photographs: photos.length,
    sources: sources.length,
    patches: k,
    folds,
    pca,
    tooSmall,
    recall,
    rows,
  };
}

/**
 * The result as a markdown table.
 *
 * @example
 * ```ts
 * import { patchLevel, patchTable } from "./patches.ts";
 * const r = await patchLevel({ natural: "dataset", renders: ["dataset"], folds: 3, patches: 4, pca: 8 });
 * console.log(patchTable(r).split("\n")[0]); // # Patch-level residual Gaussian: 40 photographs of 40 sources in 3 folds, ...
 * ```
 */
export function patchTable(r: PatchLevelResult): string {
  const f2 = (v: number) => v.toFixed(2);
  const aggs = Object.keys(AGGREGATES) as Aggregate[];
  return [
    `# Patch-level residual Gaussian: ${r.photographs} photographs of ${r.sources} sources in ` +
    `${r.folds} folds, ${r.patches} patches per image at most, PCA ${r.pca}`,
    "",
    "Natural recall of the held-out folds at the threshold (mean over folds): " +
    aggs.map((g) => `${g} ${f2(mean(r.recall[g]))}`).join(", "),
    "",
    "| renders | n | AUC mean (min–max over folds) | called CG | AUC q90 | called CG | AUC max | called CG |",
    "| --- | --: | --- | --: | --- | --: | --- | --: |",
    ...r.rows.map((row) =>
      `| ${row.folder} | ${row.n} | ` + aggs.map((g) =>
        `${f2(mean(row.auc[g]))} (${f2(Math.min(...row.auc[g]))}–${
          f2(Math.max(...row.auc[g]))
        }) | ` +
        f2(mean(row.cg[g]))
      ).join(" | ") + " |"
    ),
  ].join("\n") + "\n";
}

if (import.meta.main) {
  const { values: a } = parseArgs({
    options: {
      natural: { type: "string" },
      "natural-csv": { type: "string" },
      renders: { type: "string", multiple: true },
      patches: { type: "string", default: String(PATCH_DEFAULTS.patches) },
      folds: { type: "string", default: String(PATCH_DEFAULTS.folds) },
      pca: { type: "string", default: String(PATCH_DEFAULTS.pca) },
      out: { type: "string" },
    },
  });
  if (!a.natural || !a.renders?.length || !a.out) {
    console.error("usage: --natural DIR [--natural-csv CSV] --renders DIR[::CSV] ... --out FILE");
    Deno.exit(2);
  }
  const o = {
    natural: a.natural,
    naturalCsv: a["natural-csv"],
    renders: a.renders,
    patches: Number(a.patches),
    folds: Number(a.folds),
    pca: Number(a.pca),
  };
  const r = await patchLevel(o);
  if (r.tooSmall.length) console.error(`left out (no whole patch): ${r.tooSmall.join(", ")}`);
  const table = patchTable(r);
  await Deno.writeTextFile(a.out, table);
  console.log(table);
}
