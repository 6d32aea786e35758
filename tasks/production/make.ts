/**
 * Builds the production-like render set of issue 27 (docs/production.md): Blender renders of
 * seeded scenes with photographic textures and environments (render.py), a denoiser, lens and
 * film effects and camera-like output (post.py), next to photographs of sources the shipped
 * detector never saw, as one dataset folder with these CSVs (`Production` is `--label`'s name):
 *
 * - `production.csv`: `Photos/` (0) and `Production/` (1): the set, as a renderer of its own
 *   (`loso --renders-csv`, and for leave-one-renderer-out with other renderers);
 * - `dataset.csv`: `Photos/` and the ablation, one renderer label per variant: `Plain` (plain
 *   colours, procedural sky, nothing after), each production step alone on it (`Texture`,
 *   `Environment`, `Denoise`, `Distortion`, `CA`, `Glare`, `Vignette`, `Grain`, `Camera`),
 *   `Scene` (textures and environment, nothing after) and `Production` (everything), on the
 *   same seeds: which step hides a render best;
 * - `camera.csv`: `PhotosCamera/` (the photographs through the camera step: resizing and JPEG
 *   drawn as for the renders) against the two folders whose renders passed it, `Production/` and
 *   `Camera/`: both classes through the same step;
 * - `loso-natural.csv`: the natural corpus (`--natural`) less the texture pool's sources, for
 *   `loso --natural-csv` (names relative to the corpus);
 * - `with-cgbench.csv` (with `--cgbench DIR`): `Photos/`, the other dataset's renderers (their
 *   folders linked in) and `Production/` after them: the set next to the procedural renderers.
 *
 * Every image of one seed (its ablation variants too) shares the group `production-seed-N`, so a
 * split never puts one scene in two roles. `SOURCES.csv` records every file: its seed and variant, the photographs its scene used, or the
 * photograph it is. Renders already made with the same settings are kept (the run resumes).
 *
 * deno run --allow-read --allow-write --allow-run tasks/production/make.ts --out DIR \
 *   --sources /work/natural-src [--count 120] [--ablation 40] [--photos 400] [--jobs 1]
 *   [--width 512] [--height 384] [--samples 16] [--blender blender] [--python /usr/bin/python3]
 *   [--cgbench DIR] [--engine CYCLES|BLENDER_EEVEE|POVRAY [--xvfb]] [--label Production]
 *   [--first-seed 0] [--texture-source NAME[,NAME...]]
 *   [--generator scene|interior|studio|exterior|landscape|archviz|night|night-by-day|
 *    scene-night|interior-night|studio-night|exterior-night|landscape-night|campsite]
 *
 * Another renderer of the same scenes: `--engine BLENDER_EEVEE --xvfb --label ProductionEEVEE
 * --first-seed 5000 --ablation 0` into another folder (other seeds, so no scene is in both), or
 * `--engine POVRAY --label ProductionPOVRay --first-seed 7000 --ablation 0` (render_pov.py).
 * Another texture pool: `--texture-source NAME[,NAME...]` draws the textures and environments
 * from whole sources of the natural corpus instead of `textures.csv` (those sources then leave
 * the natural pool too), to ask whether a model learnt the renders or the texture pool.
 * Another scene generator: `--generator interior` (render_interior.py: furnished rooms, finished
 * in Blender's compositor, then post.py's `interior` chain; no ablation), to hold out a way of
 * making scenes and not only an engine (docs/production.md, "Another scene generator"), and
 * `--generator studio` (render_studio.py: still lifes with glass, ceramics and a shallow depth of
 * field, finished by post.py's `studio` chain) and `--generator exterior` (render_exterior.py:
 * streets of buildings, post.py's `exterior` chain) and `--generator landscape`
 * (render_landscape.py: terrain, water and trees under a sky, post.py's `landscape` chain) and
 * `--generator archviz` (render_archviz.py: a modern detached house with real glass, terrace,
 * pool and garden, seen as architectural visualisations are, lit by Blender's own CC0 HDRIs and
 * a sun or at dusk; post.py's `archviz` chain) and `--generator night` (render_night.py: a
 * night-time street as a film or a game frames it: cars with headlights and tail lights on a wet
 * road, street lamps, lit windows and shop fronts, motion blur and depth of field; post.py's
 * `night` chain), and `--generator night-by-day`, the same streets seed for seed by day (a sun
 * and a day HDRI, nothing lit; the same chain), and `--generator scene-night`, `interior-night`,
 * `studio-night`, `exterior-night` and `landscape-night`, the five training generators' scenes
 * seed for seed at night (_blender.py `by_night`: world and sun dimmed to moonlight, lamps as
 * they were, the exposure graded; their own chains); none of them but `scene` has an ablation,
 * and `scene-night` renders none either; and `--generator campsite` (render_campsite.py: a
 * campsite in a forest clearing at night, tents, chairs and lanterns round a campfire that
 * lights them, trees against a dim sky; post.py's `campsite` chain), no ablation.
 *
 * `--sources` is the folder `tasks/natural/gather.ts` fills (the texture pool's files are checked
 * against `textures.csv`); the photographs are the natural corpus's (`--natural runs/natural`,
 * checked against `tasks/natural/manifest.csv`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";
import { formatCsv, parseDatasetCsv } from "../../lib/data/csv.ts";
import { fileSha256 } from "../../lib/core/bundle.ts";
import { Rng } from "../../lib/core/rng.ts";
import { naturalPool, type PoolFile, readManifest } from "./pools.ts";
import {
  type Engine,
  ENGINES,
  type Generator,
  GENERATORS,
  type PostJob,
  postProcess,
  renderScene,
} from "./run.ts";

const HERE = dirname(new URL(import.meta.url).pathname);
const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string" },
    sources: { type: "string" },
    natural: { type: "string", default: "runs/natural" },
    count: { type: "string", default: "120" },
    ablation: { type: "string" },
    photos: { type: "string", default: "400" },
    jobs: { type: "string", default: "1" },
    width: { type: "string", default: "512" },
    height: { type: "string", default: "384" },
    samples: { type: "string", default: "16" },
    blender: { type: "string", default: "blender" },
    python: { type: "string", default: "/usr/bin/python3" },
    cgbench: { type: "string" },
    engine: { type: "string", default: "CYCLES" },
    generator: { type: "string", default: "scene" },
    label: { type: "string", default: "Production" },
    xvfb: { type: "boolean", default: false },
    "first-seed": { type: "string", default: "0" },
    "texture-source": { type: "string" },
  },
});
if (!v.out || !v.sources) throw new Error("give --out DIR and --sources DIR (see the header)");
const out = resolve(v.out), sourcesDir = resolve(v.sources), corpusDir = resolve(v.natural!);
const generator = v.generator as Generator;
if (!GENERATORS.includes(generator)) {
  throw new Error(`--generator is one of ${GENERATORS.join(", ")}, not ${generator}`);
}
// the ablation is render.py's and post.py's production chain; the other generators have none
const ablationDefault = generator === "scene" ? "40" : "0";
const count = Number(v.count), ablation = Math.min(Number(v.ablation ?? ablationDefault), count);
if (generator !== "scene" && ablation > 0) {
  throw new Error(`--generator ${generator} has no ablation: give --ablation 0 or leave it out`);
}
const [width, height, samples] = [Number(v.width), Number(v.height), Number(v.samples)];
const engine = v.engine as Engine;
if (!ENGINES.includes(engine)) {
  throw new Error(`--engine is one of ${ENGINES.join(", ")}, not ${engine}`);
}
if (generator !== "scene" && engine === "POVRAY") {
  throw new Error(
    `--generator ${generator} renders in Blender only: --engine CYCLES or BLENDER_EEVEE`,
  );
}
const label = v.label!, first = Number(v["first-seed"]);
/** The post steps the ablation applies alone, and the folder of each. */
const ALONE = ["denoise", "distortion", "ca", "glare", "vignette", "grain", "camera"];
const folderOf = (step: string) => step === "ca" ? "CA" : step[0].toUpperCase() + step.slice(1);
const RENDERED = ["Plain", "Texture", "Environment", "Scene"];
if ([...RENDERED, ...ALONE.map(folderOf), "Photos", "PhotosCamera"].includes(label)) {
  throw new Error(`--label ${label} is the name of another folder of the set`);
}
for (const [flag, x] of Object.entries({ count, ablation, width, height, samples, first })) {
  if (!Number.isInteger(x) || x < 0) throw new Error(`--${flag}: a whole number, not ${x}`);
}
if (!Number.isInteger(Number(v.photos)) || Number(v.photos) < 0) {
  throw new Error(`--photos: a whole number, not ${v.photos}`);
}

// ---- the pools, checked
const textures = readManifest(
  await Deno.readTextFile(join(HERE, "textures.csv")),
  join(HERE, "textures.csv"),
);
for (const t of textures) {
  const path = join(sourcesDir, t.name);
  const sha = await fileSha256(path);
  if (sha !== t.sha256) {
    throw new Error(
      `${path}: ${sha ? "not the file textures.csv lists" : "missing"} (${t.origin})`,
    );
  }
}
const manifestFile = join(HERE, "../natural/manifest.csv");
const corpus = readManifest(await Deno.readTextFile(manifestFile), manifestFile);
// --texture-source: another texture pool, whole sources of the corpus (a comma-separated list,
// checked like the photographs below); they then leave the natural pool too
const altSources = (v["texture-source"] ?? "").split(",").filter((x) => x);
const altSource = altSources.length > 0;
const altTextures = corpus.filter((f) => altSources.includes(f.source));
for (const s of altSources) {
  if (!altTextures.some((f) => f.source === s)) {
    throw new Error(`--texture-source ${s}: no such source in ${manifestFile}`);
  }
}
for (const t of altTextures) {
  if ((await fileSha256(join(corpusDir, t.name))) !== t.sha256) {
    throw new Error(`${join(corpusDir, t.name)}: missing or not the file ${manifestFile} lists`);
  }
}
const poolPaths = altSource
  ? altTextures.map((t) => join(corpusDir, t.name))
  : textures.map((t) => join(sourcesDir, t.name));
const photos = naturalPool(corpus, [...textures, ...altTextures]);
const chosen = sample(photos, Number(v.photos));
for (const p of chosen) {
  const path = join(corpusDir, p.name);
  if ((await fileSha256(path)) !== p.sha256) {
    throw new Error(`${path}: missing or not the file ${manifestFile} lists; rebuild the corpus`);
  }
}

/** `n` photographs drawn at random (seeded), in manifest order. */
function sample(files: PoolFile[], n: number): PoolFile[] {
  if (n >= files.length) return files;
  const idx = new Rng("production-photos").shuffle(files.map((_, i) => i)).slice(0, n);
  return idx.sort((a, b) => a - b).map((i) => files[i]);
}

// ---- the renders
const VARIANTS = {
  full: { texture: true, environment: true },
  plain: { texture: false, environment: false },
  texture: { texture: true, environment: false },
  environment: { texture: false, environment: true },
} as const;
type Variant = keyof typeof VARIANTS;
const renderPath = (variant: Variant, seed: number) =>
  join(out, "renders", variant, `seed-${String(seed).padStart(4, "0")}.png`);

/** JSON with its keys sorted (render.py writes its record so). */
const sorted = (o: Record<string, unknown>) => JSON.stringify(o, Object.keys(o).sort());

async function render(variant: Variant, seed: number): Promise<void> {
  const png = renderPath(variant, seed);
  const args = {
    engine: engine,
    threads: 1,
    seed,
    out: png,
    width,
    height,
    samples,
    pool: poolPaths,
    ...VARIANTS[variant],
    // only when not the default, so that the records of sets made before the option still match
    ...(generator === "scene" ? {} : { generator }),
  };
  try {
    const done = JSON.parse(await Deno.readTextFile(png + ".json")).args;
    // made with these settings (the record is written after the image)
    if (sorted(done) === sorted(args) && (await Deno.stat(png)).isFile) return;
  } catch { /* not made yet */ }
  await Deno.mkdir(dirname(png), { recursive: true });
  await renderScene(args, { blender: v.blender, xvfb: v.xvfb, python: v.python });
}

const todo: [Variant, number][] = [];
for (let s = first; s < first + count; s++) todo.push(["full", s]);
for (const variant of ["plain", "texture", "environment"] as Variant[]) {
  for (let s = first; s < first + ablation; s++) todo.push([variant, s]);
}
let next = 0, finished = 0;
const t0 = Date.now();
await Promise.all(
  Array.from({ length: Math.max(1, Number(v.jobs)) }, async () => {
    while (next < todo.length) {
      const [variant, seed] = todo[next++];
      await render(variant, seed);
      finished++;
      if (finished % 10 === 0 || finished === todo.length) {
        console.error(
          `renders: ${finished}/${todo.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
        );
      }
    }
  }),
);

// ---- after the render: the ablation's folders and the set
const id = (s: number) => String(s).padStart(4, "0");
/** Every image of one scene, whatever its variant, is in one group: a split keeps it whole. */
const groupOf = (seed: number) => `production-seed-${seed}`;
const jobs: PostJob[] = [];
/** Folder, render variant, post steps (none: the render as it is). */
/** The post.py chain of each generator's renders (the others finish in Blender or in post.py). */
const CHAIN = {
  scene: "production",
  interior: "interior",
  studio: "studio",
  exterior: "exterior",
  landscape: "landscape",
  archviz: "archviz",
  night: "night",
  "night-by-day": "night",
  "scene-night": "production",
  "interior-night": "interior",
  "studio-night": "studio",
  "exterior-night": "exterior",
  "landscape-night": "landscape",
  campsite: "campsite",
} as const;
type Chain = typeof CHAIN[Generator];
const FOLDERS: [string, Variant, string[] | Chain | null, number][] = [
  [label, "full", CHAIN[generator], count],
  ...RENDERED.map((folder, i): [string, Variant, null, number] => [
    folder,
    (["plain", "texture", "environment", "full"] as const)[i],
    null,
    ablation,
  ]),
  ...ALONE.map((step): [string, Variant, string[], number] => [
    folderOf(step),
    "plain",
    [step],
    ablation,
  ]),
];
const rows: { name: string; folder: string; seed: number; variant: string }[] = [];
for (const [folder, variant, steps, n] of FOLDERS) {
  if (n === 0) continue;
  await Deno.mkdir(join(out, folder), { recursive: true });
  for (let s = first; s < first + n; s++) {
    const jpeg = typeof steps === "string" ||
      (Array.isArray(steps) && steps.includes("camera"));
    const name = `${folder}/${folder.toLowerCase()}_${id(s)}.${jpeg ? "jpg" : "png"}`;
    rows.push({ name, folder, seed: s, variant });
    if (steps === null) {
      await Deno.copyFile(renderPath(variant, s), join(out, name));
    } else jobs.push({ in: renderPath(variant, s), out: join(out, name), seed: s, steps });
  }
}
// the photographs: as they are, and through the camera step
const photoRows: { name: string; file: PoolFile; camera: boolean }[] = [];
for (const [i, p] of chosen.entries()) {
  const link = join(out, "Photos", p.name);
  await Deno.mkdir(dirname(link), { recursive: true });
  await Deno.remove(link).catch(() => {});
  await Deno.symlink(join(corpusDir, p.name), link);
  photoRows.push({ name: `Photos/${p.name}`, file: p, camera: false });
  const cam = `PhotosCamera/${p.name.replace(/\.[^./]+$/, "")}.jpg`;
  await Deno.mkdir(dirname(join(out, cam)), { recursive: true });
  jobs.push({ in: link, out: join(out, cam), seed: 100000 + i, steps: ["camera"] });
  photoRows.push({ name: cam, file: p, camera: true });
}
await postProcess(jobs, v.python);

// ---- the CSVs
const labels = FOLDERS.filter((f) => f[3] > 0).map((f) => f[0]);
const natural = (camera: boolean) =>
  photoRows.filter((r) => r.camera === camera).map((r) => [r.name, 0, r.file.source]);
const renders = (only?: string) =>
  rows.filter((r) => !only || r.folder === only)
    .map((r) => [r.name, only ? 1 : labels.indexOf(r.folder) + 1, groupOf(r.seed)]);
const head = ["Name", "Label", "Group"];
await Deno.writeTextFile(
  join(out, "production.csv"),
  formatCsv(head, [...natural(false), ...renders(label)]),
);
await Deno.writeTextFile(
  join(out, "dataset.csv"),
  formatCsv(head, [...natural(false), ...renders()]),
);
const cameraRows = [label, "Camera"].flatMap((folder, k) =>
  rows.filter((r) => r.folder === folder).map((r) => [r.name, k + 1, groupOf(r.seed)])
);
await Deno.writeTextFile(
  join(out, "camera.csv"),
  formatCsv(head, [...natural(true), ...cameraRows]),
);
const pools = new Map([
  ...textures.map((t): [string, string] => [join(sourcesDir, t.name), t.name]),
  ...altTextures.map((t): [string, string] => [join(corpusDir, t.name), t.name]),
]);
const sources: (string | number)[][] = [];
for (const r of rows) {
  const rec = JSON.parse(
    await Deno.readTextFile(renderPath(r.variant as Variant, r.seed) + ".json"),
  );
  const used = new Set<string>();
  if (rec.world.photo) used.add(pools.get(rec.world.photo)!);
  for (const m of Object.values(rec.materials) as { photo?: string | null }[]) {
    if (m.photo) used.add(pools.get(m.photo)!);
  }
  sources.push([r.name, "render", r.seed, r.variant, [...used].sort().join(" "), ""]);
}
for (const p of photoRows) {
  sources.push([p.name, "photograph", "", p.camera ? "camera" : "", "", p.file.name]);
}
await Deno.writeTextFile(
  join(out, "SOURCES.csv"),
  formatCsv(["Name", "Kind", "Seed", "Variant", "Textures", "Photograph"], sources),
);
// the corpus less the texture pool's sources, for leave-one-source-out (names relative to it)
const corpusDs = join(corpusDir, "dataset.csv");
const losoPool = new Set(
  naturalPool(corpus, [...textures, ...altTextures], { keepCgbench: true }).map((f) => f.name),
);
await Deno.writeTextFile(
  join(out, "loso-natural.csv"),
  formatCsv(
    head,
    parseDatasetCsv(await Deno.readTextFile(corpusDs), corpusDs).filter((r) => losoPool.has(r.name))
      .map((r) => [r.name, r.label, r.group]),
  ),
);

// the set next to another dataset's renderers (cgbench's): its folders linked in, labels kept
if (v.cgbench) {
  const other = resolve(v.cgbench);
  const csvPath = join(other, "dataset.csv");
  const csv = parseDatasetCsv(await Deno.readTextFile(csvPath), csvPath);
  const cg = csv.filter((r) => r.label > 0);
  for (const folder of new Set(cg.map((r) => r.name.split("/")[0]))) {
    if (labels.includes(folder) || folder.startsWith("Photos")) {
      throw new Error(`${other}/${folder}: a folder of that name is the set's own`);
    }
    await Deno.remove(join(out, folder)).catch(() => {});
    await Deno.symlink(join(other, folder), join(out, folder));
  }
  const k = Math.max(...cg.map((r) => r.label));
  await Deno.writeTextFile(
    join(out, "with-cgbench.csv"),
    formatCsv(head, [
      ...natural(false),
      ...cg.map((r) => [r.name, r.label, r.group]),
      ...renders(label).map(([name, , group]) => [name, k + 1, group]),
    ]),
  );
}
console.error(`wrote ${out}: ${rows.length} renders, ${photoRows.length} photographs`);
