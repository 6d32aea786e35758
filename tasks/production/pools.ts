/**
 * The two pools of photographs of the production-like render set (issue 27), kept apart:
 *
 * - the **texture pool** (`tasks/production/textures.csv`): photographs used as the renders'
 *   image textures and environment maps, two whole sources of the natural corpus's gatherer
 *   (`urban100` and `sunhays80`, Flickr photographs);
 * - the **natural pool**: the photographs the renders are compared with, the natural corpus
 *   (`tasks/natural/manifest.csv`, the record of `deno task make-natural`'s output) less every
 *   source of the texture pool, and less every source that holds one of cgbench's photographs
 *   (the shipped detector was fitted on those), so that every photograph comes from a source the
 *   shipped detector never saw.
 *
 * The pools are disjoint by source and by content: {@link naturalPool} refuses a photograph whose
 * bytes or decoded pixels are a texture's (the same photograph stored twice, or in another
 * format), naming both files.
 *
 * @module
 */

import { parseCsvRecords } from "../../lib/data/csv.ts";

/** One photograph of a manifest. */
export interface PoolFile {
  /** Path as the manifest names it: `<source>/<file>`. */
  name: string;
  /** Its source. */
  source: string;
  /** SHA-256 of its bytes. */
  sha256: string;
  /** SHA-256 of its decoded pixels (lib/data/corpus.ts `pixelHash`). */
  pixels: string;
  /** Where it came from (repository@commit/path, or the original file). */
  origin: string;
}

/** Reads a manifest with the columns Name, Source, SHA256, PixelSHA256 and (optional) Origin. */
export function readManifest(text: string, file: string): PoolFile[] {
  const recs = parseCsvRecords(text, file);
  if (recs.length === 0) throw new Error(`${file}: empty (expected a header)`);
  const head = recs[0].fields;
  const col = (n: string) => head.indexOf(n);
  const [name, source, sha, pixels] = [
    col("Name"),
    col("Source"),
    col("SHA256"),
    col("PixelSHA256"),
  ];
  const origin = col("Origin");
  if (name < 0 || source < 0 || sha < 0 || pixels < 0) {
    throw new Error(
      `${file}: needs the columns Name, Source, SHA256 and PixelSHA256 (has ${head.join(",")})`,
    );
  }
  const short = recs.slice(1).find((r) => r.fields.length < head.length);
  if (short) {
    throw new Error(
      `${file}:${short.line}: ${short.fields.length} fields, the header has ${head.length}`,
    );
  }
  return recs.slice(1).map((r) => ({
    name: r.fields[name],
    source: r.fields[source],
    sha256: r.fields[sha],
    pixels: r.fields[pixels],
    origin: origin >= 0 ? r.fields[origin] : "",
  }));
}

/**
 * The natural pool: the corpus less the texture pool's sources and less every source holding one
 * of cgbench's photographs (a name with a `cgbench/` folder, as the gatherer files them; kept
 * with `keepCgbench`, for protocols that never involve the shipped detector, such as
 * leave-one-source-out). Throws when a photograph left has the bytes or the pixels of a texture.
 *
 * @example
 * ```ts
 * import { naturalPool } from "./pools.ts";
 * const corpus = [
 *   { name: "a/1.jpg", source: "a", sha256: "11", pixels: "1p", origin: "" },
 *   { name: "b/cgbench/2.png", source: "b", sha256: "22", pixels: "2p", origin: "" },
 *   { name: "t/3.png", source: "t", sha256: "33", pixels: "3p", origin: "" },
 * ];
 * const textures = [{ name: "t/3.png", source: "t", sha256: "33", pixels: "3p", origin: "" }];
 * console.log(naturalPool(corpus, textures).map((f) => f.name)); // ["a/1.jpg"]
 * ```
 */
export function naturalPool(
  corpus: PoolFile[],
  textures: PoolFile[],
  o: { keepCgbench?: boolean } = {},
): PoolFile[] {
  const textureSources = new Set(textures.map((t) => t.source));
  const seen = new Set(
    o.keepCgbench ? [] : corpus.filter((f) => f.name.includes("/cgbench/")).map((f) => f.source),
  );
  const pool = corpus.filter((f) => !textureSources.has(f.source) && !seen.has(f.source));
  const same = new Map(textures.flatMap((t) => [[t.sha256, t.name], [t.pixels, t.name]]));
  const shared = pool.filter((f) => same.has(f.sha256) || same.has(f.pixels));
  if (shared.length > 0) {
    throw new Error(
      `the natural pool and the texture pool share ${shared.length} photograph(s): ` +
        shared.slice(0, 5).map((f) => `${f.name} = ${same.get(f.sha256) ?? same.get(f.pixels)}`)
          .join("; "),
    );
  }
  return pool;
}
