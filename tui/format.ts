/**
 * Short text for the dashboard's narrow columns: durations, bars, the
 * spinner. The summary uses `formatDuration` from `Summary.ts`, as the plain
 * reporter does, so both print the same figures.
 */

/** `340ms`, `1.2s`, `12s`, `2m05s`, `1h02m`: at most six characters (the forecast's ETA and the plain reporter share it). */
export { shortDuration as short } from "../runtime/shortDuration.ts"

/** A bar `width` cells wide, filled to `fraction` (clamped to 0..1). */
export const bar = (fraction: number, width: number): string => {
  if (width <= 0) return ""
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0
  const full = Math.floor(f * width)
  return "█".repeat(full) + "░".repeat(width - full)
}

const spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/** How long each spinner frame shows: the dashboard redraws on this beat while steps run. */
export const spinnerMs = 100

/** The spinner's frame at run time `ms`: every running row turns together, on the render beat. */
export const spinner = (ms: number): string => spinnerFrames[Math.floor(ms / spinnerMs) % spinnerFrames.length]!

/** `text` cut to `width` characters, ending in `…` when cut. */
export const clip = (text: string, width: number): string =>
  width <= 0 ? "" : text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`

// CSI and OSC sequences, then any other escape or control character but tab.
const controls = /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\u001B[@-_]?|[\u0000-\u0008\u000B-\u001F\u007F]/g

/**
 * A line of a step's output made safe to draw: escape sequences removed (a
 * tool's cursor moves would tear the frame, and its colours would break
 * `NO_COLOR`), text before a carriage return dropped as a terminal would
 * overwrite it, tabs as two spaces.
 */
export const sanitize = (line: string): string => {
  const body = line.endsWith("\r") ? line.slice(0, -1) : line
  const cr = body.lastIndexOf("\r")
  const shown = cr === -1 ? body : body.slice(cr + 1)
  return shown.replace(controls, "").replaceAll("\t", "  ")
}

/** `text` broken at spaces into lines of at most `width` (a longer word keeps its own line), later lines indented by `indent`. */
export const wrapWords = (text: string, width: number, indent = "    "): Array<string> => {
  if (text.length <= width) return [text]
  const lead = /^ */.exec(text)![0]
  const lines: Array<string> = []
  let line = lead
  for (const word of text.slice(lead.length).split(" ")) {
    const candidate = line.trim() === "" ? line + word : `${line} ${word}`
    if (candidate.length > width && line.trim() !== "") {
      lines.push(line)
      line = indent + word
    } else {
      line = candidate
    }
  }
  lines.push(line)
  return lines
}
