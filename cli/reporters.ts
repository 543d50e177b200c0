/**
 * Which reporter a command shows its runs with: `--reporter tui|plain|json`,
 * or by default the dashboard on an interactive terminal outside CI, plain
 * text elsewhere. The dashboard is imported only when chosen: Ink and React
 * are start-up time a piped or CI run does not need.
 */
import type { Reporter } from "../runtime/Reporter.ts"
import { json } from "../runtime/reporters/json.ts"
import { plain } from "../runtime/reporters/plain.ts"
import type { WatchControls } from "../runtime/watch/WatchEvent.ts"
import type { Io } from "./common.ts"
import { clearLoading } from "./loading.ts"
import { reporterName } from "./reporterName.ts"

export { reporterName, type ReporterName } from "./reporterName.ts"

export interface ReporterContext {
  /** The workflow file, for the dashboard's header. */
  readonly file?: string | undefined
  /** Step durations from history (ms), for the dashboard's ETA. */
  readonly estimates?: ReadonlyMap<string, number> | undefined
  /** The number the first run shown gets in the header. */
  readonly runNumber?: number | undefined
  /** Watch mode's keys, bound by the dashboard. */
  readonly controls?: WatchControls | undefined
  /**
   * Ctrl-C pressed in the dashboard. It reads the keyboard in raw mode, where
   * the terminal sends no SIGINT, so it must say so itself.
   */
  readonly onInterrupt?: (() => void) | undefined
}

export const chooseReporter = async (given: string | undefined, io: Io, context: ReporterContext = {}): Promise<Reporter> => {
  const name = reporterName(given, io)
  if (name === "json") return json({ write: io.stdout })
  if (name === "plain") return plain({ write: io.stdout })
  const env = io.env ?? process.env
  const { dashboard } = await import("../tui/index.ts")
  // The dashboard draws its own loading line at once: no gap, no duplicate.
  clearLoading(io)
  return dashboard({
    color: env.NO_COLOR === undefined || env.NO_COLOR === "",
    file: context.file,
    estimates: context.estimates,
    runNumber: context.runNumber,
    controls: context.controls,
    onInterrupt: context.onInterrupt
  })
}
