/**
 * Draws a `weft run --trace` file as an SVG Gantt chart in the manner of
 * chrome://tracing: a lane per concurrency slot, a labelled bar per step
 * attempt, cache answers as marks on their own lane. It makes the README's
 * picture (docs/trace.svg):
 *
 *   node bin/weft.js run examples/ci-pipeline.ts --trace tmp/trace.json
 *   node bench/tracePicture.ts tmp/trace.json docs/trace.svg
 */
import { readFileSync, writeFileSync } from "node:fs"
import type { Trace, TraceEvent } from "../runtime/trace/Trace.ts"

// chrome://tracing colours a slice by a hash of its name, from a muted palette.
const palette = ["#7da3d6", "#c2a5d3", "#91c383", "#e8b36e", "#df8d8d", "#80c9bf", "#bcb47f", "#a3a3dc", "#d9a3c2", "#9fcde6"]
const colourOf = (name: string): string => {
  let h = 0
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return palette[h % palette.length]!
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** A round tick step giving about `count` ticks over `span` ms: 1, 2 or 5 times a power of ten. */
const tickStep = (span: number, count: number): number => {
  const raw = span / count
  const power = 10 ** Math.floor(Math.log10(raw))
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw)!
}

export interface PictureOptions {
  readonly width?: number
}

/** The SVG of `trace`. */
export const tracePicture = (trace: Trace, options: PictureOptions = {}): string => {
  const width = options.width ?? 960
  const events = trace.traceEvents
  const title = (events.find((e) => e.name === "process_name")?.args?.name as string | undefined) ?? "weft"
  const lanes = events.filter((e) => e.name === "thread_name").map((e) => ({ tid: e.tid, name: String(e.args!.name) }))
  // Slots first, the cached lane (tid 0) last, as the sort indices say.
  lanes.sort((a, b) => (a.tid === 0 ? 1 : b.tid === 0 ? -1 : a.tid - b.tid))
  const slices = events.filter((e): e is TraceEvent & { ts: number } => (e.ph === "X" || e.ph === "i") && e.ts !== undefined)
  const endMs = Math.max(1, ...slices.map((e) => (e.ts + (e.dur ?? 0)) / 1000))
  const left = 70
  const right = 12
  const top = 48
  const laneHeight = 24
  const plot = width - left - right
  const x = (ms: number) => left + (ms / endMs) * plot
  const height = top + lanes.length * laneHeight + 14
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="16" font-size="12" font-weight="bold" fill="#333">${escape(title)}<tspan dx="10" font-weight="normal" fill="#777">${+endMs.toPrecision(4)} ms, ${lanes.filter((l) => l.tid !== 0).length} slots</tspan></text>`
  ]
  const step = tickStep(endMs, 10)
  for (let t = 0; t <= endMs; t += step) {
    out.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 14}" x2="${x(t).toFixed(1)}" y2="${height - 10}" stroke="#e4e4e4"/>`)
    if (x(t) + 44 < width) out.push(`<text x="${(x(t) + 3).toFixed(1)}" y="${top - 5}" fill="#777">${+t.toPrecision(6)} ms</text>`)
  }
  lanes.forEach((lane, i) => {
    const y = top + i * laneHeight
    if (i % 2 === 0) out.push(`<rect x="0" y="${y}" width="${width}" height="${laneHeight}" fill="#f5f5f5" fill-opacity="0.7"/>`)
    out.push(`<text x="8" y="${y + 16}" fill="#444">${escape(lane.name)}</text>`)
    for (const e of slices.filter((s) => s.tid === lane.tid)) {
      const x0 = x(e.ts / 1000)
      if (e.ph === "i") {
        out.push(`<path d="M${x0.toFixed(1)} ${y + 5} l4 7 l-4 7 l-4 -7 z" fill="${colourOf(e.name)}" stroke="#555" stroke-width="0.5"><title>${escape(e.name)} (cached)</title></path>`)
        continue
      }
      const w = Math.max(1, x(((e.ts ?? 0) + (e.dur ?? 0)) / 1000) - x0)
      const failed = e.args?.status !== "succeeded"
      out.push(`<rect x="${x0.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${laneHeight - 6}" fill="${colourOf(e.name)}" stroke="${failed ? "#c62828" : "#5f6f80"}" stroke-width="${failed ? 1.5 : 0.5}"><title>${escape(`${e.name}: ${(e.dur ?? 0) / 1000} ms, ${String(e.args?.status)}, attempt ${String(e.args?.attempt)}`)}</title></rect>`)
      const label = fit(e.name, w - 6)
      if (label !== "") out.push(`<text x="${(x0 + 3).toFixed(1)}" y="${y + 16}" fill="#1d1d1d">${escape(label)}</text>`)
    }
  })
  out.push("</svg>")
  return `${out.join("\n")}\n`
}

/** `text` cut to fit `px` at about 6 px a character, with an ellipsis; "" when not even three characters fit. */
const fit = (text: string, px: number): string => {
  const chars = Math.floor(px / 6)
  if (text.length <= chars) return text
  return chars < 4 ? "" : `${text.slice(0, chars - 1)}…`
}

if (import.meta.main) {
  const [input, output] = process.argv.slice(2)
  if (input === undefined || output === undefined) {
    process.stderr.write("usage: node bench/tracePicture.ts trace.json out.svg\n")
    process.exit(2)
  }
  writeFileSync(output, tracePicture(JSON.parse(readFileSync(input, "utf8")) as Trace))
}
