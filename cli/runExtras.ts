/**
 * What a run from the command line gets besides its reporter, shared by
 * `weft run` and `weft watch`: the log files and `--trace` reporters to tee
 * with it, and from history the steps' recent durations (the scheduler's
 * priorities, the dashboard's ETA) and the run's number (its header).
 */
import * as path from "node:path"
import type { Workflow } from "../dsl/Workflow.ts"
import { nextRunNumber, readDurations } from "../runtime/history/durations.ts"
import { logFiles, logsDir } from "../runtime/logs/LogFiles.ts"
import type { Reporter } from "../runtime/Reporter.ts"
import { traceWriter } from "../runtime/trace/Trace.ts"
import type { Io } from "./common.ts"

export interface RunExtrasOptions {
  readonly io: Io
  readonly workflow: Workflow<any>
  /** The run's cache folder: history and logs live beside it in `.weft/`. */
  /** Weft's folder: history and logs. */
  readonly weftDir: string
  /** `--trace`: where to write each run's trace, relative to `io.cwd`. */
  readonly trace?: string | undefined
}

export interface RunExtras {
  /** Tee these with the chosen reporter: log files, and the trace writer when asked for. */
  readonly reporters: ReadonlyArray<Reporter>
  /** Each step's median recent duration (ms): pass as `run`'s `durations` and the dashboard's `estimates`. */
  readonly durations: ReadonlyMap<string, number>
  /** The number of the run about to start, for the dashboard's header. */
  readonly runNumber: number
}

/**
 * Prepares a run's extras. History that cannot be read costs the estimates
 * only; logs or a trace that cannot be written are said on stderr, and the
 * run goes on.
 */
export const runExtras = async (options: RunExtrasOptions): Promise<RunExtras> => {
  const { io, workflow, weftDir } = options
  const warn = (message: string) => io.stderr(`weft: ${message}\n`)
  const unreadable = (error: unknown) => {
    warn(`cannot read the run history in ${weftDir} (${(error as Error).message}); running without step estimates`)
    return undefined
  }
  const [durations, runNumber] = await Promise.all([
    readDurations(weftDir, workflow.name).catch(unreadable),
    nextRunNumber(weftDir, workflow.name).catch(() => 1)
  ])
  const reporters: Array<Reporter> = [logFiles({ dir: logsDir(weftDir), onError: warn })]
  if (options.trace !== undefined) reporters.push(traceWriter({ file: path.resolve(io.cwd, options.trace), onError: warn }))
  return { reporters, durations: durations ?? new Map(), runNumber }
}
