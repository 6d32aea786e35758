import assert from "node:assert/strict";
import { COMMANDS, main } from "../cli/main.ts";
import { helpText, OLD_FLAG_NAMES, ownFlags, parse } from "../cli/_args.ts";
import { stageOptions } from "../cli/_stages.ts";
import { join } from "node:path";
import { loadDataset } from "../lib/data/dataset.ts";
import { SHIPPED, testBackend, withTempDir } from "./_helpers.ts";

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await main(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("cli: every command's --help documents every flag and its permissions", async () => {
  for (const cmd of COMMANDS) {
    const { code, out } = await capture([cmd.name, "--help"]);
    assert.equal(code, 0);
    assert.equal(out, helpText(cmd));
    for (const f of cmd.flags) {
      const shown = f.setting ? `\\n  ${f.name}=` : `--${f.name}\\b`;
      assert.match(out, new RegExp(shown), `${cmd.name} --${f.name}`);
    }
    assert.match(out, /Permissions \(deno task/);
  }
});

Deno.test("cli: every flag a command reads is declared (so parseArgs accepts it)", async () => {
  for (const cmd of COMMANDS) {
    const file = new URL(`../cli/${cmd.name.replaceAll("-", "_")}.ts`, import.meta.url);
    const source = await Deno.readTextFile(file);
    const read = [...source.matchAll(/\b(?:str|num|bool)\(a, "([a-z0-9-]+)"/g)].map((m) => m[1]);
    assert.ok(read.length > 0 || cmd.flags.length === 0, `${cmd.name}: no flag reads found`);
    for (const name of read) {
      assert.ok(cmd.flags.some((f) => f.name === name), `${cmd.name} reads --${name}, undeclared`);
    }
  }
});

Deno.test("cli: each command's help states the permissions its deno task grants", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  for (const cmd of COMMANDS) {
    const task = config.tasks[cmd.name]?.command as string | undefined;
    if (!task) continue;
    const granted = task.split(" ").filter((w) => w.startsWith("--allow-"));
    for (const flag of granted) {
      assert.ok(cmd.permissions.includes(flag), `${cmd.name}: help lacks ${flag}`);
    }
  }
});

Deno.test("cli: usage errors exit 2 with one line; unknown command lists the commands", async () => {
  let r = await capture(["train-map", "--no-such-flag"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /^error: train-map: .*no-such-flag.*\(see --help\)$/);
  r = await capture(["train-map", "--epochs", "ten"]);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'error: --epochs must be an integer, got "ten"');
  r = await capture(["train-map", "--set", "augment-p=2"]);
  assert.equal(r.code, 2);
  assert.equal(r.err, "error: --augment-p must be at most 1, got 2");
  r = await capture(["robustness", "--map", "x", "--grid", "jpeg:0"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.err,
    'error: bad perturbation "jpeg:0": JPEG quality must be an integer in 1..100',
  );
  r = await capture(["frobnicate"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command "frobnicate" \(commands: train-map, /);
  r = await capture([]);
  assert.equal(r.code, 2);
  assert.match(r.out, /usage: cgvsni <command>/);
});

Deno.test("cli: a missing dataset is a one-line error naming it, exit 1", async () => {
  const r = await capture([
    "train-map",
    "--data",
    "/nonexistent/data",
    "--runs",
    "/tmp/cgvsni-never",
    "--name",
    "x",
  ]);
  assert.equal(r.code, 1);
  assert.equal(r.err.split("\n").length, 1);
  assert.match(r.err, /^error: \/nonexistent\/data: dataset folder not found$/);
});

Deno.test("cli: --config FILE gives the same run as the flags; flags given win; a bad key is a usage error naming it", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const ds = await loadDataset(SHIPPED);
    const rows = [0, 1].flatMap((l) =>
      ds.images.filter((i) => i.label === l).slice(0, 12).map((i) => `${i.name},${l}`)
    );
    const csv = join(dir, "photos.csv"), runs = join(dir, "runs"), file = join(dir, "run.json");
    await Deno.writeTextFile(csv, ["Name,Label", ...rows].join("\n") + "\n");
    const common = ["--features", "residual", "--oneclass", "gauss", "--pca", "3", "--runs", runs];
    const byFlags = await capture([
      "train-oneclass",
      ...common,
      "--data",
      SHIPPED,
      "--csv",
      csv,
      "--nu",
      "0.1",
      "--threshold",
      "train",
      "--name",
      "flags",
    ]);
    assert.equal(byFlags.code, 0, byFlags.err);
    // camelCase or kebab-case keys, numbers as numbers; --nu on the command line wins
    await Deno.writeTextFile(
      file,
      JSON.stringify({ data: SHIPPED, csv, nu: 0.3, threshold: "train", name: "file" }),
    );
    const byFile = await capture(["train-oneclass", ...common, "--config", file, "--nu", "0.1"]);
    assert.equal(byFile.code, 0, byFile.err);
    const read = async (name: string, f: string) => await Deno.readFile(join(runs, name, f));
    const cfg = async (name: string) => {
      const { created: _, ...c } = JSON.parse(
        new TextDecoder().decode(await read(name, "config.json")),
      );
      return c;
    };
    assert.deepEqual(await cfg("file"), await cfg("flags"));
    assert.equal((await cfg("file")).settings.nu, 0.1);
    assert.deepEqual(await read("file", "oneclass.bin"), await read("flags", "oneclass.bin"));
    // a key that is no flag of the command, a wrong type, a missing file: exit 2, one line
    for (
      const [content, msg] of [
        ['{"nu": 0.1, "lernrate": 1}', /"lernrate" is not a flag of train-oneclass/],
        ['{"skip-bad": "yes"}', /"skip-bad" must be true or false/],
        ["[1]", /expected a JSON object of flags/],
        ["{nu: 1}", /not valid JSON/],
      ] as const
    ) {
      await Deno.writeTextFile(file, content);
      const r = await capture(["train-oneclass", "--config", file]);
      assert.equal(r.code, 2, content);
      assert.match(r.err, msg);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
    }
    const gone = await capture(["train-oneclass", "--config", join(dir, "absent.json")]);
    assert.equal(gone.code, 2);
    assert.match(gone.err, /--config .*absent\.json/);
  });
});

Deno.test("cli: an old flag name means one flag in every command, with a note; --model is refused with the way out", async () => {
  const detect = COMMANDS.find((c) => c.name === "detect")!;
  const train = COMMANDS.find((c) => c.name === "train-oneclass")!;
  const notes: string[] = [];
  for (const cmd of COMMANDS) {
    for (const [old, now] of Object.entries(OLD_FLAG_NAMES)) {
      const flag = cmd.flags.find((f) => f.name === now);
      if (!flag) continue;
      const argv = flag.type === "boolean" ? [`--${old}`] : [`--${old}`, "7"];
      assert.equal(
        parse(cmd, argv, (s) => notes.push(s)).values[now],
        flag.type === "boolean" || "7",
      );
      assert.match(helpText(cmd), new RegExp(`(--|\\n  )${now}[ =].*old name.*--${old}`));
    }
  }
  const renamed = notes.filter((n) => /is an old name of --/.test(n));
  assert.ok(renamed.length >= 5, notes.join("\n"));
  assert.ok(notes.every((n) => /is an old name of --|is a setting now/.test(n)), notes.join("\n"));
  for (const cmd of [detect, train]) {
    assert.throws(
      () => parse(cmd, ["--model", "x"]),
      /--model was removed: use --detector \(detect\) or --oneclass/,
    );
  }
  const old = await capture(["train-flow", "--help"]);
  assert.equal(old.code, 0);
  assert.match(old.err, /train-flow is an old name of train-oneclass/);
});

Deno.test("cli: no command has over 20 flags of its own; settings come by --set NAME=VALUE, the flag form with a note", () => {
  const counts = COMMANDS.map((c) => [c.name, ownFlags(c).length] as const);
  assert.deepEqual(counts.filter(([, n]) => n > 20), [], JSON.stringify(counts));
  const train = COMMANDS.find((c) => c.name === "train-oneclass")!;
  const map = COMMANDS.find((c) => c.name === "train-map")!;
  const notes: string[] = [];
  const set = parse(
    train,
    ["--set", "hidden=256", "--set", "lrStep=5", "--nu", "0.1"],
    (s: string) => void notes.push(s),
  );
  assert.equal(set.values.hidden, "256");
  assert.equal(set.values["lr-step"], "5");
  assert.equal(notes.length, 0);
  assert.equal(parse(map, ["--set", "train-srm=true"]).values["train-srm"], true);
  // experiment skips unusable training images when told, in its maps and one-class fits alike
  const experiment = COMMANDS.find((c) => c.name === "experiment")!;
  const skip = stageOptions(parse(experiment, ["--set", "skip-bad=true"]), "cpu");
  assert.deepEqual([skip.map.skipBad, skip.oneclass.skipBad], [true, true]);
  const stop = stageOptions(parse(experiment, []), "cpu");
  assert.deepEqual([stop.map.skipBad, stop.oneclass.skipBad], [undefined, undefined]);
  const flagForm = parse(train, ["--hidden", "256"], (s: string) => void notes.push(s));
  assert.equal(flagForm.values.hidden as string, "256");
  assert.match(notes.join("\n"), /--hidden is a setting now: give --set hidden=256/);
  assert.throws(() => parse(train, ["--set", "hiden=1"]), /"hiden" is not a setting or flag/);
  assert.throws(() => parse(train, ["--set", "hidden"]), /--set needs NAME=VALUE/);
  assert.throws(() => parse(map, ["--set", "train-srm=yes"]), /train-srm is true or false/);
  assert.throws(() => parse(train, ["--hidden", "8", "--set", "hidden=9"]), /given twice/);
  // help lists the settings apart, not among the flags
  const help = helpText(train);
  const [flags, settings] = help.split("Settings (--set NAME=VALUE");
  assert.doesNotMatch(flags, /--hidden/);
  assert.match(settings, /\n {2}hidden=N +flow, mlp: hidden width \(default: 1000\)/);
});

Deno.test("cli: the strict sandbox may read a --config file and the data it names", async () => {
  const { strictArgs } = await import("../cli/strict.ts");
  await withTempDir(async (dir) => {
    const config = join(dir, "eval.json"), data = join(dir, "photos");
    await Deno.writeTextFile(config, JSON.stringify({ "test-data": data }));
    const args = await strictArgs(["evaluate", "--config", config], "/npm-cache");
    const read = args.find((x) => x.startsWith("--allow-read="))!.slice(13).split(",");
    assert.ok(read.includes(config), read.join(","));
    assert.ok(read.includes(data), read.join(","));
  });
});
