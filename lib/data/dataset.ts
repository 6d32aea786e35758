/**
 * A dataset on disk: a folder of images plus its `dataset.csv`. Loading it checks that every
 * listed file exists and that the labels form 0 (natural) and 1..K (renderers) without gaps,
 * and names each class after the top-level folder its images live in (`RAISE`, `VRay`, ...).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { DatasetError } from "../core/errors.ts";
import { type DatasetRow, parseDatasetCsv } from "./csv.ts";

/** One image of a dataset. */
export interface ImageEntry {
  /** Name as in `dataset.csv` (relative to the dataset root). */
  name: string;
  /** Absolute path. */
  path: string;
  /** 0 = natural, k = renderer k. */
  label: number;
  /** Split group (the `Group` column, else the name). */
  group: string;
  /** Top-level folder (e.g. `RAISE`, `VISION`, `VRay`); splits are stratified by it. */
  source: string;
  /** Line in `dataset.csv`. */
  line: number;
}

/** One class of a dataset. */
export interface ClassInfo {
  /** 0 = natural, k = renderer k. */
  label: number;
  /** Folder name of its images (joined with `+` if they span several), `natural` for 0. */
  name: string;
  /** Top-level folders its images come from. */
  sources: string[];
  /** Number of images. */
  count: number;
}

/** A loaded dataset. */
export interface Dataset {
  /** Absolute dataset folder. */
  root: string;
  /** The CSV it was read from. */
  csvPath: string;
  /** Every image, in CSV order. */
  images: ImageEntry[];
  /** Classes by label, 0 first. */
  classes: ClassInfo[];
}

/** The top-level folder of a dataset-relative name (`.` for files at the root). */
export function sourceOf(name: string): string {
  const i = name.indexOf("/");
  return i < 0 ? "." : name.slice(0, i);
}

/** Builds entries and class summaries from parsed rows (no file access). */
export function describeRows(
  root: string,
  rows: DatasetRow[],
  csvPath = join(root, "dataset.csv"),
  naturalOnly = false,
  rendersOnly = false,
): Dataset {
  const images = rows.map((r) => ({
    name: r.name,
    path: join(root, r.name),
    label: r.label,
    group: r.group,
    source: sourceOf(r.name),
    line: r.line,
  }));
  const labels = [...new Set(images.map((i) => i.label))].sort((a, b) => a - b);
  const maxLabel = labels[labels.length - 1];
  const missing = [];
  for (let l = rendersOnly ? 1 : 0; l <= maxLabel; l++) if (!labels.includes(l)) missing.push(l);
  if (missing.length > 0) {
    throw new DatasetError(
      csvPath,
      `label(s) ${missing.join(", ")} have no images (labels present: ${labels.join(", ")}); ` +
        "labels must be 0 (natural) and 1..K (renderers) without gaps",
    );
  }
  if (maxLabel === 0 && !naturalOnly) {
    throw new DatasetError(csvPath, "only natural images (label 0): no renderer to detect");
  }
  const classes: ClassInfo[] = labels.map((label) => {
    const mine = images.filter((i) => i.label === label);
    const sources = [...new Set(mine.map((i) => i.source))].sort();
    return {
      label,
      name: label === 0 ? "natural" : sources.join("+"),
      sources,
      count: mine.length,
    };
  });
  return { root, csvPath, images, classes };
}

/** Options for {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** CSV path (default `<root>/dataset.csv`). */
  csv?: string;
  /** Check that every listed file exists (default true). */
  checkFiles?: boolean;
  /** Accept a dataset of natural images only (a corpus of photographs; default false). */
  naturalOnly?: boolean;
  /** Accept a dataset without natural images (renders only, labels 1..K; default false). */
  rendersOnly?: boolean;
}

/** The dataset folder unless told another (`--data`): the small one shipped in `dataset/`. */
export const DEFAULT_DATA = "dataset";

/**
 * Reads `<root>/dataset.csv` and checks it against the folder. Throws {@link DatasetError}
 * listing missing files with their CSV line numbers.
 *
 * @example A dataset folder and its classes
 * ```ts
 * import { loadDataset } from "./mod.ts";
 * const ds = await loadDataset("dataset");
 * console.log(ds.classes.map((c) => `${c.label} ${c.name}: ${c.count}`));
 * ```
 */
export async function loadDataset(root: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  root = resolve(root);
  const csvPath = opts.csv ? resolve(opts.csv) : join(root, "dataset.csv");
  let text: string;
  try {
    text = await Deno.readTextFile(csvPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      try {
        await Deno.stat(root);
      } catch {
        throw new DatasetError(root, "dataset folder not found");
      }
      throw new DatasetError(
        csvPath,
        "not found: a dataset needs a dataset.csv (Name,Label); `deno task manifest DIR --natural A,B` writes one",
      );
    }
    throw new DatasetError(csvPath, `cannot read: ${(e as Error).message}`);
  }
  const ds = describeRows(
    root,
    parseDatasetCsv(text, csvPath),
    csvPath,
    opts.naturalOnly,
    opts.rendersOnly,
  );
  if (opts.checkFiles !== false) {
    const missing: string[] = [];
    await Promise.all(ds.images.map(async (img) => {
      try {
        const st = await Deno.stat(img.path);
        if (!st.isFile) missing.push(`line ${img.line}: ${img.name} (not a file)`);
      } catch {
        missing.push(`line ${img.line}: ${img.name}`);
      }
    }));
    if (missing.length > 0) {
      missing.sort((a, b) => Number(a.split(/[ :]/)[1]) - Number(b.split(/[ :]/)[1]));
      const more = missing.length > 10 ? ` (and ${missing.length - 10} more)` : "";
      throw new DatasetError(
        csvPath,
        `${missing.length} listed file(s) missing: ${missing.slice(0, 10).join("; ")}${more}`,
      );
    }
  }
  return ds;
}

/** A one-line summary per class, e.g. `1 Cycles: 31 images`. */
export function summarize(ds: Dataset): string[] {
  return ds.classes.map((c) => `${c.label} ${c.name}: ${c.count} images`);
}
