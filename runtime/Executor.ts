/**
 * Where a step's body runs (`Executor`), and the impure half of a run that
 * hands bodies to it (`executor`, the machine's invoked actor): it forks one
 * Effect fiber per step the machine asks for, runs it through the pipeline of
 * the run's features (`features.ts`), and reports back. It decides nothing:
 * whether a step runs and when stay with the machine and the features' stages.
 *
 * Reports go through one queue drained by a single driver fiber, which hands
 * the machine everything that happened since its last turn as one event: the
 * machine sees a step's start before its logs and its logs before its end, and
 * pays one XState event per batch rather than per step.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberMap from "effect/FiberMap"
import * as FiberSet from "effect/FiberSet"
import * as Queue from "effect/Queue"
import * as Scheduler from "effect/Scheduler"
import * as Scope from "effect/Scope"
import { fromCallback } from "xstate"
import type { StepDef } from "../dsl/Step.ts"
import { localExecutor } from "./executors/local.ts"
import { setupFeatures, type RunFeatures } from "./features.ts"
import { endOf, noEnv, type RunInput, type Stage, type StepFeatures, type StepRun } from "./Pipeline.ts"
import type { Plan } from "./Plan.ts"
import type { Redactor } from "./permissions/redact.ts"
import type { StepEnv } from "./permissions/StepEnv.ts"
import type { StepReport, StepReportBody } from "./StepReport.ts"

/**
 * Where one attempt of a step's body runs: in this process (`localExecutor`, the
 * default), in a child process (`isolatedExecutor`), or on another machine. It never
 * decides whether or when: the cache, the journal, retries, rate limits and
 * the timeout are stages around it, in this process. Interrupting the effect
 * stops the body and whatever it started.
 *
 * @example
 * const calls: Array<string> = []
 * const recording: Executor = { name: "recording", run: (step) => Effect.sync(() => calls.push(step.id)) }
 * await run(wf, { executor: recording })
 */
export interface Executor {
  readonly name: string
  /**
   * It reports each attempt's `step:start` itself, when the body really
   * starts (on a worker, after the queue): the announce stage then does not.
   */
  readonly announces?: true | undefined
  readonly run: (step: StepBody) => Effect.Effect<unknown, unknown>
}

/** What an executor gets to run one attempt of a step's body. */
export interface StepBody {
  /** The step's index in the plan, and its id. */
  readonly index: number
  readonly id: string
  /** The workflow's name. */
  readonly workflow: string
  readonly def: StepDef
  /** The workflow's file, absolute, when it came from one: a body run elsewhere loads the step from it. */
  readonly file?: string | undefined
  /** Folder commands run in (and relative paths resolve against). */
  readonly cwd: string
  /** The outputs of the steps it needs, by id. */
  readonly inputs: Readonly<Record<string, unknown>>
  /** The attempt, 1-based. */
  readonly attempt: number
  /** What the step may see of the environment (`permissions.env`). */
  readonly env: StepEnv
  /**
   * Masks every secret of the workflow (`report` applies it). What cuts a
   * text before reporting it (a long line, a long part) asks it where, so no
   * secret is split between pieces and shown in part. Absent without secrets.
   */
  readonly redact?: Redactor | undefined
  /** Tells the run what happens; the executor stamps the step and the time. */
  readonly report: (report: StepReportBody) => void
  /** What the run's features added: an executor in this process may use them (the memo scope, the rate limiters); another has none. */
  readonly features: StepFeatures
}

export interface ExecutorInput extends Omit<RunInput, "executor"> {
  readonly plan: Plan
  /** Where bodies run (default: `localExecutor`, in this process). */
  readonly executor?: Executor | undefined
  /** Services the step fibers run with: the caller's clock (a `TestClock` in tests), scheduler, and so on. */
  readonly services: Context.Context<never>
  /** The stages inside the features' own (retries, rate limits, timeout, announce), when the caller replaces them. */
  readonly stages?: ReadonlyArray<Stage> | undefined
  /** Cancels the run when aborted; once it is, no step starts (see `start`). */
  readonly signal?: AbortSignal | undefined
}

/**
 * What the machine tells the executor. The executor empties `starts` once it
 * has started them (see `consume`).
 */
export type ExecutorCommand =
  | { readonly type: "executor.start"; readonly starts: Array<{ readonly step: number; readonly inputs: Record<string, unknown> }> }
  /** Steps that gave their slot back to wait get one again: each goes on. */
  | { readonly type: "executor.resume"; readonly steps: Array<number> }
  /** Interrupts these steps' fibers (a cancelled run's step actors ask for their own), else every one. */
  | { readonly type: "executor.interrupt"; readonly steps?: ReadonlyArray<number> | undefined }

/**
 * What the executor tells the machine. The machine empties `updates` once it
 * has applied them (see `consume`).
 */
export type ExecutorEvent =
  | { readonly type: "executor.ready"; readonly time: number }
  /** The run's signal was aborted: the machine cancels the run. */
  | { readonly type: "cancel" }
  | { readonly type: "executor.updates"; readonly updates: Array<StepReport> }

/**
 * Empties a batch its receiver has handled. A handled event stays reachable
 * from XState's internals (its mailbox is a linked list whose spent nodes
 * still point to the next), and a dead object in the old generation keeps
 * what it points to alive through young-generation collections; so each
 * batch's updates, inputs and outcomes were promoted, to be freed only by a
 * full GC. Emptying the batch cuts that off at the event: 35 MB less peak RSS
 * at 100,000 steps.
 */
export const consume = (batch: Array<unknown>): void => {
  batch.length = 0
}

/** The current time in milliseconds by the clock in `services`. */
export const clockOf = (services: Context.Context<never>): (() => number) => {
  const clock = Context.get(services, Clock.Clock)
  return () => clock.currentTimeMillisUnsafe()
}

/**
 * The queue of step reports. A queue wakes its taker (the driver) through the
 * scheduler of the fiber that made it. `runSync`'s wakes it on a microtask:
 * the default scheduler's `setImmediate` made 100,000 no-op steps 20% slower
 * and their peak memory 50% higher. But a caller's own scheduler (`TestClock`
 * provides one) must see the wake-up, or virtual time moves on before the
 * machine hears of it: then the queue is made in a fiber of the run.
 */
const makeReportQueue = (
  services: Context.Context<never>,
  fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
): Queue.Queue<StepReport> => {
  if (!services.mapUnsafe.has(Scheduler.Scheduler.key)) return Effect.runSync(Queue.unbounded<StepReport>())
  const made = fork(Queue.unbounded<StepReport>()).pollUnsafe()
  if (made === undefined || !Exit.isSuccess(made)) throw new Error("weft bug: the executor's queue was not made at once")
  return made.value
}

export const executor = fromCallback<ExecutorCommand, ExecutorInput, ExecutorEvent>(({ input, sendBack, receive }) => {
  const { plan, services, cwd } = input
  const runFork = Effect.runForkWith(services)
  const now = clockOf(services)
  // Every fiber of the run lives in this scope: steps in a FiberMap by index,
  // the rest (the driver, memoized calls' turns, alerts) in a FiberSet.
  // Closing it, when the machine is done or stopped, interrupts them all.
  const scope = Scope.makeUnsafe()
  const [steps, background] = Effect.runSync(Effect.all([FiberMap.make<number>(), FiberSet.make()]).pipe(Scope.provide(scope)))
  const fork = <A, E>(effect: Effect.Effect<A, E>): Fiber.Fiber<A, E> => {
    const fiber = runFork(effect)
    FiberSet.addUnsafe(background, fiber)
    return fiber
  }
  const queue = makeReportQueue(services, runFork)
  /** What features see of every report (`FeatureRun.onReport`), once they are set up; what came before waits for them. */
  let hooks: RunFeatures["onReport"] | undefined
  const early: Array<[StepRun | undefined, StepReport]> = []
  const deliver = (step: StepRun | undefined, report: StepReport) => {
    if (hooks === undefined) return void early.push([step, report])
    for (const hook of hooks) report = hook(step, report)
    Queue.offerUnsafe(queue, report)
  }
  const warn = (message: string) => deliver(undefined, { type: "run:warning", step: -1, time: now(), message })
  /** Steps waiting for their slot back, and how to wake each (see `RunSetup.onResume`). */
  const resuming = new Map<number, () => void>()
  const features = setupFeatures({
    plan,
    options: { ...input, executor: input.executor ?? localExecutor },
    now,
    send: (report) => deliver(undefined, report),
    warn,
    fork,
    onResume: (step, wake) => {
      resuming.set(step, wake)
      return () => resuming.delete(step)
    }
  }, input.stages)
  hooks = features.onReport
  for (const [step, report] of early.splice(0)) deliver(step, report)
  const pipeline = features.pipeline

  // An abort is told to the machine as it happens; a signal aborted before
  // the run, before `executor.ready`, so that the run begins stopped.
  const signal = input.signal
  const cancel = () => sendBack({ type: "cancel" })
  if (signal?.aborted) cancel()
  else signal?.addEventListener("abort", cancel, { once: true })

  fork(Effect.gen(function*() {
    for (const message of features.warnings) warn(message)
    sendBack({ type: "executor.ready", time: now() })
    for (const work of features.background) yield* Effect.forkChild(work)
    for (;;) {
      const updates = yield* Queue.takeAll(queue)
      sendBack({ type: "executor.updates", updates })
    }
  }))

  const ended = (step: StepRun, exit: Exit.Exit<unknown, unknown>) => {
    deliver(step, endOf(step, now(), exit))
  }

  const start = (index: number, inputs: Record<string, unknown>) => {
    // Starts the machine decided before it heard of the abort (a step of the
    // same batch aborted it, or it came while the batch was on its way) end
    // cancelled without running: nothing starts once the signal is aborted.
    if (signal?.aborted) {
      Queue.offerUnsafe(queue, { type: "step:end", step: index, time: now(), attempts: 0, status: "cancelled" })
      return
    }
    const step: StepRun = {
      index,
      id: plan.ids[index]!,
      def: plan.steps[index]!,
      inputs,
      cwd,
      file: input.file,
      workflow: plan.workflow.name,
      attempt: 0,
      env: noEnv,
      redact: undefined,
      cached: undefined,
      report: (reported) => deliver(step, { ...reported, step: index, time: now() } as StepReport),
      features: {}
    }
    for (const prepare of features.prepare) prepare(step)
    const fiber = runFork(pipeline(step))
    // A fiber runs until it first waits, so a synchronous step has already
    // ended here: no need to track it or to observe it.
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) return ended(step, exit)
    FiberMap.setUnsafe(steps, index, fiber)
    fiber.addObserver((exit) => ended(step, exit))
  }

  receive((command) => {
    switch (command.type) {
      case "executor.start":
        for (const { step, inputs } of command.starts) start(step, inputs)
        consume(command.starts)
        return
      case "executor.resume":
        for (const step of command.steps) {
          const wake = resuming.get(step)
          resuming.delete(step)
          wake?.()
        }
        consume(command.steps)
        return
      case "executor.interrupt":
        // Every step's fiber, or those of the steps named (a step actor's stop, a cancel's withdrawals).
        if (command.steps === undefined) Effect.runFork(FiberMap.clear(steps))
        else for (const step of command.steps) Effect.runFork(FiberMap.remove(steps, step))
        return
    }
  })

  return () => {
    signal?.removeEventListener("abort", cancel)
    Effect.runFork(Scope.close(scope, Exit.void))
  }
})
