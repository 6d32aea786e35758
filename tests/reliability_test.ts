/**
 * The bad-input corpus (tests/fixtures/bad, written by tasks/py/make_bad_inputs.py) through every
 * entry point: the decoder, train-map (stop before the first step, or --skip-bad), train-flow,
 * evaluate and detect (continue with the rest). Unusable files get one line naming the file and
 * the reason; decodable oddities (16-bit, palette, CMYK, progressive, EXIF, wrong extension,
 * unicode names) are read like any image.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readImage } from "../lib/data/decode.ts";
import { loadDataset } from "../lib/data/dataset.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { trainMap, type TrainMapOptions } from "../lib/map/train.ts";
import { trainOneClass } from "../lib/oneclass/train.ts";
import { evaluate } from "../lib/eval/evaluate.ts";
import { main } from "../cli/main.ts";
import { SHIPPED, testBackend, withTempDir } from "./_helpers.ts";

const BAD = new URL("./fixtures/bad/", import.meta.url).pathname;
type Expect = { ok: boolean; error?: string; decodes?: boolean; width?: number; height?: number };
const EXPECTED: Record<string, Expect> = JSON.parse(
  await Deno.readTextFile(join(BAD, "expected.json")),
);
const CROP = 80;
const quiet = makeProgress({ quiet: true });
const unusable = Object.entries(EXPECTED).filter(([, e]) => !e.ok);
const usable = Object.entries(EXPECTED).filter(([, e]) => e.ok);

Deno.test("bad inputs: the corpus has every kind the issue lists", () => {
  assert.ok(Object.keys(EXPECTED).length >= 25);
  for (
    const k of [
      "zero-byte",
      "truncated.png",
      "truncated.jpg",
      "not-an-image",
      "wrong-extension",
      "one-pixel",
      "small-64",
      "bomb",
      "16-bit",
      "grayscale",
      "palette",
      "alpha",
      "cmyk",
      "progressive",
      "exif-rotated",
      "name with spaces",
    ]
  ) {
    assert.ok(Object.keys(EXPECTED).some((f) => f.includes(k)), k);
  }
});

Deno.test("bad inputs: both decoders read the decodable ones as 8-bit RGB and refuse the rest with a reason", async () => {
  for (const [f, e] of Object.entries(EXPECTED)) {
    for (const decoder of ["libvips", "wasm"] as const) {
      const p = join(BAD, f);
      const opts = { decoder, onWarning: () => {} };
      if (e.ok || e.decodes) {
        const img = await readImage(p, opts);
        assert.deepEqual([img.width, img.height, img.data.length], [
          e.width,
          e.height,
          e.width! * e.height! * 3,
        ], `${f} (${decoder})`);
      } else {
        await assert.rejects(readImage(p, opts), (err: Error) => {
          assert.equal(err.message.split("\n").length, 1, `${f} (${decoder})`);
          assert.ok(err.message.startsWith(p + ": "), `${f}: ${err.message}`);
          assert.match(err.message, new RegExp(e.error!), f);
          return true;
        });
      }
    }
  }
});

/** A dataset: 14 photographs and 10 Cycles renders of the shipped set, plus the corpus as natural images. */
async function dataset(dir: string): Promise<string> {
  const data = join(dir, "data");
  const ds = await loadDataset(SHIPPED);
  const rows = ["Name,Label"];
  for (const [label, n] of [[0, 14], [1, 10]]) {
    for (const i of ds.images.filter((x) => x.label === label).slice(0, n)) {
      await Deno.mkdir(join(data, i.source), { recursive: true });
      await Deno.copyFile(i.path, join(data, i.name));
      rows.push(`"${i.name}",${label}`);
    }
  }
  await Deno.mkdir(join(data, "Bad"), { recursive: true });
  for (const f of Object.keys(EXPECTED)) {
    await Deno.copyFile(join(BAD, f), join(data, "Bad", f));
    rows.push(`"Bad/${f}",0`);
  }
  await Deno.writeTextFile(join(data, "dataset.csv"), rows.join("\n") + "\n");
  return data;
}

/** Split lists (the authors' format) putting the corpus in role `where`. */
async function lists(dir: string, name: string, where: "train" | "flow" | "test"): Promise<string> {
  const out = join(dir, name);
  await Deno.mkdir(out);
  const corpus = Object.keys(EXPECTED);
  const ds = await loadDataset(join(dir, "data"));
  const nat = ds.images.filter((i) => i.source === "Photos").map((i) => i.name.split("/").pop()!);
  const cg = ds.images.filter((i) => i.source === "Cycles").map((i) => i.name.split("/").pop()!);
  const put = (f: string, names: string[]) =>
    Deno.writeTextFile(join(out, f), names.join("\n") + "\n");
  await put("NI_train_1.txt", [...nat.slice(0, 5), ...(where === "train" ? corpus : [])]);
  await put("NI_val_1.txt", nat.slice(5, 8));
  await put("NI_x_test_1.txt", [...nat.slice(8, 11), ...(where === "test" ? corpus : [])]);
  await put("NI_pool_1.txt", [...nat.slice(11, 14), ...(where === "flow" ? corpus : [])]);
  await put("CG_Cycles_train_1.txt", cg.slice(0, 5));
  await put("CG_Cycles_val_1.txt", cg.slice(5, 7));
  await put("CG_Cycles_test_1.txt", cg.slice(7, 10));
  return out;
}

function mapOptions(
  dir: string,
  name: string,
  splitFiles: string,
  extra: Partial<TrainMapOptions> = {},
): TrainMapOptions {
  return {
    data: join(dir, "data"),
    runs: join(dir, "runs"),
    name,
    splitFiles,
    crop: CROP,
    width: 4,
    fc: 16,
    epochs: 1,
    batchSize: 4,
    progress: quiet,
    ...extra,
  };
}

/** The lines of a skipped list, as file name -> reason. */
async function skippedList(path: string): Promise<Map<string, string>> {
  const lines = (await Deno.readTextFile(path)).trim().split("\n");
  return new Map(lines.map((l) => {
    const m = /\/Bad\/(.+?): (.*)$/.exec(l);
    assert.ok(m, `not "path: reason": ${l}`);
    return [m![1], m![2]];
  }));
}

function checkSkipped(list: Map<string, string>) {
  assert.deepEqual([...list.keys()].sort(), unusable.map(([f]) => f).sort());
  for (const [f, e] of unusable) assert.match(list.get(f)!, new RegExp(e.error!), f);
}

Deno.test("bad inputs: train-map stops before the first step naming them, or skips them with --skip-bad", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    await dataset(dir);
    const split = await lists(dir, "lists-train", "train");
    await assert.rejects(trainMap(mapOptions(dir, "stop", split)), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(
          `^${unusable.length} unusable image\\(s\\), stopping before training \\(skipBad: --skip-bad, or --set skip-bad=true in experiment, skips them\\): `,
        ),
      );
      assert.equal(e.message.split("\n").length, 1);
      return true;
    });
    assert.equal(
      await Deno.stat(join(dir, "runs/stop/metrics.jsonl")).then(() => true).catch(() => false),
      false,
    );
    checkSkipped(await skippedList(join(dir, "runs/stop/skipped.txt")));
    const res = await trainMap(mapOptions(dir, "skip", split, { skipBad: true }));
    assert.equal(res.epochs.length, 1);
    checkSkipped(await skippedList(join(dir, "runs/skip/skipped.txt")));
  });
});

Deno.test("bad inputs: train-oneclass and evaluate list them and go on with the rest; detect scores the good ones", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    await dataset(dir);
    await trainMap(mapOptions(dir, "pool", await lists(dir, "lists-flow", "flow")));
    await assert.rejects(
      trainOneClass({
        map: "pool",
        runs: join(dir, "runs"),
        settings: { hidden: 8, depth: 1, epochs: 2 },
        progress: quiet,
      }),
      /unusable image/,
    );
    // the run that stopped before its first epoch can be started again, skipping them
    const f = await trainOneClass({
      map: "pool",
      runs: join(dir, "runs"),
      settings: { hidden: 8, depth: 1, epochs: 2 },
      skipBad: true,
      progress: quiet,
    });
    checkSkipped(await skippedList(join(f.run, "skipped.txt")));
    assert.equal(f.summary!.vectors, 3 + usable.length); // 3 photographs + the decodable oddities

    await trainMap(mapOptions(dir, "test", await lists(dir, "lists-test", "test")));
    await trainOneClass({
      map: "test",
      runs: join(dir, "runs"),
      settings: { hidden: 8, depth: 1, epochs: 2 },
      progress: quiet,
    });
    const ev = await evaluate({
      map: "test",
      runs: join(dir, "runs"),
      tiles: 1,
      bootstrap: 20,
      progress: quiet,
    });
    assert.deepEqual(
      ev.skipped.map((n) => n.replace("Bad/", "")).sort(),
      unusable.map(([f]) => f).sort(),
    );
    assert.equal(ev.results[0].natural, 3 + usable.length);
    checkSkipped(await skippedList(join(ev.dir, "skipped.txt")));

    // detect on the corpus folder, with a symbolic-link loop inside
    const folder = join(dir, "data/Bad");
    await Deno.symlink(folder, join(folder, "loop"));
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => out.push(a.join(" "));
    let code: number;
    try {
      code = await main([
        "detect",
        folder,
        "--map",
        "test",
        "--runs",
        join(dir, "runs"),
        "--json",
      ]);
    } finally {
      console.log = log;
    }
    assert.equal(code, 3);
    const r = JSON.parse(out.join("\n"));
    const name = (p: string) => p.split("/").pop()!;
    // in a folder only image extensions are picked up; every usable one is scored
    const scored = r.results.map((x: { file: string }) => name(x.file)).sort();
    assert.deepEqual(
      scored,
      usable.map(([f]) => f).filter((f) => /\.(png|jpe?g|tiff?)$/i.test(f)).sort(),
    );
    for (const x of r.errors as { file: string; error: string }[]) {
      const e = EXPECTED[name(x.file)];
      assert.ok(e && !e.ok && new RegExp(e.error!).test(x.error), `${x.file}: ${x.error}`);
    }
  });
});
