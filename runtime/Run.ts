/**
 * Running a workflow from code: `run` (a promise) and `runEffect` (an Effect,
 * which runs with the caller's services, so `TestClock` drives its time).
 */
import * as Effect from "effect/Effect"
import { createActor } from "xstate"
import { isDefinitionError, type DefinitionError } from "../dsl/DefinitionError.ts"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { installConsoleCapture } from "./internal/consoleCapture.ts"
import { compile, type CompileOptions } from "./Machine.ts"
import { silent, type Reporter } from "./Reporter.ts"
import { json } from "./reporters/json.ts"
import { plain } from "./reporters/plain.ts"
import type { RunResult } from "./RunState.ts"

export interface RunOptions extends Omit<CompileOptions, "services"> {
  /** Cancels the run when aborted: running steps are interrupted, the run ends `cancelled`. */
  readonly signal?: AbortSignal | undefined
  /** How to show the run (default: silent). */
  readonly reporter?: "plain" | "json" | "silent" | Reporter | undefined
  /** Called for every event, in order. */
  readonly onEvent?: ((event: Event) => void) | undefined
}

const reporterOf = (reporter: RunOptions["reporter"]): Reporter =>
  reporter === undefined || reporter === "silent" ? silent : reporter === "plain" ? plain() : reporter === "json" ? json() : reporter

/**
 * Runs a workflow as an Effect. Fails with `DefinitionError` when the workflow
 * cannot run; a failed step is not an error (see `result.status`).
 */
export const runEffect = <O extends Record<string, unknown>>(
  wf: Workflow<O>,
  options: RunOptions = {}
): Effect.Effect<RunResult<O>, DefinitionError> =>
  Effect.gen(function*() {
    const services = yield* Effect.context<never>()
    const machine = yield* Effect.try({
      try: () => compile(wf, { ...options, services }),
      catch: (error) => {
        if (isDefinitionError(error)) return error
        throw error
      }
    })
    const reporter = reporterOf(options.reporter)
    const uninstall = installConsoleCapture()
    const result = yield* Effect.callback<RunResult>((resume) => {
      const actor = createActor(machine)
      const cancel = () => actor.send({ type: "cancel" })
      actor.on("*", (event) => {
        reporter.onEvent(event)
        options.onEvent?.(event)
      })
      const finished = new Promise<void>((resolve) => {
        actor.subscribe({
          complete: () => {
            options.signal?.removeEventListener("abort", cancel)
            resolve()
            resume(Effect.succeed(actor.getSnapshot().output!))
          },
          error: (error) => {
            options.signal?.removeEventListener("abort", cancel)
            resolve()
            resume(Effect.die(error))
          }
        })
      })
      actor.start()
      if (options.signal?.aborted) cancel()
      else options.signal?.addEventListener("abort", cancel, { once: true })
      // Interrupting the run cancels it and waits until every step has ended.
      return Effect.promise(() => {
        cancel()
        return finished
      })
    }).pipe(Effect.ensuring(Effect.sync(uninstall)))
    if (reporter.onEnd !== undefined) yield* Effect.promise(async () => reporter.onEnd!(result))
    return result as RunResult<O>
  })

/**
 * Runs a workflow and resolves with its result once every step has ended.
 * Rejects with a `DefinitionError` (every problem listed) when the workflow
 * cannot run; a failing step resolves with `status: "failed"`.
 *
 * @example
 * const result = await run(wf, { concurrency: 4, reporter: "plain" })
 * if (result.status === "succeeded") console.log(result.outputs.notes)
 */
export const run = <O extends Record<string, unknown>>(wf: Workflow<O>, options: RunOptions = {}): Promise<RunResult<O>> =>
  Effect.runPromise(runEffect(wf, options))
