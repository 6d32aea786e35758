import assert from "node:assert/strict";
import { formatCsv, parseCsvRecords, parseDatasetCsv } from "../../../lib/data/csv.ts";
import { DatasetError } from "../../../lib/core/errors.ts";

Deno.test("csv: the original format parses", () => {
  const rows = parseDatasetCsv("Name,Label\nRAISE/a.png,0\nVRay/b.png,4\n");
  assert.deepEqual(rows.map((r) => [r.name, r.label, r.group, r.line]), [
    ["RAISE/a.png", 0, "RAISE/a.png", 2],
    ["VRay/b.png", 4, "VRay/b.png", 3],
  ]);
});

Deno.test("csv: BOM, CRLF, blank lines, quoted names with commas and quotes, extra columns", () => {
  const text =
    '\ufeffName,Label,Group,Note\r\n\r\n"Corona/a, b.png",3,g1,x\r\n"VISION/say ""hi"".png",0,,y\r\n\r\n';
  const rows = parseDatasetCsv(text);
  assert.deepEqual(rows.map((r) => [r.name, r.label, r.group, r.line]), [
    ["Corona/a, b.png", 3, "g1", 3],
    ['VISION/say "hi".png', 0, 'VISION/say "hi".png', 4],
  ]);
});

Deno.test("csv: formatCsv round-trips awkward names", () => {
  const names = ["a,b.png", 'q"uote.png', " lead.png", "ünï cödé.png"];
  const text = formatCsv(["Name", "Label"], names.map((n) => [n, 0]));
  assert.deepEqual(parseCsvRecords(text).slice(1).map((r) => r.fields[0]), names);
});

function failsWith(text: string, re: RegExp) {
  assert.throws(
    () => parseDatasetCsv(text, "d.csv"),
    (e: unknown) => e instanceof DatasetError && re.test((e as Error).message),
  );
}

Deno.test("csv: bad rows are reported with their line numbers", () => {
  failsWith(
    "Name,Label\na.png,0\nb.png,two\n",
    /line 3: Label must be 0 \(natural\) or a renderer number/,
  );
  failsWith("Name,Label\na.png,0\na.png,1\n", /line 3: duplicate of line 2: a\.png/);
  failsWith("Name,Label\na.png,-1\n", /line 2: Label/);
  failsWith("Name,Label\na.png\n", /line 2: expected 2 columns, found 1/);
  failsWith("Name,Label\n../etc/passwd,0\n", /line 2: Name must be a path inside the dataset/);
  failsWith("Name,Label\n/abs.png,0\n", /line 2: Name must be a path inside/);
  failsWith("Name,Label\n,0\n", /line 2: empty Name/);
});

Deno.test("csv: header and structure problems", () => {
  failsWith("", /empty file/);
  failsWith("File,Class\na.png,0\n", /header must have columns Name and Label/);
  failsWith("Name,Label\n", /no images listed/);
  failsWith('Name,Label\n"a.png,0\n', /unterminated quoted field/);
  failsWith('Name,Label\na"b.png,0\n', /quote inside an unquoted field/);
});

Deno.test("csv: all problems are listed at once", () => {
  assert.throws(
    () => parseDatasetCsv("Name,Label\na,x\nb,y\nc,0\n", "d.csv"),
    /2 bad row\(s\): line 2: .*; line 3: /,
  );
});
