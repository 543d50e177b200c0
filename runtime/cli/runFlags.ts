/**
 * The options `weft run` and `weft watch` share, and their checks: one
 * definition, so the two commands cannot drift apart.
 */
import { statSync } from "node:fs"
import * as path from "node:path"
import { UsageError, type Io } from "./common.ts"

export const runFlags = {
  concurrency: { type: "string" },
  "command-concurrency": { type: "string" },
  continue: { type: "boolean", default: false },
  reporter: { type: "string" },
  "no-cache": { type: "boolean", default: false },
  force: { type: "boolean", default: false },
  trace: { type: "string" },
  // Every step sees the whole environment: for local debugging (the run says so).
  "allow-all": { type: "boolean", default: false }
} as const

export interface RunFlagValues {
  readonly concurrency?: string | boolean | undefined
  readonly "command-concurrency"?: string | boolean | undefined
  readonly "no-cache"?: string | boolean | undefined
  readonly force?: string | boolean | undefined
  readonly trace?: string | boolean | undefined
}

const isFolder = (file: string): boolean => statSync(file, { throwIfNoEntry: false })?.isDirectory() === true

/** Checks the shared options; returns the concurrency limits (if given) and the trace file (if asked for). */
export const checkRunFlags = (
  values: RunFlagValues,
  io: Io
): { readonly concurrency: number | undefined; readonly commandConcurrency: number | undefined; readonly trace: string | undefined } => {
  if (values["no-cache"] === true && values.force === true) throw new UsageError("--no-cache and --force cannot be used together")
  const trace = values.trace as string | undefined
  if (trace !== undefined && (trace === "" || isFolder(path.resolve(io.cwd, trace)))) {
    throw new UsageError(`--trace needs a file to write the trace to, like --trace trace.json${trace === "" ? "" : `; ${trace} is a folder`}`)
  }
  const [concurrency, commandConcurrency] = (["concurrency", "command-concurrency"] as const).map((flag) => {
    const value = values[flag] === undefined ? undefined : Number(values[flag])
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new UsageError(`--${flag} must be a whole number of at least 1, not "${values[flag]}"`)
    }
    return value
  })
  return { concurrency, commandConcurrency, trace }
}
