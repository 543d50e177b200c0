/**
 * The Ink terminal dashboard: a `Reporter` that draws the run live.
 * (Being built: issue 4.)
 */
import type { Reporter } from "../runtime/Reporter.ts"
import type { WatchControls } from "../runtime/watch/WatchEvent.ts"

export interface DashboardOptions {
  /** Where to draw (default: process.stdout). */
  readonly stdout?: NodeJS.WriteStream | undefined
  /** Where keys come from (default: process.stdin). */
  readonly stdin?: NodeJS.ReadStream | undefined
  /** Colours on (default) or off (`NO_COLOR`). */
  readonly color?: boolean | undefined
  /** The workflow file, for the header. */
  readonly file?: string | undefined
  /** Each step's expected duration in ms, from history: feeds the ETA. */
  readonly estimates?: ReadonlyMap<string, number> | undefined
  /** The header's number for the first run shown (default 1). */
  readonly runNumber?: number | undefined
  /** Watch mode's keys (r, f, c, q). */
  readonly controls?: WatchControls | undefined
  /** Ctrl-C (or q outside watch mode): cancel the run. */
  readonly onInterrupt?: (() => void) | undefined
}

export const dashboard = (_options: DashboardOptions = {}): Reporter => {
  throw new Error("weft: the dashboard is not built yet; use --reporter plain")
}
