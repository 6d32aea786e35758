import assert from "node:assert/strict";
import { COMMANDS, main } from "../cli/main.ts";
import { helpText } from "../cli/_args.ts";

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
      assert.match(out, new RegExp(`--${f.name}\\b`), `${cmd.name} --${f.name}`);
    }
    assert.match(out, /Permissions \(deno task/);
  }
});

Deno.test("cli: usage errors exit 2 with one line; unknown command lists the commands", async () => {
  let r = await capture(["train-map", "--no-such-flag"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /^error: train-map: .*no-such-flag.*\(see --help\)$/);
  r = await capture(["train-map", "--epochs", "ten"]);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'error: --epochs must be an integer, got "ten"');
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
