/**
 * The `ctx` a function step receives: its id, the attempt, an abort signal,
 * `log` / `progress` / `emit`, which become `step:log` / `step:progress` /
 * `step:partial` events, and `env`, its declared environment.
 */
import type { StepContext } from "../dsl/Step.ts"
import { formatLines } from "./internal/consoleCapture.ts"
import { maxPartChars, partText } from "./internal/partText.ts"
import { makeCtxEnv } from "./permissions/ctxEnv.ts"
import type { StepBody } from "./Executor.ts"

const stepOf = Symbol("weft.step")
const envOf = Symbol("weft.env")
const controllerOf = Symbol("weft.controller")
const abortedWith = Symbol("weft.aborted")

interface Hidden {
  readonly [stepOf]: StepBody
  [envOf]?: StepContext["env"]
  [controllerOf]?: AbortController
  /** Why the attempt was interrupted, when it was before anyone read `signal`. */
  [abortedWith]?: { readonly reason: unknown }
}

/**
 * `ctx.env` is a getter on a shared prototype, built on first read (most
 * steps never look). A getter in the object literal itself was a new accessor
 * per step, made through a slow runtime path (and a class no better): 0.5 µs
 * and 0.3 KB more per step at 100,000 steps (`bench/steps.ts`).
 */
const prototype = {
  get env(): StepContext["env"] {
    const self = this as unknown as Hidden
    return self[envOf] ??= makeCtxEnv(self[stepOf].id, self[stepOf].env)
  },
  /**
   * Made on first read, like `env`: most steps never look, and an
   * `AbortController` with its signal (an `EventTarget`) was 0.2 KB a step.
   * Read after the attempt was interrupted, it is already aborted.
   */
  get signal(): AbortSignal {
    const self = this as unknown as Hidden
    let controller = self[controllerOf]
    if (controller === undefined) {
      controller = self[controllerOf] = new AbortController()
      if (self[abortedWith] !== undefined) controller.abort(self[abortedWith].reason)
    }
    return controller.signal
  }
}

/** Aborts `ctx.signal` of an interrupted attempt, now if it was read, else as it is first read. */
export const abortStepContext = (ctx: StepContext, reason: unknown): void => {
  const self = ctx as unknown as Hidden
  if (self[abortedWith] !== undefined) return
  self[abortedWith] = { reason }
  self[controllerOf]?.abort(reason)
}

/** The context for the current attempt of `step`. */
export const makeStepContext = (step: StepBody): StepContext => {
  // Per attempt, so a retry's parts count from 0 again and replace the failed attempt's.
  let index = 0
  const ctx = {
    __proto__: prototype,
    [stepOf]: step,
    stepId: step.id,
    attempt: step.attempt,
    log: (...args: ReadonlyArray<unknown>) => {
      for (const text of formatLines(args)) step.report({ type: "step:log", stream: "log", text })
    },
    progress: (done: number, total?: number, message?: string) => step.report({ type: "step:progress", done, total, message }),
    emit: (part: unknown) => step.report({ type: "step:partial", index: index++, text: partText(part, maxPartChars, step.redact?.safeCut) })
  }
  return ctx as unknown as StepContext
}
