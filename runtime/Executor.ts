/**
 * The impure half of a run: forks one Effect fiber per step the machine asks
 * for, runs it through the pipeline, and reports back. It decides nothing.
 *
 * Reports go through one queue drained by a single driver fiber, which hands
 * the machine everything that happened since its last turn as one event: the
 * machine sees a step's start before its logs and its logs before its end, and
 * pays one XState event per batch rather than per step.
 */
import { overrunAlert, runOverrunAlert, withOverrunAlert } from "./alerts.ts"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Scheduler from "effect/Scheduler"
import { fromCallback } from "xstate"
import { runBody } from "./internal/body.ts"
import type { Update } from "./internal/Update.ts"
import { compose, defaultStages, toOutcome, type Stage, type StepRun } from "./Pipeline.ts"
import type { Plan } from "./Plan.ts"
import { raceCheck } from "./raceCheck.ts"
import { makeRunCache, type CacheSettings } from "./cache/runCache.ts"
import { journaling, type JournalSetup } from "./journal/stage.ts"
import { keeping, type KeptResult } from "./watch/keep.ts"
import { makeRedactor, type Redactor } from "./permissions/redact.ts"
import { redactUpdate } from "./permissions/redactUpdate.ts"
import { permitting } from "./permissions/stage.ts"
import { makeStepEnvs, workflowSecrets } from "./permissions/StepEnv.ts"
import { hardLinkWarnings } from "./permissions/hardLinks.ts"
import { unenforcedNet } from "./permissions/isolateNet.ts"
import { sandboxUnavailable } from "./permissions/sandbox.ts"
import { makeRateLimiters, stepRateLimitProblem, type RateLimiter } from "./RateLimiter.ts"

export interface ExecutorInput {
  readonly plan: Plan
  /** Services the step fibers run with: the caller's clock (a `TestClock` in tests), scheduler, and so on. */
  readonly services: Context.Context<never>
  readonly cwd: string
  /** The workflow's file, absolute, when it came from one (isolated steps import it). */
  readonly file?: string | undefined
  readonly stages: ReadonlyArray<Stage>
  readonly cache: CacheSettings
  /** The run's journal, when it keeps one: every step that ends well is recorded, and with `--resume` replayed. */
  readonly journal?: JournalSetup | undefined
  /** Results to reuse without running (watch mode), applied outermost: see `keeping`. */
  readonly keep?: ReadonlyMap<string, KeptResult> | undefined
  /** Turn the environment checks off (`--allow-all`): every step sees the whole environment. Secrets are still masked. */
  readonly allowAll?: boolean | undefined
  /** The enclosing run's rate limiters (this run is a sub-workflow's), shared by name. */
  readonly rateLimiters?: ReadonlyMap<string, RateLimiter> | undefined
  /** Cancels the run when aborted; once it is, no step starts (see `start`). */
  readonly signal?: AbortSignal | undefined
  /** The alerts in force (see `alerts.ts`): a step's overrun factor, and when the run is late. */
  readonly alerts?: { readonly stepOverrun: number | undefined; readonly run: { readonly expectedMs: number; readonly factor: number } | undefined } | undefined
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
  | { readonly type: "executor.updates"; readonly updates: Array<Update> }

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
 * The queue of step updates. A queue wakes its taker (the driver) through the
 * scheduler of the fiber that made it. `runSync`'s wakes it on a microtask:
 * the default scheduler's `setImmediate` made 100,000 no-op steps 20% slower
 * and their peak memory 50% higher. But a caller's own scheduler (`TestClock`
 * provides one) must see the wake-up, or virtual time moves on before the
 * machine hears of it: then the queue is made in a fiber of the run.
 */
const makeUpdateQueue = (
  services: Context.Context<never>,
  fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
): Queue.Queue<Update> => {
  if (!services.mapUnsafe.has(Scheduler.Scheduler.key)) return Effect.runSync(Queue.unbounded<Update>())
  const made = fork(Queue.unbounded<Update>()).pollUnsafe()
  if (made === undefined || !Exit.isSuccess(made)) throw new Error("weft bug: the executor's queue was not made at once")
  return made.value
}

export const executor = fromCallback<ExecutorCommand, ExecutorInput, ExecutorEvent>(({ input, sendBack, receive }) => {
  const { plan, services, cwd } = input
  const fork = Effect.runForkWith(services)
  const now = clockOf(services)
  const queue = makeUpdateQueue(services, fork)
  const envOf = makeStepEnvs(plan.workflow.options.permissions, input.allowAll === true)
  // Every secret of the workflow masks everything every step reports, and
  // the run's own warnings (a cache or journal problem): a step that declares
  // none may still be handed one in another step's output.
  const secretValues = workflowSecrets(plan.workflow.options.permissions, plan.steps)
  const redact: Redactor | undefined = secretValues.length === 0 ? undefined : makeRedactor(secretValues)
  const warn = (message: string) => {
    Queue.offerUnsafe(queue, { kind: "warning", step: -1, time: now(), message: redact === undefined ? message : redact(message) })
  }
  const limiters = makeRateLimiters(plan.workflow.options.rateLimits, input.rateLimiters)
  /** Memoized calls waiting for their rate limit, stopped with the run. */
  const turns = new Set<Fiber.Fiber<void>>()
  /**
   * A memoized call's turn of its rate limit. The steps it is made for keep
   * their slots (they are running), and show the wait, until it is `over`.
   */
  const memoTurn = (limit: string, name: string, steps: ReadonlyArray<string | undefined>): Promise<void> => {
    const limiter = limiters.get(limit)
    if (limiter === undefined) {
      return Promise.reject(new Error(`memo("${name}"): ${stepRateLimitProblem(limit, plan.workflow.options.rateLimits)}`))
    }
    const indices = steps.flatMap((id) => {
      const i = id === undefined ? undefined : plan.indexOf.get(id)
      return i === undefined ? [] : [i]
    })
    const reason = `rate limit ${limit} (memo ${name})`
    let waited = false
    const tell = (over: boolean) => {
      for (const step of indices) Queue.offerUnsafe(queue, over ? { kind: "waiting", step, time: now(), reason, over } : { kind: "waiting", step, time: now(), reason })
    }
    return new Promise<void>((resolve, reject) => {
      const settle = (exit: Exit.Exit<void>) => {
        if (waited) tell(true)
        if (Exit.isSuccess(exit)) resolve()
        else reject(new Error(`memo("${name}") stopped waiting for rate limit ${limit}: the run is ending`))
      }
      const fiber = fork(limiter.take(() => {
        waited = true
        tell(false)
      }))
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) return settle(exit)
      turns.add(fiber)
      fiber.addObserver((exit) => {
        turns.delete(fiber)
        settle(exit)
      })
    })
  }
  const runCache = makeRunCache(plan.workflow, input.cache, {
    now,
    onWarning: warn,
    onMemo: (event) => {
      const step = event.step === undefined ? undefined : plan.indexOf.get(event.step)
      if (step !== undefined) {
        Queue.offerUnsafe(queue, { kind: "memo", step, time: now(), name: event.name, outcome: event.outcome, savedMs: event.savedMs, keys: event.keys })
      }
    },
    rateLimit: memoTurn
  })
  // A kept result (watch mode) goes outermost: it skips everything. Then the
  // permissions stage: a step whose secrets cannot be masked never runs nor
  // replays. Then the journal stage: a replay skips the cache; then the cache
  // stage: a hit skips retries, timeouts and the body.
  const journal = input.journal
  journal?.listen(warn)
  const stages = [
    ...(input.keep === undefined || input.keep.size === 0 ? [] : [keeping(input.keep)]),
    permitting,
    ...(journal === undefined ? [] : [journaling({ ...journal, keyOf: runCache.keyOf, readyOf: runCache.readyOf, now, outputs: runCache.outputs })]),
    ...(runCache.stage === undefined ? [] : [runCache.stage]),
    ...withOverrunAlert(input.stages, input.alerts?.stepOverrun === undefined ? undefined : overrunAlert(plan.estimateMs, input.alerts.stepOverrun))
  ]
  const pipeline = compose(stages, runBody)
  const rateLimiterOf = (name: string | undefined) => (name === undefined ? undefined : limiters.get(name))
  const fibers = new Map<number, Fiber.Fiber<unknown, unknown>>()
  /** Steps waiting for their slot back (`StepRun.reclaimSlot`), and how to wake each. */
  const reclaiming = new Map<number, () => void>()

  // An abort is told to the machine as it happens; a signal aborted before
  // the run, before `executor.ready`, so that the run begins stopped.
  const signal = input.signal
  const cancel = () => sendBack({ type: "cancel" })
  if (signal?.aborted) cancel()
  else signal?.addEventListener("abort", cancel, { once: true })

  const driver = fork(Effect.gen(function*() {
    const time = now()
    if (input.allowAll === true) {
      Queue.offerUnsafe(queue, { kind: "warning", step: -1, time, message: "permissions are off (--allow-all): every step sees the whole environment; secrets are still masked" })
    }
    const unsandboxable = sandboxUnavailable(plan)
    if (unsandboxable !== undefined) Queue.offerUnsafe(queue, { kind: "warning", step: -1, time, message: unsandboxable })
    const online = unenforcedNet(plan)
    if (online !== undefined) Queue.offerUnsafe(queue, { kind: "warning", step: -1, time, message: online })
    for (const message of hardLinkWarnings(plan, cwd)) Queue.offerUnsafe(queue, { kind: "warning", step: -1, time, message })
    // Declared paths only (nothing enforces them yet), so a possible race is a warning, not a refusal.
    for (const conflict of raceCheck(plan).conflicts) {
      Queue.offerUnsafe(queue, { kind: "warning", step: -1, time, message: conflict.message })
    }
    sendBack({ type: "executor.ready", time })
    // A child of the driver: it ends with the run.
    const late = input.alerts?.run
    if (late !== undefined) yield* Effect.forkChild(runOverrunAlert(late.expectedMs, late.factor, warn))
    for (;;) {
      const updates = yield* Queue.takeAll(queue)
      sendBack({ type: "executor.updates", updates })
    }
  }))

  const ended = (run: StepRun, exit: Exit.Exit<unknown, unknown>) => {
    const outcome = toOutcome(exit, run.cached)
    Queue.offerUnsafe(queue, {
      kind: "end",
      step: run.index,
      time: now(),
      attempts: run.attempt,
      outcome: redact !== undefined && outcome._tag === "failed" ? { ...outcome, error: redact(outcome.error) } : outcome
    })
  }

  const reclaimSlotOf = (step: number): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      reclaiming.set(step, () => resume(Effect.void))
      Queue.offerUnsafe(queue, { kind: "resume", step, time: now() })
      return Effect.sync(() => reclaiming.delete(step))
    })

  const start = (step: number, inputs: Record<string, unknown>) => {
    // Starts the machine decided before it heard of the abort (a step of the
    // same batch aborted it, or it came while the batch was on its way) end
    // cancelled without running: nothing starts once the signal is aborted.
    if (signal?.aborted) {
      Queue.offerUnsafe(queue, { kind: "end", step, time: now(), attempts: 0, outcome: { _tag: "cancelled" } })
      return
    }
    const env = envOf(plan.steps[step]!)
    const rateLimiter = limiters.size === 0 ? undefined : rateLimiterOf(plan.steps[step]!.rateLimit)
    const run: StepRun = {
      index: step,
      id: plan.ids[step]!,
      def: plan.steps[step]!,
      inputs,
      cwd,
      file: input.file,
      retry: plan.retry[step]!,
      timeoutMs: plan.timeoutMs[step],
      workflow: plan.workflow.name,
      attempt: 0,
      cached: undefined,
      logTap: undefined,
      partialTap: undefined,
      memo: runCache.memo,
      env,
      rateLimiter,
      limiters,
      // Only a rate-limited step gives its slot back: the rest keep one object less each.
      reclaimSlot: rateLimiter === undefined ? undefined : reclaimSlotOf(step),
      // Asked where to cut a long line or part, so `report` gets each secret whole.
      redact,
      report: (reported) => {
        // Masked at the source: every reporter, log file, trace and cache entry gets the masked text.
        const update = redact === undefined ? reported : redactUpdate(reported, redact)
        if (run.logTap !== undefined) {
          if (update.kind === "log") run.logTap(update.stream, update.text)
          else if (update.kind === "logs") for (const text of update.texts) run.logTap(update.stream, text)
        }
        if (run.partialTap !== undefined && update.kind === "partial") run.partialTap(update.index, update.text)
        Queue.offerUnsafe(queue, { ...update, step, time: now() } as Update)
      }
    }
    const fiber = fork(pipeline(run))
    // A fiber runs until it first waits, so a synchronous step has already
    // ended here: no need to track it or to observe it.
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) return ended(run, exit)
    fibers.set(step, fiber)
    fiber.addObserver((exit) => {
      fibers.delete(step)
      ended(run, exit)
    })
  }

  receive((command) => {
    switch (command.type) {
      case "executor.start":
        for (const { step, inputs } of command.starts) start(step, inputs)
        consume(command.starts)
        return
      case "executor.resume":
        for (const step of command.steps) {
          const wake = reclaiming.get(step)
          reclaiming.delete(step)
          wake?.()
        }
        consume(command.steps)
        return
      case "executor.interrupt":
        if (command.steps === undefined) for (const fiber of fibers.values()) fiber.interruptUnsafe()
        else for (const step of command.steps) fibers.get(step)?.interruptUnsafe()
        return
    }
  })

  return () => {
    signal?.removeEventListener("abort", cancel)
    for (const fiber of fibers.values()) fiber.interruptUnsafe()
    for (const fiber of turns) fiber.interruptUnsafe()
    driver.interruptUnsafe()
  }
})

