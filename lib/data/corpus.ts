/**
 * A natural-image corpus from folders of photographs: each folder is a **source** (a camera, a
 * collection, a package), copied as it is into `OUT/<source>/…` — never resized or re-encoded —
 * with a `dataset.csv` (every image label 0; `Group` = its source, or its camera, so splits and
 * leave-one-source-out keep a group whole) and a `SOURCES.csv` recording each file's source,
 * original path, licence as stated, camera make and model from EXIF, original size, format and a
 * SHA-256 of its decoded pixels. The same pixels twice (a photograph in two collections) are kept
 * once (`duplicates.csv`); a file that cannot be read is named and skipped (`skipped.txt`).
 *
 * Building again with more sources adds them: the rows, duplicates and skipped files of sources
 * not given are kept, files already copied (the same bytes) are not copied again, and the CSVs
 * are written whole at the end (atomically).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, join, relative, resolve } from "node:path";
import { DatasetError, ImageError } from "../core/errors.ts";
import { atomicWrite, exists } from "../core/files.ts";
import type { Progress } from "../core/progress.ts";
import { formatCsv, parseCsvRecords } from "./csv.ts";
import { decodeImage, readImageFile, sniffImage } from "./decode.ts";
import { listImages } from "./manifest.ts";
import { fileMeta } from "./_meta.ts";

/** One folder of photographs. */
export interface CorpusSource {
  /** Its name: the folder it gets in the corpus (letters, digits, `.`, `_`, `-`). */
  name: string;
  /** The folder (searched recursively). */
  dir: string;
  /** The licence or terms, as the source states them. */
  licence?: string;
  /** Only files whose path relative to `dir` matches this (a regular expression). */
  include?: string;
  /** Not files whose path relative to `dir` matches this. */
  exclude?: string;
}

/** Options of {@link buildNaturalCorpus}. */
export interface CorpusOptions {
  /** The corpus folder (created; a corpus built before is added to). */
  out: string;
  /** The sources, in order: of two identical images, the first one's is kept. */
  sources: CorpusSource[];
  /** What `Group` holds: the source (default) or the camera make and model (else the source). */
  group?: "source" | "camera";
  /** Hard-link files instead of copying them (same file system). */
  link?: boolean;
  /** Refuse images with more pixels (default: the decoder's limit). */
  maxPixels?: number;
  /** Log sink. */
  progress?: Progress;
}

/** One photograph of the corpus (a row of `SOURCES.csv`). */
export interface CorpusRow {
  /** Name in `dataset.csv`: `<source>/<path in the source folder>`. */
  name: string;
  /** Its source. */
  source: string;
  /** Where it was copied from. */
  original: string;
  /** Licence as stated. */
  licence: string;
  /** Camera make (EXIF), or empty. */
  make: string;
  /** Camera model (EXIF), or empty. */
  model: string;
  /** Width as stored. */
  width: number;
  /** Height as stored. */
  height: number;
  /** File format. */
  format: string;
  /** File size. */
  bytes: number;
  /** SHA-256 of the decoded pixels (width, height and RGB bytes). */
  sha256: string;
}

/** What {@link buildNaturalCorpus} did. */
export interface CorpusResult {
  /** Every photograph now in the corpus, sources in order. */
  rows: CorpusRow[];
  /** Files left out as copies of a kept one: their original path and the kept image's name. */
  duplicates: { original: string; source: string; same: string }[];
  /** Files that could not be read, with the reason. */
  skipped: { path: string; reason: string }[];
}

const HEADER = [
  "Name",
  "Source",
  "Original",
  "Licence",
  "Make",
  "Model",
  "Width",
  "Height",
  "Format",
  "Bytes",
  "SHA256",
];

/**
 * SHA-256 of decoded pixels (`SOURCES.csv`'s `SHA256`): the same photograph stored twice, in two
 * formats say, hashes the same.
 *
 * @example
 * ```ts
 * import { pixelHash } from "./corpus.ts";
 * const a = pixelHash(1, 1, new Uint8Array([1, 2, 3]));
 * console.log(a === pixelHash(1, 1, new Uint8Array([1, 2, 3])), a.length); // true 64
 * ```
 */
export function pixelHash(width: number, height: number, data: Uint8Array): string {
  return createHash("sha256").update(`${width}x${height}\n`).update(data).digest("hex");
}

/** The rows of a corpus's `SOURCES.csv`, if it has one. */
async function readRows(file: string): Promise<CorpusRow[]> {
  if (!(await exists(file))) return [];
  const recs = parseCsvRecords(await Deno.readTextFile(file), file);
  const head = recs[0]?.fields ?? [];
  if (HEADER.some((h, i) => head[i] !== h)) {
    throw new DatasetError(file, `not a corpus's SOURCES.csv (header ${head.join(",")})`);
  }
  return recs.slice(1).map(({ fields: f }) => ({
    name: f[0],
    source: f[1],
    original: f[2],
    licence: f[3],
    make: f[4],
    model: f[5],
    width: Number(f[6]),
    height: Number(f[7]),
    format: f[8],
    bytes: Number(f[9]),
    sha256: f[10],
  }));
}

/** The records of a corpus's `duplicates.csv`, if it has one. */
async function readDuplicates(file: string): Promise<CorpusResult["duplicates"]> {
  if (!(await exists(file))) return [];
  return parseCsvRecords(await Deno.readTextFile(file), file).slice(1)
    .map(({ fields: f }) => ({ original: f[0], source: f[1], same: f[2] }));
}

/**
 * The records of a corpus's `skipped.txt` (`path: reason` per line), if it has one. A path may
 * itself hold ": ", so a line is split at the first ": " after which the path names a file that
 * exists (an unreadable file is usually still there), else at its first ": ".
 */
async function readSkipped(file: string): Promise<CorpusResult["skipped"]> {
  if (!(await exists(file))) return [];
  const records: CorpusResult["skipped"] = [];
  for (const line of (await Deno.readTextFile(file)).split("\n").filter(Boolean)) {
    const splits: number[] = [];
    for (let at = line.indexOf(": "); at >= 0; at = line.indexOf(": ", at + 1)) splits.push(at);
    let at = splits[0] ?? -1;
    for (const s of splits) {
      if (await Deno.stat(line.slice(0, s)).then((st) => st.isFile, () => false)) {
        at = s;
        break;
      }
    }
    records.push(
      at < 0 ? { path: line, reason: "" } : { path: line.slice(0, at), reason: line.slice(at + 2) },
    );
  }
  return records;
}

/** Whether `file` exists and holds exactly `bytes`. */
async function sameBytes(file: string, bytes: Uint8Array): Promise<boolean> {
  const there = await Deno.stat(file).then((st) => st.size, () => -1);
  if (there !== bytes.length) return false;
  const old = await Deno.readFile(file);
  for (let i = 0; i < old.length; i++) if (old[i] !== bytes[i]) return false;
  return true;
}

/**
 * Builds (or adds to) a natural-image corpus (see the module documentation).
 *
 * @example Two folders of photographs, one photograph in both
 * ```ts
 * import { buildNaturalCorpus } from "./mod.ts";
 * const a = await Deno.makeTempDir(), b = await Deno.makeTempDir(), out = await Deno.makeTempDir();
 * await Deno.copyFile("dataset/Photos/photo_00001.png", `${a}/one.png`);
 * await Deno.copyFile("dataset/Photos/photo_00010.png", `${a}/two.png`);
 * await Deno.copyFile("dataset/Photos/photo_00001.png", `${b}/again.png`);
 * const r = await buildNaturalCorpus({ out, sources: [{ name: "a", dir: a }, { name: "b", dir: b }] });
 * console.log(r.rows.map((x) => x.name), r.duplicates.length); // ["a/one.png", "a/two.png"] 1
 * ```
 */
export async function buildNaturalCorpus(o: CorpusOptions): Promise<CorpusResult> {
  const out = resolve(o.out), log = o.progress;
  const given = new Set<string>();
  for (const s of o.sources) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(s.name)) {
      throw new DatasetError(s.dir, `bad source name "${s.name}": letters, digits, '.', '_', '-'`);
    }
    if (given.has(s.name)) throw new DatasetError(s.dir, `source "${s.name}" given twice`);
    given.add(s.name);
    if (!(await Deno.stat(s.dir).then((st) => st.isDirectory, () => false))) {
      throw new DatasetError(s.dir, `source "${s.name}": not a folder`);
    }
  }
  await Deno.mkdir(out, { recursive: true });
  const kept = (await readRows(join(out, "SOURCES.csv"))).filter((r) => !given.has(r.source));
  const rows: CorpusRow[] = [...kept];
  const seen = new Map(kept.map((r) => [r.sha256, r.name]));
  // the records of the sources not given this time; a skipped file is known by its folder
  const dirs = o.sources.map((s) => resolve(s.dir));
  const mine = (path: string) => dirs.some((d) => !relative(d, resolve(path)).startsWith(".."));
  const duplicates = (await readDuplicates(join(out, "duplicates.csv")))
    .filter((d) => !given.has(d.source));
  const skipped = (await readSkipped(join(out, "skipped.txt"))).filter((x) => !mine(x.path));
  for (const s of o.sources) {
    const include = s.include ? new RegExp(s.include) : undefined;
    const exclude = s.exclude ? new RegExp(s.exclude) : undefined;
    const files = (await listImages(s.dir)).filter((p) => {
      const rel = relative(s.dir, p);
      return (!include || include.test(rel)) && !(exclude && exclude.test(rel));
    });
    log?.start(`source ${s.name}`, files.length);
    for (const path of files) {
      log?.tick();
      let bytes: Uint8Array, row: CorpusRow;
      try {
        bytes = await readImageFile(path);
        const info = sniffImage(bytes, path);
        const img = await decodeImage(bytes, path, { maxPixels: o.maxPixels, onWarning: () => {} });
        const camera = info.format === "jpeg" || info.format === "png" || info.format === "tiff"
          ? fileMeta(bytes, info.format).camera
          : undefined;
        row = {
          name: `${s.name}/${relative(s.dir, path).split("\\").join("/")}`,
          source: s.name,
          original: resolve(path),
          licence: s.licence ?? "",
          make: camera?.make ?? "",
          model: camera?.model ?? "",
          width: info.width || img.width,
          height: info.height || img.height,
          format: info.format,
          bytes: bytes.length,
          sha256: pixelHash(img.width, img.height, img.data),
        };
      } catch (e) {
        if (!(e instanceof ImageError)) throw e;
        skipped.push({ path, reason: e.reason });
        log?.log(`skipped ${e.message}`);
        continue;
      }
      const same = seen.get(row.sha256);
      if (same) {
        duplicates.push({ original: row.original, source: s.name, same });
        continue;
      }
      seen.set(row.sha256, row.name);
      const target = join(out, row.name);
      if (!(await sameBytes(target, bytes))) {
        await Deno.mkdir(join(target, ".."), { recursive: true });
        const tmp = `${target}.part`;
        await Deno.remove(tmp).catch(() => {});
        if (o.link) await Deno.link(path, tmp);
        else await Deno.writeFile(tmp, bytes);
        await Deno.rename(tmp, target);
      }
      rows.push(row);
    }
    log?.end();
  }
  const group = (r: CorpusRow) =>
    o.group === "camera" && (r.make || r.model) ? `${r.make} ${r.model}`.trim() : r.source;
  await atomicWrite(
    join(out, "dataset.csv"),
    formatCsv(["Name", "Label", "Group"], rows.map((r) => [r.name, 0, group(r)])),
  );
  await atomicWrite(
    join(out, "SOURCES.csv"),
    formatCsv(
      HEADER,
      rows.map((r) => [
        r.name,
        r.source,
        r.original,
        r.licence,
        r.make,
        r.model,
        r.width,
        r.height,
        r.format,
        r.bytes,
        r.sha256,
      ]),
    ),
  );
  await atomicWrite(
    join(out, "duplicates.csv"),
    formatCsv(
      ["Original", "Source", "Same"],
      duplicates.map((d) => [d.original, d.source, d.same]),
    ),
  );
  await atomicWrite(
    join(out, "skipped.txt"),
    skipped.map((x) => `${x.path}: ${x.reason}`).join("\n") + (skipped.length ? "\n" : ""),
  );
  log?.log(
    `${rows.length} photographs from ${new Set(rows.map((r) => r.source)).size} sources in ${out}` +
      ` (${duplicates.length} duplicates left out, ${skipped.length} unreadable files skipped` +
      `${skipped.length ? `: ${basename(join(out, "skipped.txt"))}` : ""})`,
  );
  return { rows, duplicates, skipped };
}
