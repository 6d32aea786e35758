/**
 * Opens a page in headless Chromium (Debian's `chromium`) over the DevTools protocol, collects
 * console errors, exceptions and failed loads, and takes a full-page screenshot.
 *
 * @module
 */

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** Path of a Chromium binary, if one is installed. */
export function chromiumPath(): string | undefined {
  for (const p of CANDIDATES) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}

/** What loading a page produced. */
export interface PageCheck {
  /** Console errors, uncaught exceptions and log entries of level error. */
  errors: string[];
  /** PNG screenshot of the whole page. */
  screenshot: Uint8Array;
  /** document.title. */
  title: string;
  /** Layout at the viewport width: page width, and elements drawn outside the page or their figure. */
  layout: { pageWidth: number; viewport: number; overflow: string[] };
}

/** Finds what is drawn past the viewport (outside a scrolling box) or outside its own SVG. */
const LAYOUT = `(() => {
  const vw = document.documentElement.clientWidth, out = [];
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > vw + 1 && !scrolls(el)) out.push(el.tagName + " ends at " + Math.round(r.right));
  }
  for (const svg of document.querySelectorAll("svg")) {
    const b = svg.getBoundingClientRect();
    for (const el of svg.querySelectorAll("rect,path,line,text,circle")) {
      if (el.closest("clipPath") || el.closest("defs")) continue;
      const r = el.getBoundingClientRect();
      if (!r.width && !r.height) continue;
      if (r.left < b.left - 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.bottom > b.bottom + 1) {
        out.push("svg " + el.tagName + " " + (el.textContent || "").slice(0, 30) + " outside its figure");
      }
    }
  }
  return { pageWidth: document.documentElement.scrollWidth, viewport: vw, overflow: out.slice(0, 20) };
})()`;

/** Loads `url` and reports what went wrong on the page. */
export async function checkPage(url: string, timeoutMs = 60_000, width = 1280): Promise<PageCheck> {
  const bin = chromiumPath();
  if (!bin) throw new Error("chromium is not installed");
  const profile = await Deno.makeTempDir({ prefix: "cgvsni-chromium-" });
  const proc = new Deno.Command(bin, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stderr: "piped",
    stdout: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      proc.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  try {
    const wsUrl = await devtoolsUrl(proc.stderr);
    const ws = new WebSocket(wsUrl);
    await new Promise((res, rej) => {
      ws.onopen = res;
      ws.onerror = () => rej(new Error("cannot connect to chromium"));
    });
    let id = 0;
    const pending = new Map<number, (v: Record<string, unknown>) => void>();
    const events: { method: string; params: Record<string, unknown> }[] = [];
    const waiters: [string, () => void][] = [];
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.id !== undefined) {
        pending.get(msg.id)?.(msg.error ? { error: msg.error } : msg.result);
      } else {
        events.push(msg);
        for (const [name, f] of waiters) if (name === msg.method) f();
      }
    };
    const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
      new Promise<Record<string, unknown>>((res) => {
        const k = ++id;
        pending.set(k, res);
        ws.send(JSON.stringify({ id: k, method, params, ...(sessionId ? { sessionId } : {}) }));
      });
    const { targetId } = await send("Target.createTarget", { url: "about:blank" }) as {
      targetId: string;
    };
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    };
    for (const d of ["Runtime.enable", "Log.enable", "Page.enable", "Network.enable"]) {
      await send(d, {}, sessionId);
    }
    await send("Emulation.setDeviceMetricsOverride", {
      width,
      height: 900,
      deviceScaleFactor: 1,
      mobile: false,
    }, sessionId);
    const loaded = new Promise<void>((res) => waiters.push(["Page.loadEventFired", res]));
    await send("Page.navigate", { url }, sessionId);
    await loaded;
    await new Promise((r) => setTimeout(r, 300));
    const metrics = await send("Page.getLayoutMetrics", {}, sessionId) as {
      cssContentSize?: { width: number; height: number };
    };
    const size = metrics.cssContentSize ?? { width: 1200, height: 2000 };
    const shot = await send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: {
        x: 0,
        y: 0,
        width: Math.ceil(size.width),
        height: Math.min(8000, Math.ceil(size.height)),
        scale: 1,
      },
    }, sessionId) as { data: string };
    const title = await send("Runtime.evaluate", {
      expression: "document.title",
      returnByValue: true,
    }, sessionId) as {
      result: { value: string };
    };
    const layout = await send(
      "Runtime.evaluate",
      { expression: LAYOUT, returnByValue: true },
      sessionId,
    ) as {
      result: { value: PageCheck["layout"] };
    };
    const errors: string[] = [];
    for (const e of events) {
      const p = e.params as Record<string, Record<string, unknown>>;
      if (e.method === "Runtime.exceptionThrown") {
        errors.push(`exception: ${JSON.stringify(p.exceptionDetails?.text)}`);
      }
      if (
        e.method === "Runtime.consoleAPICalled" &&
        (p as unknown as { type: string }).type === "error"
      ) {
        errors.push(`console.error: ${JSON.stringify((p as unknown as { args: unknown[] }).args)}`);
      }
      if (e.method === "Log.entryAdded" && p.entry?.level === "error") {
        errors.push(`log: ${p.entry?.text}`);
      }
      if (e.method === "Network.loadingFailed") errors.push(`load failed: ${p.errorText ?? ""}`);
    }
    await send("Browser.close").catch(() => {});
    ws.close();
    return {
      errors,
      screenshot: Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0)),
      title: title.result.value,
      layout: layout.result.value,
    };
  } finally {
    clearTimeout(timer);
    try {
      proc.kill("SIGKILL");
    } catch { /* gone */ }
    await proc.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const dec = new TextDecoder();
  let buf = "";
  const reader = stderr.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited before DevTools started: ${buf.slice(-300)}`);
    buf += dec.decode(value);
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(buf);
    if (m) {
      // keep draining stderr so chromium never blocks on a full pipe
      (async () => {
        try {
          while (!(await reader.read()).done) { /* discard */ }
        } catch { /* closed */ }
      })();
      return m[1];
    }
  }
}
