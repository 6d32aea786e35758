/**
 * Bounded, seeded fuzzing of everything that reads untrusted bytes: image decoding (the header
 * sniffer, then PNG, JPEG, TIFF, GIF, BMP and PPM on both decoding paths, libvips and
 * WebAssembly, in turn) and dataset.csv parsing. Every mutated input
 * must give a result or the toolkit's own error, never another exception, a hang or runaway
 * memory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeImage } from "../lib/data/decode.ts";
import { parseDatasetCsv } from "../lib/data/csv.ts";
import { DatasetError, ImageError } from "../lib/core/errors.ts";
import { Rng } from "../lib/core/rng.ts";
import { SHIPPED } from "./_helpers.ts";

const BAD = new URL("./fixtures/bad/", import.meta.url).pathname;
const BUDGET_MS = Number(Deno.env.get("CGVSNI_FUZZ_MS") ?? 25_000);

function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  let b = src.slice();
  const kinds = 1 + rng.int(3);
  for (let k = 0; k < kinds; k++) {
    switch (rng.int(7)) {
      case 0: // flip bits
        for (let i = 0, n = 1 + rng.int(16); i < n; i++) b[rng.int(b.length)] ^= 1 << rng.int(8);
        break;
      case 1: // truncate
        b = b.slice(0, rng.int(b.length));
        break;
      case 2: { // overwrite a run with random bytes
        const at = rng.int(b.length), n = Math.min(b.length - at, 1 + rng.int(64));
        for (let i = 0; i < n; i++) b[at + i] = rng.int(256);
        break;
      }
      case 3: { // duplicate a slice somewhere else
        const from = rng.int(b.length), n = 1 + rng.int(512), to = rng.int(b.length);
        const out = new Uint8Array(b.length + Math.min(n, b.length - from));
        out.set(b.subarray(0, to));
        out.set(b.subarray(from, from + n), to);
        out.set(b.subarray(to), to + Math.min(n, b.length - from));
        b = out;
        break;
      }
      case 4: // header damage near the start (PNG IHDR / JPEG SOF live there)
        for (let i = 0, n = 1 + rng.int(4); i < n; i++) {
          b[8 + rng.int(Math.min(200, Math.max(1, b.length - 8)))] = rng.int(256);
        }
        break;
      case 5: // insert random bytes
        {
          const at = rng.int(b.length + 1), n = 1 + rng.int(32);
          const out = new Uint8Array(b.length + n);
          out.set(b.subarray(0, at));
          for (let i = 0; i < n; i++) out[at + i] = rng.int(256);
          out.set(b.subarray(at), at + n);
          b = out;
        }
        break;
      default: // zero a run
        b.fill(0, rng.int(b.length), rng.int(b.length));
    }
  }
  return b;
}

Deno.test("fuzz: mutated image files give an image or an ImageError on both paths, in bounded time and memory", async () => {
  const ppm = new Uint8Array([
    ...new TextEncoder().encode("P6\n16 12\n255\n"),
    ...Array(576).keys(),
  ]);
  const seeds = [
    await Deno.readFile(join(SHIPPED, "Cycles/cycles_00000.png")),
    await Deno.readFile(join(BAD, "baseline.jpg")),
    await Deno.readFile(join(BAD, "progressive.jpg")),
    await Deno.readFile(join(BAD, "palette.png")),
    await Deno.readFile(join(BAD, "little-endian.tif")),
    await Deno.readFile(join(BAD, "animation.gif.png")),
    await Deno.readFile(join(BAD, "bitmap.png")),
    ppm.map((v) => v & 255),
  ];
  const rng = new Rng("fuzz-images");
  const rss0 = Deno.memoryUsage().rss;
  const t0 = performance.now();
  let cases = 0, decoded = 0, slowest = 0;
  while (performance.now() - t0 < BUDGET_MS) {
    const bytes = mutate(seeds[cases % seeds.length], rng);
    const t = performance.now();
    try {
      const img = await decodeImage(bytes, `case-${cases}`, {
        maxPixels: 4_000_000,
        decoder: (cases >> 3) % 2 ? "wasm" : "libvips",
        onWarning: () => {},
      });
      assert.equal(
        img.data.length,
        img.width * img.height * 3,
        `case ${cases}: inconsistent image`,
      );
      decoded++;
    } catch (e) {
      if (!(e instanceof ImageError)) {
        throw new Error(`case ${cases}: ${(e as Error).name}: ${(e as Error).message}`);
      }
      assert.ok(e.message.startsWith(`case-${cases}: `) && !e.message.includes("\n"), e.message);
    }
    slowest = Math.max(slowest, performance.now() - t);
    cases++;
  }
  const grew = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
  console.log(
    `${cases} mutated images: ${decoded} decoded, ${cases - decoded} refused; slowest ${
      slowest.toFixed(0)
    } ms; RSS +${grew.toFixed(0)} MiB`,
  );
  assert.ok(cases >= 100, `only ${cases} cases ran`);
  assert.ok(slowest < 5_000, `a case took ${slowest} ms`);
  assert.ok(grew < 1500, `memory grew by ${grew} MiB`);
});

Deno.test("fuzz: mutated dataset.csv gives rows or a DatasetError with a line number or file name", () => {
  const base = new TextEncoder().encode(Deno.readTextFileSync(join(SHIPPED, "dataset.csv")));
  const rng = new Rng("fuzz-csv");
  let ok = 0, refused = 0;
  for (let i = 0; i < 2000; i++) {
    const text = new TextDecoder().decode(mutate(base, rng));
    try {
      const rows = parseDatasetCsv(text, "fuzz.csv");
      assert.ok(rows.every((r) => Number.isInteger(r.label) && r.label >= 0 && r.name.length > 0));
      ok++;
    } catch (e) {
      if (!(e instanceof DatasetError)) {
        throw new Error(`case ${i}: ${(e as Error).name}: ${(e as Error).message}`);
      }
      assert.match(e.message, /^fuzz\.csv(:\d+)?: /);
      refused++;
    }
  }
  assert.ok(ok > 0 && refused > 0, `${ok} parsed, ${refused} refused`);
});
