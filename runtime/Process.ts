/**
 * Runs a `Command` as a child process: argv as a list (no shell), started
 * through the spawner or Node's `spawn` (`internal/launch.ts`), output
 * streamed line by line, and on interruption the whole process tree
 * torn down (SIGTERM, a grace period, then SIGKILL) before interruption
 * completes.
 *
 * Each command gets its own process group (and session), so a signal to
 * the group reaches everything it started: `npm run build` → `sh` → `tsc`.
 * What left the group (`setsid`, a daemon) is found in `/proc` by its parent
 * chain or the tree id in its environment, and signalled with the group
 * (`internal/processTree.ts`). On a normal exit the tree is left alone: a
 * program that deliberately leaves a background process running keeps it.
 * But the step only ends when every process holding its stdout or stderr has
 * closed them (the `close` event), exactly like a shell pipeline.
 *
 * Why not a PID namespace, where nothing of a step could outlive it: it
 * needs an unprivileged user namespace (refused by some distributions'
 * defaults, and inside many containers), costs a process per command, and
 * changes what a step sees (its own pid 1, another `/proc`, uid mapping);
 * and it would end a background process the step meant to leave running.
 * A step that wants it can declare the sandbox (`permissions.sandbox`),
 * which runs it in one.
 */
import { existsSync } from "node:fs"
import * as path from "node:path"
import type { Readable } from "node:stream"
import { StringDecoder } from "node:string_decoder"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { displayOf, type Command, type CommandOutput } from "../dsl/Command.ts"
import { launch } from "./internal/launch.ts"
import { makeLineSplitter, maxLineBytes, type SafeCut } from "./internal/lineSplitter.ts"
import { newTreeId, processTable, ProcessTree, treeVariable } from "./internal/processTree.ts"
import { guard, release, watchdogPid } from "./internal/watchdog.ts"
import { spawnerProcess } from "./internal/spawner.ts"

/** The process table and the tree variable, for tools that look for what a run left running (`verify`'s faults). */
export { processTable, treeVariable, type Proc } from "./internal/processTree.ts"

/**
 * weft's own helper processes, alive for the life of this process: the
 * watchdog and the spawner (which starts the commands it is asked to, each
 * carrying its tree id). Not a step's: a check for what steps left behind
 * must pass them by.
 */
export const helperPids = (): ReadonlySet<number> =>
  new Set([watchdogPid(), spawnerProcess()?.pid].filter((pid): pid is number => pid !== undefined))

/** How `runCommand` spawns and reports. */
export interface RunCommandOptions {
  /** Absolute directory; a relative `command.cwd` is resolved against it. */
  readonly cwd: string
  /** The child's whole environment; `command.env` is laid over it. */
  readonly env: NodeJS.ProcessEnv
  /** Called once per output line, without the newline; lines over 64 KiB arrive in pieces. */
  readonly onLine: (stream: "stdout" | "stderr", text: string) => void
  /**
   * When given, called instead of `onLine`, once per chunk of output read,
   * with the lines it completed, in order; the array is the callee's. A
   * command printing a lot then costs its caller one report per chunk (up to
   * 64 KiB) rather than one per line.
   */
  readonly onLines?: ((stream: "stdout" | "stderr", lines: Array<string>) => void) | undefined
  /**
   * Where a line over 64 KiB may be cut (the redactor's `safeByteCut`), so a
   * secret printed across the cut is not split between two pieces, each then
   * masked without it. Without it, pieces are exactly 64 KiB.
   */
  readonly safeCut?: SafeCut | undefined
  /**
   * Masks secrets in how the command is shown in its error (`displayOf`):
   * each interpolated word before it is quoted, so no quoted form of a
   * secret reaches the error, the dashboard, the trace or the history.
   */
  readonly redact?: ((text: string) => string) | undefined
  /** Milliseconds between SIGTERM and SIGKILL when interrupted (default 2000). */
  readonly graceMs?: number
}

/** A command that could not start, exited non-zero or was killed by a signal. */
export class CommandError extends Data.TaggedError("CommandError")<{
  /** The command as the user wrote it, secrets masked (`displayOf`). */
  readonly command: string
  readonly exitCode: number | null
  readonly signal: string | null
  /** The last lines it wrote to stderr, usually the part that says what went wrong. */
  readonly stderrTail: ReadonlyArray<string>
  /** Why it could not start, when it could not. */
  readonly reason?: string | undefined
}> {
  override get message(): string {
    const head = this.reason ??
      (this.signal !== null
        ? `command "${this.command}" was killed by ${this.signal}`
        : `command "${this.command}" exited with code ${this.exitCode}`)
    return this.stderrTail.length === 0 ? head : [`${head}:`, ...this.stderrTail.map((line) => `  ${line}`)].join("\n")
  }
}

/** Whether `u` is a `CommandError`. */
export const isCommandError = (u: unknown): u is CommandError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "CommandError"

/** Bytes of stdout kept for `CommandOutput.stdout`; every line still reaches `onLine`. */
export const maxStdoutBytes = 1024 * 1024
/** Lines of stderr kept for the error message. */
export const stderrTailLines = 20
/** How long to wait after SIGKILL before giving up on a process the kernel will not let go. */
const reapMs = 2000

/**
 * Spawns `command.argv[0]` with the rest as arguments and succeeds with its
 * output when it exits with code 0. Interrupting the fiber kills the process
 * group and waits for it to be gone; lines printed meanwhile still reach
 * `onLine`, which must not throw.
 *
 * @example
 * const output = yield* runCommand(cmd(["git", "rev-parse", "HEAD"]), {
 *   cwd: "/repo", env: process.env, onLine: (stream, text) => log(stream, text)
 * })
 */
export const runCommand = (command: Command, options: RunCommandOptions): Effect.Effect<CommandOutput, CommandError> =>
  Effect.callback<CommandOutput, CommandError>((resume) => {
    const display = displayOf(command, options.redact)
    const fail = (fields: Omit<ConstructorParameters<typeof CommandError>[0], "command">) =>
      resume(Effect.fail(new CommandError({ command: display, ...fields })))
    const program = command.argv[0]
    if (program === undefined) return void fail({ exitCode: null, signal: null, stderrTail: [], reason: "the command is empty: argv has no program" })

    const cwd = path.resolve(options.cwd, command.cwd ?? ".")
    const treeId = newTreeId()
    let pid: number | undefined
    let tree: ProcessTree | undefined
    let streams: readonly [Readable, Readable] | undefined
    const kept: Array<Buffer> = []
    let keptBytes = 0
    let truncated = false
    const tail: Array<string> = []
    // Lines completed by the chunk at hand, handed over once it is split.
    let outLines: Array<string> = []
    let errLines: Array<string> = []
    const deliver = (stream: "stdout" | "stderr") => {
      const lines = stream === "stdout" ? outLines : errLines
      if (lines.length === 0) return
      if (stream === "stdout") outLines = []
      else errLines = []
      if (options.onLines !== undefined) options.onLines(stream, lines)
      else for (const text of lines) options.onLine(stream, text)
    }
    const stdout = makeLineSplitter((text) => outLines.push(text), maxLineBytes, options.safeCut)
    const stderr = makeLineSplitter((text) => {
      tail.push(text)
      if (tail.length > stderrTailLines) tail.shift()
      errLines.push(text)
    }, maxLineBytes, options.safeCut)

    let closed = false
    let interrupted: (() => void) | undefined
    const onClosed: Array<() => void> = []
    const finish = () => {
      closed = true
      if (pid !== undefined) untrack(pid)
      stdout.end()
      deliver("stdout")
      stderr.end()
      deliver("stderr")
      onClosed.forEach((f) => f())
    }
    launch({
      argv: command.argv,
      cwd,
      // Last, so a command cannot take it off: teardown finds what left the group by it.
      env: { ...options.env, ...command.env, [treeVariable]: treeId },
      treeId
    }, {
      start: (started, out, err, release) => {
        pid = started
        tree = new ProcessTree(started, treeId)
        streams = [out, err]
        track(started, tree, treeId, release)
        out.on("data", (chunk: Buffer) => {
          stdout.push(chunk)
          deliver("stdout")
          const room = maxStdoutBytes - keptBytes
          if (chunk.length > room) truncated = true
          if (room > 0) {
            kept.push(chunk.subarray(0, room))
            keptBytes += Math.min(room, chunk.length)
          }
        })
        err.on("data", (chunk: Buffer) => {
          stderr.push(chunk)
          deliver("stderr")
        })
        // Backpressure: one chunk per turn of the event loop, so the lines already
        // reported are consumed (the executor drains on the next turn) before more
        // are read. A step printing 1 GiB then costs weft bounded memory, and the
        // child simply blocks on a full pipe.
        for (const stream of streams) {
          stream.on("data", () => {
            stream.pause()
            setImmediate(() => stream.resume())
          })
        }
        interrupted?.()
      },
      error: (error) => {
        finish()
        fail({ exitCode: null, signal: null, stderrTail: [], reason: spawnReason(error, program, cwd) })
      },
      close: (code, signal) => {
        finish()
        if (code === 0) {
          // A decoder without `end()` holds back a character cut at the 1 MiB mark instead of mangling it.
          resume(Effect.succeed({ exitCode: 0, stdout: new StringDecoder("utf8").write(Buffer.concat(kept)), stdoutTruncated: truncated }))
        } else {
          fail({ exitCode: code, signal, stderrTail: [...tail] })
        }
      }
    })

    if (closed && pid === undefined) return
    return Effect.callback<void>((done) => {
      // Through the spawner the pid comes a moment after the request: tear
      // down once it is known, or stop waiting if the command never started.
      const teardown = () => {
        interrupted = undefined
        if (pid === undefined || tree === undefined) return done(Effect.void)
        if (closed && !tree.alive()) return done(Effect.void)
        terminate(pid, options.graceMs ?? 2000, () => closed, onClosed, () => {
          // Only an unkillable process, or one out of reach still holding our
          // pipes, gets here; stop reading so we do not wait on it forever.
          streams?.forEach((stream) => stream.destroy())
        }, () => done(Effect.void), tree)
      }
      if (pid !== undefined || closed) return teardown()
      interrupted = teardown
      onClosed.push(() => interrupted?.())
    })
  })

/**
 * SIGTERM to the tree (the group and what left it), SIGKILL to it after
 * `graceMs`, and `done` once the child has closed and no process of the tree
 * is left: a grandchild that redirected its output elsewhere does not hold
 * `close` back, so it is waited for separately.
 */
export const terminate = (
  pid: number,
  graceMs: number,
  isClosed: () => boolean,
  onClosed: Array<() => void>,
  giveUp: () => void,
  done: () => void,
  tree: ProcessTree = live.get(pid) ?? new ProcessTree(pid, undefined)
): void => {
  // From a timer a throw would crash weft; EPERM (no member is ours to
  // signal) is left to the reap timeout below.
  const signal = (name: NodeJS.Signals) => {
    try {
      tree.signal(name)
    } catch {}
  }
  let poll: ReturnType<typeof setTimeout> | undefined
  let reap: ReturnType<typeof setTimeout> | undefined
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    clearTimeout(kill)
    clearTimeout(reap)
    clearTimeout(poll)
    done()
  }
  const check = () => {
    if (!isClosed() || finished) return
    if (!tree.alive()) return finish()
    poll = setTimeout(check, 10)
  }
  const kill = setTimeout(() => {
    signal("SIGKILL")
    reap = setTimeout(() => {
      giveUp()
      finish()
    }, reapMs)
  }, graceMs)
  onClosed.push(check)
  signal("SIGTERM")
  check()
}

/** The trees of the process groups spawned by this weft process whose leader has not closed yet, by leader. */
const live = new Map<number, ProcessTree>()
/** How to tell whoever ends a tree if weft dies that it has closed, by leader, when not the watchdog. */
const releases = new Map<number, () => void>()
let exitHookInstalled = false

/**
 * Keeps `pid`'s group, and what leaves it, for `killAllGroups` and weft's
 * exit, until `untrack`: every child weft spawns detached goes through it.
 * `treeId` is the id in the child's environment (`internal/processTree.ts`),
 * when it has one. The watchdog ends the tree if weft dies, unless `release`
 * is given: then its launcher does (the spawner), until `untrack` calls it.
 */
export const track = (pid: number, tree?: ProcessTree, treeId?: string, release?: () => void): void => {
  live.set(pid, tree ?? new ProcessTree(pid, treeId))
  if (release === undefined) guard(pid, treeId)
  else releases.set(pid, release)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    // However weft exits (a forced second Ctrl-C, an uncaught defect), it takes its children along.
    process.on("exit", () => killAllGroups("SIGKILL"))
  }
}

/** The group led by `pid` has closed: `killAllGroups` forgets it. */
export const untrack = (pid: number): void => {
  live.delete(pid)
  const launcher = releases.get(pid)
  if (launcher === undefined) return release(pid)
  releases.delete(pid)
  launcher()
}

/** Signals every process tree weft started and is still running: the forced path of a second Ctrl-C. */
export const killAllGroups = (signal: NodeJS.Signals): void => {
  if (live.size === 0) return
  // One look at /proc for every tree, all taken before any is signalled.
  const table = processTable()
  for (const tree of live.values()) {
    try {
      tree.signal(signal, table)
    } catch {}
  }
}

/**
 * Sends `signal` to every process in the group led by `pid`; a group that is
 * already gone (ESRCH) is not an error.
 */
export const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error
  }
}

/**
 * Whether a process of the group led by `pid` is still running. `kill(-pid, 0)`
 * also counts zombies, which never go away under a PID 1 that does not reap
 * orphans (a container without `--init`), so on Linux `/proc` decides.
 */
export const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0)
  } catch (error) {
    // EPERM: a member we may not signal (it changed user); it still counts.
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
  if (process.platform !== "linux") return true
  for (const proc of processTable().values()) if (proc.pgrp === pid && !proc.zombie) return true
  return false
}

/** Says why a program could not be started, naming the program or the directory at fault. */
const spawnReason = (error: NodeJS.ErrnoException, program: string, cwd: string): string => {
  switch (error.code) {
    case "ENOENT":
      return existsSync(cwd) ? `command not found: ${program}` : `working directory does not exist: ${cwd} (running ${program})`
    case "EACCES":
      return `permission denied: ${program} (is it executable?)`
    case "ESPAWNER":
      return `${program}: ${error.message}`
    default:
      return `could not start ${program}: ${error.message}`
  }
}
