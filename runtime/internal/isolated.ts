/**
 * Runs a function step in its own Node process (`permissions.isolate`), under
 * Node's permission model (see `permissions/isolate.ts` for the flags). The
 * process is forked detached, in its own process group like a command, and
 * torn down the same way when the step is interrupted.
 */
import { fork } from "node:child_process"
import { mkdirSync } from "node:fs"
import * as Effect from "effect/Effect"
import type { StepBody } from "../Executor.ts"
import * as Result from "effect/Result"
import { killGroup, terminate, track, untrack } from "../Process.ts"
import { compileCacheDir, deniedMessage, isolateFlags, literalBaseOf, type IsolatePolicy } from "../permissions/isolate.ts"
import { netWrap } from "../permissions/isolateNet.ts"
import type { StepEnv } from "../permissions/StepEnv.ts"
import { decodeMessage, describeMalformed } from "./isolateMessage.ts"
import { makeLineSplitter } from "./lineSplitter.ts"
import { fromSource, weftEntry } from "../packageRoot.ts"
import { makeProgramHost, type ProgramHost } from "./programHost.ts"


/** What the parent sends the child: the one step to run. */
export interface IsolateTask {
  readonly file: string
  readonly id: string
  readonly inputs: Readonly<Record<string, unknown>>
  readonly attempt: number
  readonly cwd: string
  readonly env: StepEnv
  /** `permissions.run` as a list: the only programs the child may start. */
  readonly programs?: ReadonlyArray<string> | undefined
}

/** An isolated step that could not run or was denied something by Node's permission model. */
export class IsolateError extends Error {
  readonly _tag = "IsolateError"
  constructor(message: string) {
    super(message)
    this.name = "IsolateError"
  }
}

/**
 * The child's entry, in weft's own layout. From the sources (this
 * repository) the child must also resolve `import … from "weft"` in the
 * workflow file to the sources (the `weft-source` condition of package.json's
 * exports, which bin/weft.js adds); built, the entry shares dist/'s chunks
 * with the `weft` the workflow imports.
 */
const childEntry = weftEntry("runtime/internal/isolateBoot.ts")

/**
 * The child's process environment: the step's own (`permissions.env` and the
 * base, or everything under `--allow-all`), less `NODE_OPTIONS`. Node applies
 * that variable's flags when the child boots, and flags such as
 * `--allow-fs-write=*` there would lift the very permissions the child runs
 * under. The child puts the value back into `process.env` once it has booted
 * (isolateChild.ts), so the step still sees the variable it may see.
 */
const bootEnv = (values: Readonly<Record<string, string>>): Record<string, string> => {
  const { NODE_OPTIONS: _held, ...rest } = values
  return rest
}

/** The child's compile cache folder, made ready for it; `undefined` (no cache) when it cannot be made. */
const compileCache = (flags: ReadonlyArray<string>, workflowDir: string): string | undefined => {
  const dir = compileCacheDir(flags, workflowDir)
  try {
    mkdirSync(dir, { recursive: true })
    return dir
  } catch {
    // A read-only workflow folder: the step runs as before, only slower to start.
    return undefined
  }
}

/** Runs `step`'s function in a child Node process restricted by `policy`. */
export const runIsolated = (step: StepBody, policy: IsolatePolicy): Effect.Effect<unknown, unknown> =>
  Effect.callback<unknown, unknown>((resume) => {
    const file = step.file
    if (file === undefined) {
      return void resume(Effect.fail(new IsolateError(`step "${step.id}" has isolate: true, but isolate needs the workflow to come from a file (run it with weft run <file>, or pass file to run())`)))
    }
    const flags = isolateFlags(policy, file, step.cwd)
    const cache = compileCache(flags, step.cwd)
    const programs = Array.isArray(policy.run) ? policy.run : undefined
    // Without net: true, under bwrap without a network where it works (isolateNet.ts).
    const [wrapper, ...wrapArgs] = netWrap(policy)
    const child = fork(childEntry, cache === undefined ? [] : [cache], {
      execPath: wrapper ?? process.execPath,
      // Node 22 warns that stripping the workflow file's types is experimental: that warning is not the step's output.
      execArgv: [
        ...(wrapper === undefined ? [] : [...wrapArgs, process.execPath]),
        ...flags,
        ...(cache === undefined ? [] : [`--allow-fs-read=${cache}`, `--allow-fs-write=${cache}`]),
        "--disable-warning=ExperimentalWarning",
        ...(fromSource ? ["--conditions=weft-source"] : [])
      ],
      cwd: step.cwd,
      env: bootEnv(step.env.values),
      detached: true,
      serialization: "advanced",
      // fd 4: synchronous requests to start a program (isolatePrograms.ts), with a program list only.
      stdio: ["ignore", "pipe", "pipe", "ipc", ...(programs === undefined ? [] : ["pipe" as const])]
    })
    const pid = child.pid
    if (pid !== undefined) track(pid)
    let outcome: Effect.Effect<unknown, unknown> | undefined
    let broken = false
    // The child runs the step's code: a message that breaks the protocol ends the step, and the child with it.
    const malformed = (why: string) => {
      if (broken) return
      broken = true
      outcome = Effect.fail(new IsolateError(`step "${step.id}": its isolated process sent weft a malformed message (${why}); the step is failed and its process ended`))
      if (pid !== undefined) killGroup(pid, "SIGKILL")
    }
    const host: ProgramHost | undefined = programs === undefined ? undefined : makeProgramHost({
      cwd: step.cwd,
      env: step.env.values,
      rules: { allowed: programs, writable: [...policy.write.filter((glob) => !glob.startsWith("!")).map((glob) => literalBaseOf(glob, step.cwd)), ...(cache === undefined ? [] : [cache])] },
      wrap: wrapper === undefined ? [] : [wrapper, ...wrapArgs],
      send: (event) => {
        if (child.connected) child.send(event, (error) => void error)
      },
      malformed
    })
    if (host !== undefined && child.stdio[4] !== undefined && child.stdio[4] !== null) host.serve(child.stdio[4] as import("node:stream").Duplex)
    child.on("message", (raw: unknown) => {
      if (broken) return
      const decoded = decodeMessage(raw)
      if (Result.isFailure(decoded)) return malformed(describeMalformed(decoded.failure))
      const message = decoded.success
      switch (message.type) {
        case "report":
          return step.report(message.report)
        case "done":
          return void (outcome ??= Effect.succeed(message.value))
        case "denied":
          return void (outcome ??= Effect.fail(new IsolateError(deniedMessage(step.id, message))))
        case "failed":
          return void (outcome ??= Effect.fail(new Error(message.message)))
        case "spawn":
          return host === undefined ? malformed("a request to start a program, but permissions.run lists none") : host.spawn(message.id, message.request)
        case "kill":
          return host?.kill(message.id, message.signal)
      }
    })
    // What the child writes outside its console (a warning from Node, a native module) is still the step's log.
    for (const stream of ["stdout", "stderr"] as const) {
      const lines = makeLineSplitter((text) => step.report({ type: "step:log", stream, text }), undefined, step.redact?.safeByteCut)
      child[stream]!.on("data", (chunk: Buffer) => lines.push(chunk))
      child[stream]!.on("end", () => lines.end())
    }
    let closed = false
    const onClosed: Array<() => void> = []
    child.on("error", (error) => {
      if (child.pid === undefined) resume(Effect.fail(new IsolateError(`step "${step.id}" could not start its isolated process: ${error.message}`)))
    })
    child.on("close", (code, signal) => {
      closed = true
      if (pid !== undefined) untrack(pid)
      onClosed.forEach((f) => f())
      const result = outcome ?? Effect.fail(new IsolateError(`step "${step.id}": its isolated process exited (${signal ?? `code ${code}`}) without reporting a result`))
      // What it left running through weft does not outlive the step.
      if (host === undefined) resume(result)
      else host.stopAll(2000, () => resume(result))
    })
    const task: IsolateTask = { file, id: step.id, inputs: step.inputs, attempt: step.attempt, cwd: step.cwd, env: { ...step.env, redact: undefined, isolate: undefined }, programs }
    const unsent = (error: Error) => {
      // The child waits for a task forever: end it, and `close` reports why.
      outcome ??= Effect.fail(new IsolateError(`step "${step.id}": its inputs cannot be sent to an isolated process: ${error.message}`))
      if (pid !== undefined) killGroup(pid, "SIGKILL")
    }
    try {
      // A value structured clone refuses (a function) throws here rather than in the callback.
      child.send(task, (error) => error && unsent(error))
    } catch (error) {
      unsent(error as Error)
    }
    if (pid === undefined) return
    return Effect.callback<void>((done) => {
      // The child's group and the groups of the programs weft started for it, together.
      let left = host === undefined ? 1 : 2
      const one = () => --left === 0 && done(Effect.void)
      host?.stopAll(2000, one)
      terminate(pid, 2000, () => closed, onClosed, () => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      }, one)
    })
  })

