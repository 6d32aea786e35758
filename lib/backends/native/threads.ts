/**
 * How many threads oneDNN's OpenMP runtime uses, and how they wait. The toolkit's users run on
 * shared servers, where OpenMP's defaults collapse: its threads spin while they wait, and when
 * another job holds a core the others spin for nothing at every barrier (measured in
 * docs/bench.md). So, unless the user set them:
 *
 * - `OMP_WAIT_POLICY=passive`: waiting threads sleep instead of spinning (set before the
 *   library loads; needs `--allow-env=OMP_WAIT_POLICY`, which the tasks grant);
 * - threads = the cores this process may use (affinity and cgroup quota, as the runtime
 *   reports them) minus the machine's load (1-minute load average, `--allow-sys=loadavg`),
 *   at least 1; `--threads N` or `CGVSNI_THREADS` overrides it.
 *
 * @module
 */

/** Reads an environment variable if permitted (never prompts). */
function env(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The 1-minute load average, if permitted. */
function load(): number | undefined {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "loadavg" }).state !== "granted") {
      return undefined;
    }
    return Deno.loadavg()[0];
  } catch {
    return undefined;
  }
}

/** The thread count to use and why (for the log line). */
export function chooseThreads(requested?: number): { threads: number; why: string } {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  if (requested !== undefined) return { threads: requested, why: "--threads" };
  const fromEnv = Number(env("CGVSNI_THREADS") ?? env("OMP_NUM_THREADS"));
  if (Number.isInteger(fromEnv) && fromEnv >= 1) {
    return { threads: fromEnv, why: env("CGVSNI_THREADS") ? "CGVSNI_THREADS" : "OMP_NUM_THREADS" };
  }
  const l = load();
  if (l === undefined) return { threads: cores, why: `${cores} cores` };
  const threads = Math.min(cores, Math.max(1, Math.round(cores - l)));
  return { threads, why: `${cores} cores, load ${l.toFixed(2)}` };
}

/** Asks OpenMP's threads to sleep while they wait, unless the user chose a policy. */
export function preferPassiveWaiting(): boolean {
  try {
    if (
      Deno.permissions.querySync({ name: "env", variable: "OMP_WAIT_POLICY" }).state !== "granted"
    ) {
      return false;
    }
    if (Deno.env.get("OMP_WAIT_POLICY")) return false;
    Deno.env.set("OMP_WAIT_POLICY", "passive");
    return true;
  } catch {
    return false;
  }
}

let gomp: { omp_set_num_threads(n: number): void; omp_get_max_threads(): number } | undefined;

/** Sets OpenMP's thread count (the runtime oneDNN loaded); returns the count in effect. */
export function setOmpThreads(n: number): number {
  if (!gomp) {
    gomp = Deno.dlopen("libgomp.so.1", {
      omp_set_num_threads: { parameters: ["i32"], result: "void" },
      omp_get_max_threads: { parameters: [], result: "i32" },
    }).symbols;
  }
  gomp.omp_set_num_threads(n);
  return gomp.omp_get_max_threads();
}
