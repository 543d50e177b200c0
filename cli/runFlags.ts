/**
 * The options `weft run` and `weft watch` share, and their checks: one
 * definition, so the two commands cannot drift apart. Each entry is also its
 * line in both commands' `--help` (see `flags.ts`).
 */
import { statSync } from "node:fs"
import * as path from "node:path"
import { UsageError, type Io } from "./common.ts"
import { boolean, oneOf, string, wholeNumber } from "./flags.ts"

export const reporters = ["tui", "plain", "json"] as const

export const runFlags = {
  concurrency: string("N", "steps at once, commands included (default: the workflow's concurrency, else 64 or the CPU count if larger; shown when the run starts)", wholeNumber(1)),
  "command-concurrency": string("N", "command steps at once (default: the workflow's, else --concurrency when given, else one per CPU)", wholeNumber(1)),
  continue: boolean("keep independent steps running after a step fails"),
  reporter: string("R", "tui (default on a terminal, not in CI), plain (default otherwise) or json (one event per line)", oneOf(reporters)),
  "no-cache": boolean("neither read nor write the step cache"),
  force: boolean("run every step, then overwrite its cache entry"),
  trace: string("FILE", "write the run as a Chrome trace (open it in ui.perfetto.dev)"),
  // Every step sees the whole environment: for local debugging (the run says so).
  "allow-all": boolean("permissions off, for debugging: every step sees the whole environment (secrets are still masked)")
} as const

export interface RunFlagValues {
  readonly "no-cache": boolean
  readonly force: boolean
  readonly trace: string | undefined
}

const isFolder = (file: string): boolean => statSync(file, { throwIfNoEntry: false })?.isDirectory() === true

/** `weft run --inspect FILE`'s line in `--help` (run only: a watch session is many runs). */
export const inspectFlag = string("FILE", "write XState's inspection events of the run to FILE, one JSON object per line: the run actor, each step actor's creation, events, snapshots and end (for tools and bug reports)")

/** Checks `--inspect`'s file: a file to write, not a folder. */
export const checkInspectFlag = (inspect: string | undefined, io: Io): string | undefined => {
  if (inspect !== undefined && (inspect === "" || isFolder(path.resolve(io.cwd, inspect)))) {
    throw new UsageError(`--inspect needs a file to write the inspection events to, like --inspect run.jsonl${inspect === "" ? "" : `; ${inspect} is a folder`}`)
  }
  return inspect
}

/** Checks what the shared options say together; returns the trace file (if asked for). */
export const checkRunFlags = (values: RunFlagValues, io: Io): { readonly trace: string | undefined } => {
  if (values["no-cache"] && values.force) throw new UsageError("--no-cache and --force cannot be used together")
  const trace = values.trace
  if (trace !== undefined && (trace === "" || isFolder(path.resolve(io.cwd, trace)))) {
    throw new UsageError(`--trace needs a file to write the trace to, like --trace trace.json${trace === "" ? "" : `; ${trace} is a folder`}`)
  }
  return { trace }
}
