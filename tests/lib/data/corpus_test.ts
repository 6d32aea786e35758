/**
 * The natural-corpus builder: files copied as they are, identical pixels kept once whatever
 * their format, groups, the EXIF camera, provenance, an unreadable file named and skipped, and a
 * second build that adds a source without losing or copying again what is there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sharpModule } from "../../../lib/core/deps.ts";
import { buildNaturalCorpus } from "../../../lib/data/corpus.ts";
import { parseCsvRecords } from "../../../lib/data/csv.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { main } from "../../../cli/main.ts";
import { rgbImage, withTempDir } from "../../_helpers.ts";

const sharp = await sharpModule();
const img = (k: number) =>
  rgbImage(40, 30, (x, y, c) => (x * (3 + k) + y * (5 + c) + k * 17) & 255);
const raw = { raw: { width: 40, height: 30, channels: 3 as const } };
const png = async (k: number) => new Uint8Array(await sharp(img(k).data, raw).png().toBuffer());

async function csv(file: string): Promise<Record<string, string>[]> {
  const [head, ...rows] = parseCsvRecords(await Deno.readTextFile(file), file);
  return rows.map((r) => Object.fromEntries(head.fields.map((h, i) => [h, r.fields[i]])));
}

Deno.test("corpus: copies as they are, one copy of identical pixels, groups, EXIF camera, provenance, bad files named", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "a"), b = join(dir, "b"), c = join(dir, "c"), out = join(dir, "out");
    for (const d of [a, join(a, "sub"), b, c]) await Deno.mkdir(d, { recursive: true });
    await Deno.writeFile(join(a, "one.png"), await png(1));
    await Deno.writeFile(join(a, "sub", "two.png"), await png(2));
    const cam = new Uint8Array(
      await sharp(img(3).data, raw).withExif({ IFD0: { Make: "Testcam", Model: "T-1" } })
        .jpeg({ quality: 90 }).toBuffer(),
    );
    await Deno.writeFile(join(a, "cam.jpg"), cam);
    await Deno.writeFile(join(a, "broken.png"), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]));
    await Deno.writeTextFile(join(a, "notes.txt"), "not an image");
    // the same pixels as a/one.png, stored as a lossless TIFF: a duplicate
    await Deno.writeFile(
      join(b, "one.tif"),
      await sharp(img(1).data, raw).tiff({ compression: "lzw" }).toBuffer(),
    );
    await Deno.writeFile(join(b, "three.png"), await png(4));

    const r = await buildNaturalCorpus({
      out,
      sources: [{ name: "a", dir: a, licence: "CC-BY 4.0" }, { name: "b", dir: b }],
    });
    assert.deepEqual(r.rows.map((x) => x.name), [
      "a/cam.jpg",
      "a/one.png",
      "a/sub/two.png",
      "b/three.png",
    ]);
    assert.deepEqual(r.duplicates.map((d) => [d.original, d.same]), [[
      join(b, "one.tif"),
      "a/one.png",
    ]]);
    assert.deepEqual(r.skipped.map((s) => s.path), [join(a, "broken.png")]);
    assert.match(r.skipped[0].reason, /PNG/);
    // copied byte for byte, nothing re-encoded
    assert.deepEqual(await Deno.readFile(join(out, "a/cam.jpg")), cam);
    // dataset.csv: label 0, Group = source; a loadable dataset
    const ds = await loadDataset(out, { naturalOnly: true });
    assert.deepEqual(ds.images.map((i) => [i.name, i.label, i.group]), [
      ["a/cam.jpg", 0, "a"],
      ["a/one.png", 0, "a"],
      ["a/sub/two.png", 0, "a"],
      ["b/three.png", 0, "b"],
    ]);
    // SOURCES.csv: provenance of each file
    const src = await csv(join(out, "SOURCES.csv"));
    const camRow = src.find((x) => x.Name === "a/cam.jpg")!;
    assert.deepEqual(
      [camRow.Source, camRow.Original, camRow.Licence, camRow.Make, camRow.Model, camRow.Format],
      ["a", join(a, "cam.jpg"), "CC-BY 4.0", "Testcam", "T-1", "jpeg"],
    );
    assert.deepEqual([camRow.Width, camRow.Height, camRow.Bytes], ["40", "30", String(cam.length)]);
    assert.equal(src.find((x) => x.Name === "a/one.png")!.Make, "");
    assert.equal(new Set(src.map((x) => x.SHA256)).size, 4);
    assert.match(await Deno.readTextFile(join(out, "skipped.txt")), /broken\.png: /);
    assert.match(await Deno.readTextFile(join(out, "duplicates.csv")), /one\.tif,b,a\/one\.png/);

    // a second build adds source c: a and b are kept, and their files are not copied again
    const before = (await Deno.stat(join(out, "a/one.png"))).mtime!.getTime();
    await Deno.writeFile(join(c, "four.png"), await png(5));
    await Deno.writeFile(join(c, "again.png"), await png(4)); // b/three.png again
    const r2 = await buildNaturalCorpus({ out, sources: [{ name: "c", dir: c }], group: "camera" });
    assert.deepEqual(r2.rows.map((x) => x.name), [
      "a/cam.jpg",
      "a/one.png",
      "a/sub/two.png",
      "b/three.png",
      "c/four.png",
    ]);
    // the first build's duplicate and unreadable file are still on record
    assert.deepEqual(r2.duplicates.map((d) => d.same), ["a/one.png", "b/three.png"]);
    assert.deepEqual(r2.skipped.map((s) => s.path), [join(a, "broken.png")]);
    assert.match(await Deno.readTextFile(join(out, "skipped.txt")), /broken\.png: /);
    // a copy of the same size but other bytes is copied again
    const copy = join(out, "c/four.png"), good = await Deno.readFile(copy);
    await Deno.writeFile(copy, good.map((v, i) => i === good.length - 5 ? v ^ 1 : v));
    await buildNaturalCorpus({ out, sources: [{ name: "c", dir: c }], group: "camera" });
    assert.deepEqual(await Deno.readFile(copy), good);
    assert.equal((await Deno.stat(join(out, "a/one.png"))).mtime!.getTime(), before);
    // --group camera: the EXIF camera where there is one, else the source
    assert.deepEqual((await loadDataset(out, { naturalOnly: true })).images.map((i) => i.group), [
      "Testcam T-1",
      "a",
      "a",
      "b",
      "c",
    ]);
  });
});

Deno.test('corpus: a source folder whose name holds ": " keeps one record of its unreadable file across builds', async () => {
  await withTempDir(async (dir) => {
    const d = join(dir, "scans: 2019"), e = join(dir, "e"), out = join(dir, "out");
    for (const x of [d, e]) await Deno.mkdir(x);
    await Deno.writeFile(join(d, "ok.png"), await png(1));
    await Deno.writeFile(join(d, "bad: copy.png"), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1]));
    await Deno.writeFile(join(e, "ok.png"), await png(2));
    const bad = join(d, "bad: copy.png");
    const r1 = await buildNaturalCorpus({ out, sources: [{ name: "d", dir: d }] });
    assert.deepEqual(r1.skipped.map((s) => s.path), [bad]);
    // another source added: the record is kept, split where its path ends
    const r2 = await buildNaturalCorpus({ out, sources: [{ name: "e", dir: e }] });
    assert.deepEqual(r2.skipped.map((s) => s.path), [bad]);
    assert.match(r2.skipped[0].reason, /PNG/);
    // the same source again: its record is replaced, not kept twice
    const r3 = await buildNaturalCorpus({ out, sources: [{ name: "d", dir: d }] });
    assert.deepEqual(r3.skipped.map((s) => s.path), [bad]);
    const lines = (await Deno.readTextFile(join(out, "skipped.txt"))).trim().split("\n");
    assert.equal(lines.length, 1);
    assert.ok(lines[0].startsWith(`${bad}: `), lines[0]);
  });
});

Deno.test("corpus: make-natural names a bad source and each unreadable file, exit 3; a bad name is refused", async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, "photos"), out = join(dir, "out");
    await Deno.mkdir(a);
    await Deno.writeFile(join(a, "ok.png"), await png(1));
    await Deno.writeFile(join(a, "cut.png"), (await png(2)).subarray(0, 40));
    const err: string[] = [];
    const error = console.error;
    console.error = (...x: unknown[]) => err.push(x.join(" "));
    try {
      assert.equal(await main(["make-natural", "--quiet", "--out", out, a]), 3);
      assert.match(err.join("\n"), /skipped .*cut\.png: /);
      assert.deepEqual((await loadDataset(out, { naturalOnly: true })).images.map((i) => i.name), [
        "photos/ok.png",
      ]);
      assert.equal(
        await main(["make-natural", "--quiet", "--out", out, `x=${join(dir, "none")}`]),
        1,
      );
      assert.match(err.join("\n"), /none.*not a folder/);
    } finally {
      console.error = error;
    }
    await assert.rejects(
      buildNaturalCorpus({ out, sources: [{ name: "../up", dir: a }] }),
      /bad source name/,
    );
  });
});
