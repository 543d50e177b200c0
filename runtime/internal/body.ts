/**
 * Runs a step's runner: a function (value, promise, Effect, async iterable or
 * Effect Stream), a command, or a sub-workflow.
 */
import * as EffectConsole from "effect/Console"
import * as Effect from "effect/Effect"
import { isCommand } from "../../dsl/Command.ts"
import { isWorkflow, type Workflow } from "../../dsl/Workflow.ts"
import type { StepBody } from "../Executor.ts"
import { runCommand } from "../Process.ts"
import { abortStepContext, makeStepContext } from "../StepContext.ts"
import { consoleFor, StepSink } from "./consoleCapture.ts"
import { currentStepScope, withStepScope } from "./stepScope.ts"
import { flushWrites } from "./writeCapture.ts"
import { collect, isStreaming } from "./streaming.ts"
import { runEffect } from "../Run.ts"
import { bwrapWorks, SandboxUnavailableError, sandboxed } from "../permissions/sandbox.ts"

export const runBody = (step: StepBody): Effect.Effect<unknown, unknown> => runRunner(step, step.def.run)

const runRunner = (step: StepBody, runner: unknown): Effect.Effect<unknown, unknown> => {
  if (isCommand(runner)) {
    const sandbox = step.env.sandbox
    // Checked when the command is about to run, so a function returning a command is covered too.
    if (sandbox !== undefined && !bwrapWorks()) return Effect.fail(new SandboxUnavailableError(step.id))
    const command = sandbox === undefined ? Effect.succeed(runner) : Effect.try({ try: () => sandboxed(runner, sandbox, step.cwd), catch: (error) => error })
    return Effect.flatMap(command, (command) => runCommand(command, {
      cwd: step.cwd,
      // Only what the step declared (and the base): never weft's whole environment.
      env: step.env.values,
      safeCut: step.redact?.safeByteCut,
      redact: step.redact,
      onLine: (stream, text) => step.report({ type: "step:log", stream, text }),
      // One report per chunk of output: a step printing a gigabyte in short
      // lines made one update (and queue entry) per line otherwise.
      onLines: (stream, texts) => step.report({ type: "step:logs", stream, texts })
    }))
  }
  if (isWorkflow(runner)) return runSubWorkflow(step, runner)
  const isolate = step.env.isolate
  // Loaded for an isolated step only: its message schemas bring effect/Schema
  // (77 more modules), which cost every run 20-100 ms of start-up.
  if (isolate !== undefined) return Effect.flatMap(Effect.promise(() => import("./isolated.ts")), ({ runIsolated }) => runIsolated(step, isolate))
  return runFunction(step, runner as (inputs: unknown, ctx: unknown) => unknown)
}

const isPromiseLike = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === "object" && u !== null && typeof (u as { then?: unknown }).then === "function"

const runFunction = (step: StepBody, fn: (inputs: unknown, ctx: unknown) => unknown) =>
  Effect.suspend(() => {
    const ctx = makeStepContext(step)
    const sink = Object.assign((stream: "stdout" | "stderr" | "log", text: string) => step.report({ type: "step:log", stream, text }), {
      safeCut: step.redact?.safeByteCut
    })
    // What the step's code runs in: its console and its memo scope, entered
    // as one (see `stepScope.ts`). A generator's body runs on each `next()`,
    // so the iteration calls it through this too.
    const memo = step.features.memo === undefined ? currentStepScope()?.memo : { scope: step.features.memo, step: step.id }
    const within = <A>(f: () => A): A => withStepScope(sink, memo, f)
    let result: unknown
    try {
      result = within(() => fn(step.inputs, ctx))
    } catch (error) {
      flushWrites(sink)
      return Effect.fail(error)
    }
    // The common case, a plain value, is already final: nothing is left to run
    // or to interrupt, so it skips the wrappers below.
    if (!Effect.isEffect(result) && !isPromiseLike(result) && !isCommand(result) && !isWorkflow(result) && !isStreaming(result)) {
      flushWrites(sink)
      return Effect.succeed(result)
    }
    const effect: Effect.Effect<unknown, unknown> = Effect.isEffect(result)
      ? (result as Effect.Effect<unknown, unknown>).pipe(Effect.provideService(EffectConsole.Console, consoleFor(sink)), Effect.provideService(StepSink, sink))
      : isPromiseLike(result)
      ? Effect.tryPromise({ try: () => Promise.resolve(result), catch: (error) => error })
      : Effect.succeed(result)
    // A function that returns a command or a workflow built from its inputs: run
    // that too; an async iterable or a stream: collect it, emitting each item.
    const dynamic = Effect.flatMap(effect, (value) =>
      isCommand(value) || isWorkflow(value)
        ? Effect.andThen(Effect.sync(() => flushWrites(sink)), runRunner(step, value))
        : isStreaming(value)
        ? collect(value, ctx.emit, within).pipe(Effect.provideService(EffectConsole.Console, consoleFor(sink)), Effect.provideService(StepSink, sink))
        : Effect.succeed(value))
    // A last line written without a newline is the step's too.
    const flushed = Effect.ensuring(dynamic, Effect.sync(() => flushWrites(sink)))
    return Effect.onInterrupt(flushed, () => Effect.sync(() => abortStepContext(ctx, new Error(`step "${step.id}" was interrupted`))))
  })

/** Runs another workflow as this step; its events become this step's log lines, its outputs this step's output. */
const runSubWorkflow = (step: StepBody, sub: Workflow<any>) =>
  Effect.flatMap(
    runEffect(sub, {
      cwd: step.cwd,
      allowAll: step.env.allowAll,
      rateLimiters: step.features.limiters,
      onEvent: (event) => {
        if (event.type === "step:log") step.report({ type: "step:log", stream: event.stream, text: `[${event.step}] ${event.text}` })
        else if (event.type === "step:end" && event.status !== "succeeded") {
          step.report({ type: "step:log", stream: "stderr", text: `[${event.step}] ${event.status}${event.error ? `: ${event.error}` : ""}` })
        }
      }
    }),
    (result) => (result.status === "succeeded" ? Effect.succeed(result.outputs) : Effect.fail(new Error(subFailure(result))))
  )

const subFailure = (result: { status: string; steps: Record<string, { status: string; error?: string | undefined }> }) => {
  const failed = Object.entries(result.steps).filter(([, s]) => s.status === "failed")
  return failed.length === 0
    ? `sub-workflow ${result.status}`
    : `sub-workflow failed at ${failed.map(([id, s]) => `"${id}"${s.error ? ` (${s.error})` : ""}`).join(", ")}`
}
