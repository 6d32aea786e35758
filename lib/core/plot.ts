/**
 * Small, dependency-free SVG charts for training curves, ROC curves and histograms. Output is a
 * standalone SVG document that any browser opens.
 *
 * @module
 */

import { hashString } from "./rng.ts";

/** One line of a chart. */
export interface Series {
  name: string;
  points: [number, number][];
  /** CSS colour; picked from a palette if absent. */
  color?: string;
  /** Draw as a dashed line. */
  dashed?: boolean;
}

/** A chart panel. */
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fixed y range (default: fitted to the data). */
  yRange?: [number, number];
  /** Fixed x range (default: fitted to the data). */
  xRange?: [number, number];
  /** Draw bars (histogram) instead of lines: each point is [bin centre, height]. */
  bars?: boolean;
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

/** Escapes text for SVG/HTML. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(+t.toPrecision(12));
  }
  return out;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : +v.toPrecision(4) + "";
}

/** Legend rows: each entry's text width is estimated at 6.5 px a character. */
function legendRows(
  c: Chart,
  width: number,
): { name: string; color: string; dashed?: boolean; x: number; row: number }[] {
  const out: { name: string; color: string; dashed?: boolean; x: number; row: number }[] = [];
  let x = 0, row = 0;
  c.series.forEach((s, i) => {
    const w = 26 + s.name.length * 6.5 + 12;
    if (x > 0 && x + w > width) [x, row] = [0, row + 1];
    out.push({
      name: s.name,
      color: s.color ?? PALETTE[i % PALETTE.length],
      dashed: s.dashed,
      x,
      row,
    });
    x += w;
  });
  return out;
}

/**
 * Renders one chart as an SVG `<g>` of size `w`x`h` at (`x`, `y`): the title, the legend in a
 * band of its own above the frame (never over the data), the data clipped to the frame (bars
 * included: the x range leaves half a bin at each end), ticks and axis labels.
 */
function panel(c: Chart, x0: number, y0: number, w: number, h: number): string {
  const legend = legendRows(c, w - 64);
  const rows = legend.length ? legend[legend.length - 1].row + 1 : 0;
  const m = { l: 56, r: 12, t: 24 + 15 * rows, b: 40 };
  const pts = c.series.flatMap((s) => s.points).filter(([a, b]) =>
    Number.isFinite(a) && Number.isFinite(b)
  );
  let [xlo, xhi] = c.xRange ??
    [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [ylo, yhi] = c.yRange ??
    [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (!pts.length) [xlo, xhi, ylo, yhi] = [0, 1, 0, 1];
  if (c.bars && pts.length) {
    // half a bin beyond the outermost centres, so every bar lies inside the frame
    const xs = [...new Set(pts.map((p) => p[0]))].sort((a, b) => a - b);
    const bin = xs.length > 1 ? Math.min(...xs.slice(1).map((v, i) => v - xs[i])) : 1;
    [xlo, xhi] = [xlo - bin / 2, xhi + bin / 2];
  }
  if (xhi === xlo) [xlo, xhi] = [xlo - 0.5, xhi + 0.5];
  if (yhi === ylo) [ylo, yhi] = [ylo - 0.5, yhi + 0.5];
  if (c.bars) ylo = Math.min(0, ylo);
  const pw = w - m.l - m.r, ph = h - m.t - m.b;
  const sx = (v: number) => x0 + m.l + ((v - xlo) / (xhi - xlo)) * pw;
  const sy = (v: number) => y0 + m.t + ph - ((v - ylo) / (yhi - ylo)) * ph;
  // an id unique to this panel's content, so SVGs inlined in one page never share one
  const clip = `clip-${
    hashString(JSON.stringify([c.title, x0, y0, w, h, c.series.map((s) => s.points.length)]))[0]
      .toString(36)
  }-${hashString(JSON.stringify(c.series))[1].toString(36)}`;
  const out: string[] = [];
  out.push(
    `<defs><clipPath id="${clip}"><rect x="${x0 + m.l}" y="${
      y0 + m.t
    }" width="${pw}" height="${ph}"/></clipPath></defs>`,
  );
  out.push(
    `<text x="${x0 + w / 2}" y="${y0 + 15}" text-anchor="middle" font-weight="bold">${
      esc(c.title)
    }</text>`,
  );
  for (const e of legend) {
    const lx = x0 + m.l + e.x, ly = y0 + 32 + e.row * 15;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${
        ly - 4
      }" stroke="${e.color}" stroke-width="3"${e.dashed ? ' stroke-dasharray="5,3"' : ""}/>`,
    );
    out.push(`<text x="${lx + 22}" y="${ly}">${esc(e.name)}</text>`);
  }
  out.push(
    `<rect x="${x0 + m.l}" y="${
      y0 + m.t
    }" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
  );
  for (const t of niceTicks(xlo, xhi)) {
    out.push(
      `<line x1="${sx(t)}" y1="${y0 + m.t + ph}" x2="${sx(t)}" y2="${
        y0 + m.t + ph + 4
      }" stroke="#999"/>`,
    );
    out.push(`<text x="${sx(t)}" y="${y0 + m.t + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(ylo, yhi)) {
    out.push(
      `<line x1="${x0 + m.l}" y1="${sy(t)}" x2="${x0 + m.l + pw}" y2="${sy(t)}" stroke="#eee"/>`,
    );
    out.push(`<text x="${x0 + m.l - 5}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(
    `<text x="${x0 + m.l + pw / 2}" y="${y0 + h - 6}" text-anchor="middle">${esc(c.xLabel)}</text>`,
  );
  out.push(
    `<text x="${x0 + 14}" y="${y0 + m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 ${
      x0 + 14
    } ${y0 + m.t + ph / 2})">${esc(c.yLabel)}</text>`,
  );
  const data: string[] = [];
  c.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const good = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (c.bars) {
      const width = good.length > 1 ? Math.abs(sx(good[1][0]) - sx(good[0][0])) : pw / 10;
      for (const [a, b] of good) {
        if (b === 0) continue;
        data.push(
          `<rect x="${sx(a) - width / 2}" y="${Math.min(sy(b), sy(0))}" width="${width}" height="${
            Math.abs(sy(0) - sy(b))
          }" fill="${color}" fill-opacity="0.45" stroke="${color}"/>`,
        );
      }
    } else if (good.length) {
      const d = good.map(([a, b], k) => `${k ? "L" : "M"}${sx(a).toFixed(1)},${sy(b).toFixed(1)}`)
        .join("");
      data.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${
          s.dashed ? ' stroke-dasharray="5,4"' : ""
        }/>`,
      );
      if (good.length === 1) {
        data.push(`<circle cx="${sx(good[0][0])}" cy="${sy(good[0][1])}" r="3" fill="${color}"/>`);
      }
    }
  });
  out.push(`<g clip-path="url(#${clip})">${data.join("")}</g>`);
  return `<g>${out.join("")}</g>`;
}

/** Renders charts side by side as one SVG document. */
export function renderSvg(charts: Chart[], panelWidth = 420, panelHeight = 300): string {
  const w = panelWidth * charts.length;
  const body = charts.map((c, i) => panel(c, i * panelWidth, 0, panelWidth, panelHeight)).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${panelHeight}" viewBox="0 0 ${w} ${panelHeight}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}
