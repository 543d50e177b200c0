/**
 * The watch banner: what watch mode last said, folded from `WatchEvent`s, and
 * the lines it shows. A definition error comes first and stays until a good
 * reload or the next run: the run shown is still the last good definition's,
 * and the user must not mistake it for the edited one.
 */
import { unreachable } from "../runtime/Event.ts"
import type { WatchEvent } from "../runtime/watch/WatchEvent.ts"

export interface WatchView {
  readonly files?: number | undefined
  readonly polling: boolean
  readonly idle: boolean
  readonly change?: { readonly files: ReadonlyArray<string>; readonly steps: ReadonlyArray<string>; readonly interrupted: ReadonlyArray<string> } | undefined
  readonly reload?: { readonly file: string; readonly added: ReadonlyArray<string>; readonly removed: ReadonlyArray<string>; readonly changed: ReadonlyArray<string> } | undefined
  readonly error?: { readonly file: string; readonly message: string } | undefined
  /** The latest warnings, oldest first. */
  readonly warnings: ReadonlyArray<string>
}

export const emptyWatch: WatchView = { polling: false, idle: false, warnings: [] }

const keptWarnings = 2

/** The view after `event` (watch events are rare: a new object each time is fine). */
export const applyWatch = (view: WatchView, event: WatchEvent): WatchView => {
  switch (event.type) {
    case "watch:ready":
      return { ...view, files: event.files, polling: event.polling }
    case "watch:change":
      // A new round: the last reload and warnings were about the previous one.
      return { ...view, idle: false, change: { files: event.files, steps: event.steps, interrupted: event.interrupted }, reload: undefined, warnings: [] }
    case "watch:reload":
      return { ...view, reload: { file: event.file, added: event.added, removed: event.removed, changed: event.changed }, error: undefined }
    case "watch:error":
      return { ...view, error: { file: event.file, message: event.message } }
    case "watch:warning":
      return { ...view, warnings: [...view.warnings, event.message].slice(-keptWarnings) }
    case "watch:idle":
      return { ...view, idle: true }
    default:
      return unreachable(event)
  }
}

/** A run began: the workflow loaded, so no definition error stands. */
export const runStarted = (view: WatchView): WatchView => (view.error === undefined && !view.idle ? view : { ...view, error: undefined, idle: false })

export type BannerTone = "error" | "warning" | "change" | "info"

export interface BannerLine {
  readonly tone: BannerTone
  readonly text: string
}

/** The banner's lines, most important first; empty outside watch mode. */
export const bannerLines = (view: WatchView, maxErrorLines = 4): Array<BannerLine> => {
  const lines: Array<BannerLine> = []
  if (view.error !== undefined) {
    lines.push({ tone: "error", text: `✗ ${view.error.file} does not load: still watching, running the last good definition` })
    for (const text of view.error.message.split("\n").filter((l) => l.trim() !== "").slice(0, maxErrorLines)) lines.push({ tone: "error", text: `  ${text}` })
  }
  if (view.change !== undefined) {
    const { files, steps, interrupted } = view.change
    const what = steps.length === 0 ? "no step affected" : `rerunning ${steps.length} step${steps.length === 1 ? "" : "s"}: ${list(steps)}`
    lines.push({ tone: "change", text: `↻ changed ${list(files)} → ${what}${interrupted.length > 0 ? ` (interrupted ${list(interrupted)})` : ""}` })
  }
  if (view.reload !== undefined) {
    const { file, added, removed, changed } = view.reload
    const diff = [...added.map((s) => `+${s}`), ...removed.map((s) => `-${s}`), ...changed.map((s) => `~${s}`)]
    lines.push({ tone: "change", text: `⟳ reloaded ${file}: ${diff.length === 0 ? "no step changed" : list(diff, 6)}` })
  }
  for (const warning of view.warnings) lines.push({ tone: "warning", text: `⚠ ${warning}` })
  if (view.files !== undefined) {
    lines.push({ tone: "info", text: `watching ${view.files} file${view.files === 1 ? "" : "s"}${view.polling ? " (polling)" : ""}${view.idle ? " · waiting for changes" : ""}` })
  }
  return lines
}

/** `a, b, c (+4 more)`. */
const list = (items: ReadonlyArray<string>, max = 4): string =>
  items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")} (+${items.length - max} more)`
