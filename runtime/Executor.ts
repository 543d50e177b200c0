/**
 * The impure half of a run: forks one Effect fiber per step the machine asks
 * for, runs it through the pipeline, and reports back. It decides nothing.
 *
 * Reports go through one queue drained by a single driver fiber, which hands
 * the machine everything that happened since its last turn as one event: the
 * machine sees a step's start before its logs and its logs before its end, and
 * pays one XState event per batch rather than per step.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import { fromCallback } from "xstate"
import { runBody } from "./internal/body.ts"
import type { Update } from "./internal/Update.ts"
import { compose, defaultStages, toOutcome, type Stage, type StepRun } from "./Pipeline.ts"
import type { Plan } from "./Plan.ts"

export interface ExecutorInput {
  readonly plan: Plan
  /** Services the step fibers run with: the caller's clock (a `TestClock` in tests), scheduler, and so on. */
  readonly services: Context.Context<never>
  readonly cwd: string
  readonly stages: ReadonlyArray<Stage>
}

/** What the machine tells the executor. */
export type ExecutorCommand =
  | { readonly type: "executor.start"; readonly starts: ReadonlyArray<{ readonly step: number; readonly inputs: Record<string, unknown> }> }
  | { readonly type: "executor.interrupt" }

/** What the executor tells the machine. */
export type ExecutorEvent =
  | { readonly type: "executor.ready"; readonly time: number }
  | { readonly type: "executor.updates"; readonly updates: ReadonlyArray<Update> }

/** The current time in milliseconds by the clock in `services`. */
export const clockOf = (services: Context.Context<never>): (() => number) => {
  const clock = Context.get(services, Clock.Clock)
  return () => clock.currentTimeMillisUnsafe()
}

export const executor = fromCallback<ExecutorCommand, ExecutorInput, ExecutorEvent>(({ input, sendBack, receive }) => {
  const { plan, services, cwd } = input
  const fork = Effect.runForkWith(services)
  const now = clockOf(services)
  const pipeline = compose(input.stages, runBody)
  const queue = Effect.runSync(Queue.unbounded<Update>())
  const fibers = new Map<number, Fiber.Fiber<unknown, unknown>>()

  const driver = fork(Effect.gen(function*() {
    sendBack({ type: "executor.ready", time: now() })
    for (;;) {
      const updates = yield* Queue.takeAll(queue)
      sendBack({ type: "executor.updates", updates })
    }
  }))

  const start = (step: number, inputs: Record<string, unknown>) => {
    const run: StepRun = {
      index: step,
      id: plan.ids[step]!,
      def: plan.steps[step]!,
      inputs,
      cwd,
      retry: plan.retry[step]!,
      timeoutMs: plan.timeoutMs[step],
      attempt: 0,
      report: (update) => Queue.offerUnsafe(queue, { ...update, step, time: now() } as Update)
    }
    const fiber = fork(pipeline(run))
    fibers.set(step, fiber)
    fiber.addObserver((exit) => {
      fibers.delete(step)
      Queue.offerUnsafe(queue, { kind: "end", step, time: now(), attempts: run.attempt, outcome: toOutcome(exit) })
    })
  }

  receive((command) => {
    switch (command.type) {
      case "executor.start":
        for (const { step, inputs } of command.starts) start(step, inputs)
        return
      case "executor.interrupt":
        for (const fiber of fibers.values()) fiber.interruptUnsafe()
        return
    }
  })

  return () => {
    for (const fiber of fibers.values()) fiber.interruptUnsafe()
    driver.interruptUnsafe()
  }
})

export { defaultStages }
