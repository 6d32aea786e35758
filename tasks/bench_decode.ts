/**
 * Image input at camera scale: decode time, decode + score time and peak resident memory for
 * JPEG and TIFF at 1, 6, 24 and 48 megapixels, on both decoding paths, next to Pillow decoding
 * the same files in the same run.
 *
 *   deno task bench-decode [--dir DIR] [--write docs/bench.md]
 *
 * The files are made here, deterministically: the shipped photograph `photo_00001.png` enlarged
 * (Lanczos) to each size with Gaussian noise of σ 3 added (a camera's noise, so the JPEG's
 * entropy is a photograph's, not a drawing's), saved as JPEG quality 92 (4:2:0) and as
 * uncompressed 8-bit TIFF (as RAISE is distributed).
 *
 * Each measurement runs in its own process pinned to one core (`taskset -c 0` where it exists)
 * with one thread, under tasks/py/measure.py (peak RSS of the child):
 *
 * - `libvips`: decoding through libvips, the shipped detector on the native backend (what
 *   `deno task detect` does);
 * - `wasm`: decoding on the WebAssembly path, the detector on the WebAssembly backend (what
 *   `deno task strict detect` does);
 * - Pillow (Debian's python3-pil): `Image.open(f).convert("RGB")`.
 *
 * "decode" is reading and decoding the file; "+ score" adds everything `detect` does after
 * (the JPEG round trip the detector was fitted with, the residual features, the head's tiles),
 * with the detector already loaded. The whole `detect` process on the 24-megapixel JPEG,
 * start-up included, is timed too.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, runCommand, str } from "../cli/_args.ts";
import { initBackend, setThreads } from "../lib/backends/select.ts";
import { sharpModule } from "../lib/core/deps.ts";
import { Rng } from "../lib/core/rng.ts";
import { readImage, setDecoder } from "../lib/data/decode.ts";
import { loadDetector } from "../lib/detect/detector.ts";
import { spawn, writeSection } from "./bench.ts";

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SIZES: [number, number, number][] = [[1, 1224, 816], [6, 3000, 2000], [24, 6000, 4000], [
  48,
  8484,
  5656,
]];

/** Writes the test files (once; kept between runs). */
async function makeFiles(dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const sharp = await sharpModule();
  const files: string[] = [];
  for (const [mp, w, h] of SIZES) {
    const jpg = join(dir, `${mp}mp.jpg`), tif = join(dir, `${mp}mp.tif`);
    files.push(jpg, tif);
    if (await Deno.stat(tif).then(() => true, () => false)) continue;
    const big = await sharp(join(ROOT, "dataset/Photos/photo_00001.png"))
      .resize(w, h, { kernel: "lanczos3" }).raw().toBuffer();
    const rng = new Rng(`bench-decode:${mp}`);
    for (let i = 0; i < big.length; i++) {
      big[i] = Math.max(0, Math.min(255, Math.round(big[i] + 3 * rng.normal())));
    }
    const raw = { raw: { width: w, height: h, channels: 3 as const } };
    await sharp(big, raw).jpeg({ quality: 92 }).toFile(jpg);
    await sharp(big, raw).tiff({ compression: "none" }).toFile(tif);
  }
  return files;
}

/** One measurement in this process: decode, then decode and score; prints a JSON line. */
async function worker(file: string, path: "libvips" | "wasm") {
  setThreads(1);
  setDecoder(path);
  await initBackend(path === "libvips" ? "native" : "wasm");
  const det = await loadDetector(join(ROOT, "models/cgbench-small"));
  const quiet = { onWarning: () => {} };
  // a small image first, so that lazily loaded code is not timed
  await det.scoreImage(await readImage(join(ROOT, "dataset/Photos/photo_00001.png"), quiet));
  let t = performance.now();
  const img = await readImage(file, quiet);
  const decode = performance.now() - t;
  t = performance.now();
  await det.scoreImage(img);
  const score = performance.now() - t;
  det.dispose();
  console.log(JSON.stringify({ decode_ms: decode, total_ms: decode + score }));
}

const PILLOW = `
import sys, time, json
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
t = time.perf_counter()
im = Image.open(sys.argv[1]).convert("RGB")
im.load()
print(json.dumps({"decode_ms": (time.perf_counter() - t) * 1000}))
`;

/** The table. */
async function table(dir: string, python: string): Promise<string> {
  const files = await makeFiles(dir);
  const pin = (await new Deno.Command("taskset", { args: ["-c", "0", "true"] }).output()
      .then((o) => o.success, () => false))
    ? ["taskset", "-c", "0"]
    : [];
  const env = { OMP_NUM_THREADS: "1", CGVSNI_THREADS: "1" };
  const run = (args: string[]) =>
    pin.length
      ? spawn(python, pin[0], [...pin.slice(1), ...args], env)
      : spawn(python, args[0], args.slice(1), env);
  const deno = Deno.execPath();
  const perms = ["--allow-read", "--allow-env", "--allow-ffi", "--allow-sys"];
  const rows: string[][] = [];
  const ms = (x: unknown) => `${Math.round(x as number)}`;
  for (const f of files) {
    const name = f.split("/").pop()!;
    const [mp] = name.split("mp");
    const cells = [`${name.endsWith("jpg") ? "JPEG" : "TIFF"} ${mp} MP`];
    for (const path of ["libvips", "wasm"]) {
      console.error(`${name} ${path}`);
      const r = await run([deno, "run", ...perms, SELF, "--worker", f, "--path", path]);
      cells.push(`${ms(r.decode_ms)} / ${ms(r.total_ms)}`, `${ms(r.peak_rss_mb)}`);
    }
    const p = await run([python, "-c", PILLOW, f]);
    cells.push(ms(p.decode_ms), ms(p.peak_rss_mb));
    rows.push(cells);
  }
  // the whole detect process, start-up included, on the 24-megapixel JPEG
  const whole = async (strict: boolean) => {
    const t = performance.now();
    const args = strict
      ? ["run", "--allow-read", "--allow-run=deno", join(ROOT, "cli/strict.ts"), "detect"]
      : ["task", "-q", "detect"];
    const out = await new Deno.Command(pin[0] ?? deno, {
      args: [
        ...pin.slice(1),
        ...(pin.length ? [deno] : []),
        ...args,
        join(dir, "24mp.jpg"),
        "--threads",
        "1",
        "--quiet",
      ],
      cwd: ROOT,
      env,
      stdout: "null",
      stderr: "null",
    }).output();
    if (!out.success) throw new Error(`detect failed on ${dir}/24mp.jpg`);
    return (performance.now() - t) / 1000;
  };
  const [d1, d2] = [await whole(false), await whole(true)];
  return [
    `One core, one thread; "decode / + score": decoding alone, then`,
    "decoding and everything detect does after it (detector loaded beforehand).",
    "",
    "| file | libvips: decode / + score (ms) | peak MB | wasm: decode / + score (ms) | peak MB | Pillow decode (ms) | peak MB |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    `The whole \`deno task detect\` process on the 24-megapixel JPEG, start-up and model loading`,
    `included: ${d1.toFixed(2)} s; \`deno task strict detect\` (WebAssembly): ${d2.toFixed(2)} s.`,
  ].join("\n");
}

/** The `bench-decode` task. */
export const benchDecodeCommand: Command = {
  name: "bench-decode",
  usage: "[--dir DIR] [--write FILE]",
  summary: "Decode and score time, peak memory: JPEG and TIFF at 1-48 MP, both paths, Pillow.",
  permissions: "--allow-read --allow-write --allow-run --allow-env --allow-ffi --allow-sys",
  writes: "--dir (the test files) and --write FILE",
  flags: [
    {
      name: "dir",
      type: "string",
      arg: "DIR",
      default: "runs/bench-decode",
      help: "where the test files are made (kept between runs)",
    },
    { name: "write", type: "string", arg: "FILE", help: "replace this task's section in FILE" },
    { name: "python", type: "string", arg: "PY", default: "/usr/bin/python3", help: "Pillow's" },
    { name: "worker", type: "string", arg: "FILE", help: "(internal) measure one file" },
    { name: "path", type: "string", arg: "P", help: "(internal) the worker's decoding path" },
  ],
  async run(a) {
    const w = str(a, "worker");
    if (w) {
      await worker(w, str(a, "path") as "libvips" | "wasm");
      return 0;
    }
    const dir = str(a, "dir", "runs/bench-decode")!;
    const md = await table(dir, str(a, "python", "/usr/bin/python3")!);
    console.log(md);
    const write = str(a, "write");
    if (write) {
      const date = new Date().toISOString().slice(0, 10);
      await writeSection(
        write,
        "Image input (decode and score)",
        `Command: \`deno task bench-decode --write ${write}\` (${date}).\n\n${md}`,
      );
    }
    return 0;
  },
};

if (import.meta.main) Deno.exit(await runCommand(benchDecodeCommand, Deno.args));
