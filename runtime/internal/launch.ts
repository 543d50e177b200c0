/**
 * How `runCommand` starts a process, whichever way it is started: directly
 * with Node's `spawn`, or through the spawner (`spawner.ts`). Either way the
 * process leads its own process group and session, gets stdin from
 * /dev/null, exactly the environment given, and its stdout and stderr as
 * streams that end when every process holding them has closed them.
 */
import { spawn } from "node:child_process"
import type { Readable } from "node:stream"
import { launchThroughSpawner } from "./spawner.ts"

/** A process to start: argv (never through a shell), its directory and its whole environment. */
export interface LaunchRequest {
  readonly argv: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** The tree id in `env` (`processTree.ts`), for whoever ends the tree if weft dies. */
  readonly treeId?: string | undefined
}

/** What a launch reports, each at most once, in this order; `error` may also follow `start`. */
export interface LaunchHandlers {
  /**
   * It was forked: its pid, which leads its own process group, and its
   * output. `release`, when given, says the launcher itself ends the tree
   * should weft die (the spawner does; the watchdog is not needed) until
   * `release` is called, once weft has seen the process close.
   */
  readonly start: (pid: number, stdout: Readable, stderr: Readable, release?: () => void) => void
  /**
   * It could not start (`code` as Node's spawn gives it: ENOENT, EACCES…).
   * Through the spawner this comes after `start` when the fork worked and the
   * exec did not; there is no `close` then.
   */
  readonly error: (error: NodeJS.ErrnoException) => void
  /** It exited and its output was closed by every process holding it. */
  readonly close: (code: number | null, signal: NodeJS.Signals | null) => void
}

/** Starts `request` through the spawner when it can, else with Node's `spawn`. */
export const launch = (request: LaunchRequest, handlers: LaunchHandlers): void => {
  if (!launchThroughSpawner(request, handlers, () => launchDirect(request, handlers))) launchDirect(request, handlers)
}

/** Node's `spawn`, detached: a fork of weft itself on the main thread (its cost grows with weft's memory). */
export const launchDirect = (request: LaunchRequest, handlers: LaunchHandlers): void => {
  const [program, ...args] = request.argv
  const child = spawn(program!, args, { cwd: request.cwd, env: request.env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
  if (child.pid !== undefined) handlers.start(child.pid, child.stdout, child.stderr)
  // Without a pid it never started, and `error` is the outcome; afterwards `close` is.
  child.on("error", (error: NodeJS.ErrnoException) => {
    if (child.pid === undefined) handlers.error(error)
  })
  child.on("close", (code, signal) => {
    if (child.pid !== undefined) handlers.close(code, signal)
  })
}
