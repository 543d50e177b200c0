/**
 * The options `weft run` and `weft watch` share, and their checks: one
 * definition, so the two commands cannot drift apart. Each entry is also its
 * line in both commands' `--help` (see `flags.ts`).
 */
import { statSync } from "node:fs"
import * as path from "node:path"
import { UsageError, type Io } from "./common.ts"
import { boolean, oneOf, string, wholeNumber } from "./flags.ts"
import { remoteCacheFromEnv, remoteUrlProblem } from "../runtime/cache/remote/remoteSettings.ts"
import type { RemoteCacheSettings } from "../runtime/cache/remote/RemoteCache.ts"

export const reporters = ["tui", "plain", "json"] as const

export const runFlags = {
  concurrency: string("N", "steps at once, commands included (default: the workflow's concurrency, else 64 or the CPU count if larger; shown when the run starts)", wholeNumber(1)),
  "command-concurrency": string("N", "command steps at once (default: the workflow's, else --concurrency when given, else one per CPU)", wholeNumber(1)),
  continue: boolean("keep independent steps running after a step fails"),
  reporter: string("R", "tui (default on a terminal, not in CI), plain (default otherwise) or json (one event per line)", oneOf(reporters)),
  "no-cache": boolean("neither read nor write the step cache"),
  force: boolean("run every step, then overwrite its cache entry"),
  "remote-cache": string("URL", "share the cache through a Turborepo remote cache server (Vercel's or self-hosted; default $WEFT_REMOTE_CACHE); the token is read from $WEFT_REMOTE_CACHE_TOKEN, a signature key from $WEFT_REMOTE_CACHE_SIGNATURE_KEY", (text, flag) => {
    const problem = remoteUrlProblem(text)
    if (problem !== undefined) throw new UsageError(`${flag}: ${problem}`)
    return text
  }),
  "remote-cache-team": string("TEAM", "the remote cache's team: an id (team_…) or a slug (default $WEFT_REMOTE_CACHE_TEAM)"),
  "remote-cache-read-only": boolean("download from the remote cache, never upload (pull requests from forks; or WEFT_REMOTE_CACHE_READ_ONLY=1)"),
  trace: string("FILE", "write the run as a Chrome trace (open it in ui.perfetto.dev)"),
  // Every step sees the whole environment: for local debugging (the run says so).
  "allow-all": boolean("permissions off, for debugging: every step sees the whole environment (secrets are still masked)")
} as const

export interface RunFlagValues {
  readonly "no-cache": boolean
  readonly force: boolean
  readonly trace: string | undefined
  readonly "remote-cache"?: string | undefined
  readonly "remote-cache-team"?: string | undefined
  readonly "remote-cache-read-only"?: boolean | undefined
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
export const checkRunFlags = (values: RunFlagValues, io: Io): { readonly trace: string | undefined; readonly remote: RemoteCacheSettings | false } => {
  if (values["no-cache"] && values.force) throw new UsageError("--no-cache and --force cannot be used together")
  const remote = remoteCacheFromEnv(io.env ?? process.env, { url: values["remote-cache"], team: values["remote-cache-team"], readOnly: values["remote-cache-read-only"] })
  if (remote === undefined && (values["remote-cache-read-only"] === true || values["remote-cache-team"] !== undefined)) {
    throw new UsageError(`${values["remote-cache-read-only"] === true ? "--remote-cache-read-only" : "--remote-cache-team"} needs a remote cache: give --remote-cache URL or set WEFT_REMOTE_CACHE`)
  }
  const envProblem = remote === undefined || values["remote-cache"] !== undefined ? undefined : remoteUrlProblem(remote.url)
  if (envProblem !== undefined) throw new UsageError(`WEFT_REMOTE_CACHE: ${envProblem}`)
  const trace = values.trace
  if (trace !== undefined && (trace === "" || isFolder(path.resolve(io.cwd, trace)))) {
    throw new UsageError(`--trace needs a file to write the trace to, like --trace trace.json${trace === "" ? "" : `; ${trace} is a folder`}`)
  }
  // Explicit, even when absent: the command's environment (io.env) decides, not the process's.
  return { trace, remote: remote ?? false }
}
