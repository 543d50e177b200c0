/**
 * Human-readable lines for logs and CI: each line whole and prefixed by its
 * step's id (two steps' output never share a line), streamed parts as they
 * arrive, status changes as they happen (starts, throttled progress, what is
 * still running after a silence, with the ETA: `liveLines.ts`), and a
 * summary table at the end.
 */
import { unreachable, type Event } from "../Event.ts"
import { writeStdout, type Reporter, type Write } from "../Reporter.ts"
import { formatDuration, showsParallelism, SummaryBuilder } from "../Summary.ts"
import { describeWatchEvent } from "../watch/describeWatchEvent.ts"
import { LiveLines, realClock, type PlainClock } from "./liveLines.ts"

export type { PlainClock } from "./liveLines.ts"

const icons = { succeeded: "✓", cached: "✓", failed: "✗", skipped: "-", cancelled: "○" } as const

export interface PlainOptions {
  readonly write?: Write
  /** Wall-clock time and timers for the "still running" line (default: the real ones; tests pass virtual ones). */
  readonly clock?: PlainClock | undefined
}

export const plain = (options: PlainOptions = {}): Reporter => {
  const live = new LiveLines(options.write ?? writeStdout, options.clock ?? realClock)
  const write = live.write
  let summary = new SummaryBuilder()
  let width = 0
  const prefix = (step: string) => `${step.padEnd(width)} │ `
  // Errors are often several lines (a command's stderr tail): every line gets
  // the step's prefix, so none of them reads as another step's or as weft's.
  const prefixed = (step: string, text: string) => prefix(step) + text.replaceAll("\n", `\n${prefix(step)}`) + "\n"
  return {
    onEvent(event) {
      // Watch mode shows several runs: each table sums up its own run.
      if (event.type === "run:start") summary = new SummaryBuilder()
      summary.add(event)
      if (event.type === "run:start") live.begin(event)
      else live.apply(event)
      switch (event.type) {
        case "run:start":
          width = Math.min(24, Math.max(0, ...event.steps.map((s) => s.id.length)))
          write(`weft ▸ ${event.workflow}: ${event.steps.length} step${event.steps.length === 1 ? "" : "s"}, concurrency ${event.concurrency}${event.commandConcurrency !== undefined && event.commandConcurrency < event.concurrency ? ` (commands ${event.commandConcurrency})` : ""}${event.permissionsOff === true ? ", permissions off (--allow-all)" : ""}\n`)
          return
        case "step:log":
          write(prefixed(event.step, event.text))
          return
        // A streamed part shows the moment it arrives, like a log line: a piped
        // run reads a long report section by section.
        case "step:partial":
          write(prefixed(event.step, event.text))
          return
        case "step:waiting":
          if (event.over !== true) write(prefixed(event.step, `waiting: ${event.reason}`))
          return
        case "step:retry":
          write(prefixed(event.step, `attempt ${event.attempt} failed: ${event.error}; retrying in ${formatDuration(event.delayMs)}`))
          return
        case "step:end": {
          const [first, ...more] = event.error?.split("\n") ?? []
          write(`${icons[event.status]} ${event.step} ${event.status}${event.optional === true ? " (optional)" : ""}${event.status === "succeeded" || event.status === "failed" ? ` in ${formatDuration(event.durationMs)}` : ""}${event.status === "cached" && event.savedMs !== undefined ? ` (saved ${formatDuration(event.savedMs)})` : ""}${first === undefined ? "" : `: ${first}`}\n${more.length > 0 ? prefixed(event.step, more.join("\n")) : ""}`)
          return
        }
        case "run:warning":
          write(`weft: warning: ${event.message}\n`)
          return
        case "run:end":
          write(table(summary))
          return
        case "step:ready":
        case "step:start":
        case "step:progress":
        case "step:memo":
          // Starts and progress: `live` wrote them, as it decided.
          return
        default:
          return unreachable(event)
      }
    },
    onWatch(event) {
      write(describeWatchEvent(event))
    },
    onEnd() {
      live.stop()
    },
    close() {
      live.stop()
    }
  }
}

const table = (builder: SummaryBuilder): string => {
  const s = builder.summary()
  const idWidth = Math.max(4, ...s.steps.map((l) => l.id.length))
  const rows = s.steps.map((l) =>
    `  ${l.id.padEnd(idWidth)}  ${l.status.padEnd(9)}  ${formatDuration(l.durationMs).padStart(9)}${l.attempts > 1 ? `  ${l.attempts} attempts` : ""}${l.optional === true ? "  optional" : ""}`
  )
  return [
    "",
    `  ${"step".padEnd(idWidth)}  ${"status".padEnd(9)}  ${"duration".padStart(9)}`,
    ...rows,
    "",
    `${s.status === "succeeded" ? "✓" : "✗"} ${s.workflow} ${s.status} in ${formatDuration(s.durationMs)}`,
    `  critical path: ${s.criticalPath.join(" → ") || "(none)"} (${formatDuration(s.criticalPathMs)})`,
    ...(showsParallelism(s) ? [`  parallelism: ${s.parallelism.toFixed(2)}× (busy step time / wall time)`] : []),
    ...(s.savedMs > 0 ? [`  saved: ${formatDuration(s.savedMs)} by the cache and memoized calls`] : []),
    ...Object.entries(s.memo).map(([name, m]) =>
      `  memo ${name}: ${m.calls} calls, ${Math.ceil(m.made ?? m.misses)} made${(m.made ?? m.misses) === m.misses ? "" : ` (for ${m.misses} keys)`}, ${m.hits} hits, ${m.coalesced} coalesced (hit rate ${Math.round(((m.hits + m.coalesced) / m.calls) * 100)}%)`
    ),
    ""
  ].join("\n")
}
