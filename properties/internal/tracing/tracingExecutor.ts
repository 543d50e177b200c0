/**
 * An `Executor` around another that records what each step does to files:
 * a command (the step's own, or one its function returns) runs under strace
 * and its log is read when the attempt ends; a function's own calls to
 * `node:fs` are attributed to it (`fsAttribution.ts`). The scheduler and the
 * pipeline are not changed: the body just runs wrapped.
 *
 * What cannot be seen is named, not guessed at: a sandboxed command (bwrap
 * would have to let strace in), an isolated function (it runs in its own
 * Node process) and a sub-workflow (its steps run through their own
 * executor). A function that returns an Effect is traced through its fibers
 * (`asStepEffect`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { isCommand, type Command } from "../../../dsl/Command.ts"
import { isWorkflow } from "../../../dsl/Workflow.ts"
import type { Executor, StepBody } from "../../../runtime/Executor.ts"
import { asStep, asStepEffect, type Recorder } from "./fsAttribution.ts"
import { parseStraceLog } from "./straceLog.ts"
import { traced } from "./strace.ts"

export interface TracingExecutor {
  readonly executor: Executor
  /** By step id: why what it did to files was not (fully) seen. */
  readonly untraced: ReadonlyMap<string, string>
}

export interface TracingOptions {
  /** The strace program, or undefined when it cannot run here: commands then run untraced. */
  readonly strace: string | undefined
  /** A folder of this run's own for strace's logs (outside the workflow's folder). */
  readonly logDir: string
  readonly record: Recorder
}

const isPromiseLike = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === "object" && u !== null && typeof (u as { then?: unknown }).then === "function"

export const makeTracingExecutor = (inner: Executor, options: TracingOptions): TracingExecutor => {
  const untraced = new Map<string, string>()
  let logs = 0

  const runStep = (step: StepBody): Effect.Effect<unknown, unknown> => {
    const written: Array<{ readonly log: string; readonly cwd: string }> = []
    const traceCommand = (command: Command): Command => {
      if (step.env.sandbox !== undefined) {
        untraced.set(step.id, "its command runs in the sandbox (bwrap), where strace cannot follow it")
        return command
      }
      if (options.strace === undefined) {
        untraced.set(step.id, "strace cannot run here")
        return command
      }
      const log = path.join(options.logDir, `${logs++}.log`)
      written.push({ log, cwd: path.resolve(step.cwd, command.cwd ?? ".") })
      return traced(command, log, options.strace)
    }
    const runner = step.def.run
    let run: unknown = runner
    if (isCommand(runner)) run = traceCommand(runner)
    else if (isWorkflow(runner)) untraced.set(step.id, "it runs a sub-workflow, whose steps are not traced")
    else if (step.env.isolate !== undefined) untraced.set(step.id, "its function runs isolated, in a Node process of its own")
    else if (typeof runner === "function") {
      run = (inputs: unknown, ctx: unknown) => {
        const result = asStep(step.id, () => (runner as (inputs: unknown, ctx: unknown) => unknown)(inputs, ctx))
        const mapped = (value: unknown) => (isCommand(value) ? traceCommand(value) : value)
        if (Effect.isEffect(result)) return Effect.map(asStepEffect(step.id, result as Effect.Effect<unknown, unknown>), mapped)
        return isPromiseLike(result) ? Promise.resolve(result).then(mapped) : mapped(result)
      }
    }
    const body: StepBody = run === runner ? step : { ...step, def: { ...step.def, run: run as typeof runner } }
    // Read each log once the attempt is over, however it ended: a failed
    // or interrupted command's writes are still writes.
    return Effect.ensuring(inner.run(body), Effect.sync(() => {
      for (const { log, cwd } of written) {
        if (!fs.existsSync(log)) continue
        for (const access of parseStraceLog(fs.readFileSync(log, "utf8"), cwd)) options.record(step.id, access.access, access.path)
      }
    }))
  }

  return { executor: { name: `${inner.name} (traced)`, run: runStep }, untraced }
}
