/**
 * Issue 26's figures on this machine's Slurm: the same 2-cell experiment (leave out each of the
 * dataset's first two renderers: per cell a map, its feature vectors, a one-class model and an
 * evaluation, then the matrix; 9 units) run by the local executor in one process, then as Slurm jobs one at a time
 * (each job asks for both cores) and two at a time (one core each). Reports wall times, the
 * seconds inside the units (their done markers), the overhead per job, and checks that all three
 * give the same matrix. Uses the Slurm SLURM_CONF names, else starts the private one of
 * tests/cluster/slurm_up.sh (root, Debian's slurm-wlm and munge).
 *
 *   deno run -A tasks/slurm_bench.ts [--data dataset] [--epochs 3] [--keep DIR]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { UNIT_KINDS } from "../cli/_units.ts";
import { jobPermissions } from "../cli/_cluster.ts";
import { type Graph, unitSeconds } from "../lib/cluster/graph.ts";
import { clusterStatus, submit } from "../lib/cluster/slurm.ts";
import { shardName } from "../lib/cluster/shard.ts";
import { loadDataset } from "../lib/data/dataset.ts";
import { experimentPlan } from "../lib/eval/experiment.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string", default: "dataset" },
    epochs: { type: "string", default: "3" },
    keep: { type: "string" },
  },
});
const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");

let stopDir: string | undefined;
if (!Deno.env.get("SLURM_CONF")) {
  stopDir = await Deno.makeTempDir({ prefix: "cgvsni-slurm-" });
  const r = await new Deno.Command("bash", {
    args: [join(ROOT, "tests/cluster/slurm_up.sh"), stopDir, "2"],
    stdout: "piped",
  }).output();
  const conf = /export SLURM_CONF=(\S+)/.exec(new TextDecoder().decode(r.stdout))?.[1];
  if (!conf) throw new Error("no Slurm: set SLURM_CONF or run as root with slurm-wlm and munge");
  Deno.env.set("SLURM_CONF", conf);
}

const dir = v.keep ?? await Deno.makeTempDir({ prefix: "cgvsni-slurm-bench-" });
const renderers = (await loadDataset(v.data!)).classes.filter((c) => c.label > 0)
  .map((c) => c.name).slice(0, 2);
const plan = (name: string) =>
  experimentPlan({
    data: v.data!,
    runs: join(dir, name),
    name: "two",
    protocol: "loro",
    renderers,
    map: { epochs: Number(v.epochs) },
    oneclass: { features: "residual", oneclass: "gauss" },
    evaluation: { bootstrap: 200 },
  });

async function wait(g: Graph): Promise<void> {
  while (true) {
    const st = await clusterStatus(g);
    if (st.some((s) => s.failed.length || s.lost.length)) throw new Error(JSON.stringify(st));
    if (st.every((s) => s.finished === s.shards)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Seconds from the end of a unit's last dependency to the start of its own code, per unit that
 * has dependencies: Slurm's wait to start a job whose dependency is met, plus Deno's start.
 */
async function waits(g: Graph): Promise<number[]> {
  const span = async (u: Graph["units"][number]) => {
    const out: [number, number][] = [];
    for (let i = 1; i <= (u.shards ?? 1); i++) {
      const m = JSON.parse(
        await Deno.readTextFile(
          join(g.dir, "units", u.id, `${shardName({ index: i, count: u.shards ?? 1 })}.done`),
        ),
      );
      const end = Date.parse(m.finished) / 1000;
      out.push([end - m.seconds, end]);
    }
    return out;
  };
  const gaps: number[] = [];
  for (const u of g.units.filter((x) => x.after.length)) {
    const ready = Math.max(
      ...(await Promise.all(g.units.filter((d) => u.after.includes(d.id)).map(span))).flat()
        .map(([, end]) => end),
    );
    for (const [start] of await span(u)) gaps.push(start - ready);
  }
  return gaps.sort((a, b) => a - b);
}

async function inside(g: Graph): Promise<number> {
  let s = 0;
  for (const u of g.units) s += (await unitSeconds(g.dir, u)).reduce((a, b) => a + b, 0);
  return s;
}

const rows: string[][] = [];
const matrices: string[] = [];
let units = 0, waitLine = "";
{
  const g = await plan("local");
  units = g.units.length;
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "submit", g.dir, "--executor", "local", "--threads", "2"],
    stdout: "null",
    stderr: "null",
  }).output();
  if (r.code !== 0) throw new Error(`local executor: exit ${r.code}`);
  const wall = (performance.now() - t0) / 1000, sum = await inside(g);
  rows.push(["local executor, one process, 2 threads", wall.toFixed(1), sum.toFixed(1), "–"]);
  matrices.push(
    JSON.stringify(JSON.parse(await Deno.readTextFile(join(g.dir, "matrix.json"))).cells),
  );
}
for (
  const [label, cpus] of [["Slurm, 1 job at a time (2 cores each)", 2], [
    "Slurm, 2 jobs at a time (1 core each)",
    1,
  ]] as const
) {
  const g = await plan(`slurm${cpus}`);
  const t0 = performance.now();
  await submit(g, UNIT_KINDS, {
    deno: Deno.execPath(),
    main: MAIN,
    cwd: ROOT,
    permissions: jobPermissions(g),
    resources: Object.fromEntries(Object.keys(UNIT_KINDS).map((k) => [k, { cpus }])),
  });
  await wait(g);
  const wall = (performance.now() - t0) / 1000, sum = await inside(g);
  if (cpus === 2) {
    const w = await waits(g);
    waitLine = `from a dependency's end to the next unit's start (one job at a time): median ${
      w[Math.floor(w.length / 2)].toFixed(1)
    } s, range ${w[0].toFixed(1)}–${w[w.length - 1].toFixed(1)} s over ${w.length} jobs`;
  }
  rows.push([
    label,
    wall.toFixed(1),
    sum.toFixed(1),
    cpus === 2 ? ((wall - sum) / g.units.length).toFixed(1) : "–",
  ]);
  matrices.push(
    JSON.stringify(JSON.parse(await Deno.readTextFile(join(g.dir, "matrix.json"))).cells),
  );
}
console.log(
  `2-cell experiment on ${v.data} (leave out ${
    renderers.join(", ")
  }), small preset, ${v.epochs} map epochs; ${units} units\n`,
);
console.log("| how | wall s | seconds inside the units | overhead per job s |");
console.log("| --- | --: | --: | --: |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
console.log(`\n${waitLine}`);
const auc = (m: string) =>
  (JSON.parse(m) as { head?: { auc: { value: number } }; oneclass: { auc: { value: number } } }[])
    .flatMap((c) => [c.head?.auc.value ?? NaN, c.oneclass.auc.value]);
const gap = Math.max(...auc(matrices[2]).map((x, i) => Math.abs(x - auc(matrices[0])[i])));
console.log(
  `\nmatrix of the jobs with 2 cores ${
    matrices[1] === matrices[0] ? "identical to" : "DIFFERS from"
  } the local executor's (2 threads each); jobs with 1 core: AUCs within ${gap.toFixed(4)}`,
);
if (stopDir) {
  await new Deno.Command("bash", {
    args: [join(ROOT, "tests/cluster/slurm_up.sh"), "--down", stopDir],
  })
    .output();
}
if (!v.keep) await Deno.remove(dir, { recursive: true });
