/**
 * The Ink terminal dashboard: a `Reporter` that draws the run live. A header
 * (workflow, run number, elapsed, ETA, overall progress, slots in use), one
 * row per step grouped by dependency level (status, duration, progress,
 * badges, newest log line; the critical path highlighted), the selected
 * step's log, watch mode's banner and keys, and the run's summary at the end.
 *
 * `weft run` and `weft watch` use it on an interactive terminal outside CI,
 * or with `--reporter tui`.
 *
 * @example
 * import { run } from "weft/runtime"
 * import { dashboard } from "./tui/index.ts"
 * await run(wf, { reporter: dashboard({ file: "weft.ts" }) })
 */
import type { Reporter } from "../runtime/Reporter.ts"
import type { WatchControls } from "../runtime/watch/WatchEvent.ts"
import { makeDashboard } from "./dashboard.ts"

export interface DashboardOptions {
  /** Where to draw (default: process.stdout). */
  readonly stdout?: NodeJS.WriteStream | undefined
  /** Where keys come from (default: process.stdin). */
  readonly stdin?: NodeJS.ReadStream | undefined
  /** Colours on (default) or off (`NO_COLOR`). */
  readonly color?: boolean | undefined
  /** The workflow file, for the header. */
  readonly file?: string | undefined
  /** Each step's expected duration in ms, from history: feeds the ETA where `run:start` gives no estimate. */
  readonly estimates?: ReadonlyMap<string, number> | undefined
  /** The header's number for the first run shown (default 1). */
  readonly runNumber?: number | undefined
  /** Watch mode's keys (r, f, c, q). */
  readonly controls?: WatchControls | undefined
  /** Ctrl-C (or q outside watch mode): cancel the run. */
  readonly onInterrupt?: (() => void) | undefined
}

/**
 * The dashboard reporter. It starts drawing at once; outside watch mode it
 * leaves the summary on screen and gives the terminal back when the run ends,
 * in watch mode when `close()` is called.
 */
export const dashboard = (options: DashboardOptions = {}): Reporter => makeDashboard(options)
