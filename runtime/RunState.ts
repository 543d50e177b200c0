/**
 * Everything the machine knows about a run, and the rules that change it.
 *
 * The machine owns one `RunState` as its context. Each method applies one
 * input (the run begins, the executor reports, someone cancels) and leaves in
 * the outbox what must happen as a result: events to emit, steps to start,
 * whether to interrupt. The machine drains the outbox; only it calls these
 * methods. The state is mutated in place rather than copied per event, so a
 * 100,000-step run costs O(1) per event instead of O(steps).
 */
import type { StepDef } from "../dsl/Step.ts"
import type { RateLimitOption } from "../dsl/Workflow.ts"
import type { Event, RateLimitInfo, RunStatus, StepInfo } from "./Event.ts"
import { toMillis } from "../dsl/duration.ts"
import type { StepReport } from "./StepReport.ts"
import type { Plan } from "./Plan.ts"
import { capacitiesOf, commandsResource, demandOf } from "./concurrency.ts"
import { makeScheduler, type Scheduler } from "./Scheduler.ts"
import { canTransition, isFinal, isSuccess, type EndStatus, type StepStatus } from "./StepStatus.ts"
import { setById, viewById } from "./internal/byId.ts"
import { MemoRates } from "./alerts.ts"

/** One step's state as reported in results and snapshots. */
export interface StepSummary {
  readonly status: StepStatus
  readonly attempts: number
  readonly durationMs?: number | undefined
  readonly error?: string | undefined
}

/** What a finished run returns. */
export interface RunResult<O = Record<string, unknown>> {
  readonly status: RunStatus
  /** The outputs of the steps that succeeded, by id. */
  readonly outputs: Partial<O>
  readonly steps: Readonly<Record<string, StepSummary>>
  readonly durationMs: number
}

/** How many steps are in each status: the run's progress, kept by counters (see `RunState.counts`). */
export type Progress = { readonly total: number } & { readonly [S in StepStatus]: number }

export interface Outbox {
  readonly events: Array<Event>
  readonly starts: Array<{ readonly step: number; readonly inputs: Record<string, unknown> }>
  /** Steps that released their slot to wait and now get one back. */
  readonly resumes: Array<number>
  interrupt: boolean
}

export class RunState {
  readonly plan: Plan
  /** Steps of any kind that may hold a slot at once. */
  readonly concurrency: number
  /** Command steps that may run at once (a resource of the plan when it binds: `concurrency.ts`). */
  readonly commandConcurrency: number
  readonly failFast: boolean
  /** The run's id, announced by `run:start`. */
  readonly runId: string
  readonly status: Array<StepStatus>
  readonly attempts: Array<number>
  readonly outputs: Array<unknown>
  readonly errors: Array<string | undefined>
  readonly startedAt: Array<number>
  readonly endedAt: Array<number>
  /** Dependencies each step still waits for. */
  readonly #waiting: Array<number>
  /**
   * The start decisions: the ready steps, the slots and resources, and which
   * step holds what (handed to the executor and not ended, holding a slot or
   * parked without one).
   */
  readonly #scheduler: Scheduler
  #ended = 0
  #begun = false
  #stopping: RunStatus | undefined
  #failed = false
  startTime = 0
  endTime = 0
  outbox: Outbox = { events: [], starts: [], resumes: [], interrupt: false }

  /**
   * Every step's status by id, read through to `status` (see `viewById`):
   * the run actor's `context.steps`. Copying 100,000 entries per batch would
   * make a run O(n²), and keeping a record up to date cost four keyed writes a step.
   */
  readonly byId: Readonly<Record<string, StepStatus>>
  /** How many steps are in each status, kept as they move (in place): the run actor's `context.progress`. */
  readonly counts: { total: number } & { [S in StepStatus]: number }

  /** Announced by `run:start`: `--allow-all`. */
  readonly #permissionsOff: boolean

  /** The memo alert's counts, when it is on (`alerts.memoHitRate`). */
  readonly #memoRates: MemoRates | undefined
  readonly #memoHitRate: number | undefined

  constructor(
    plan: Plan,
    options: {
      readonly concurrency: number
      readonly commandConcurrency?: number
      readonly failFast: boolean
      readonly runId: string
      readonly permissionsOff?: boolean
      readonly memoHitRate?: number | undefined
    }
  ) {
    const n = plan.ids.length
    this.plan = plan
    this.concurrency = options.concurrency
    this.commandConcurrency = Math.min(options.commandConcurrency ?? options.concurrency, options.concurrency)
    this.failFast = options.failFast
    this.runId = options.runId
    this.#permissionsOff = options.permissionsOff === true
    this.#memoHitRate = options.memoHitRate
    this.#memoRates = options.memoHitRate === undefined ? undefined : new MemoRates()
    this.status = new Array<StepStatus>(n).fill("pending")
    this.byId = viewById(plan.ids, plan.indexOf, this.status)
    this.counts = { total: n, pending: n, ready: 0, running: 0, succeeded: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0 }
    this.attempts = new Array<number>(n).fill(0)
    this.outputs = new Array<unknown>(n)
    this.errors = new Array<string | undefined>(n)
    this.startedAt = new Array<number>(n).fill(NaN)
    this.endedAt = new Array<number>(n).fill(NaN)
    this.#waiting = plan.deps.map((ds) => ds.length)
    this.#scheduler = makeScheduler({ rank: plan.rank, slots: options.concurrency, resources: plan.resources })
  }

  /** Whether every step has ended. */
  get finished(): boolean {
    return this.#begun && this.#ended === this.status.length
  }

  /** Why the run stops early, once it does: a failure with failFast, or a cancel. */
  get stopping(): RunStatus | undefined {
    return this.#stopping
  }

  /** How the run ends (or would, if it ended now): what `finish` reports. */
  get outcome(): RunStatus {
    return this.#stopping === "cancelled" ? "cancelled" : this.#failed ? "failed" : "succeeded"
  }

  /** The steps handed to the executor and not ended: those a stop interrupts. */
  inFlight(): Array<number> {
    const steps: Array<number> = []
    for (let i = 0; i < this.status.length; i++) if (this.#scheduler.holds(i)) steps.push(i)
    return steps
  }

  /** In an inspection or a persisted snapshot: the run's id, not every array it keeps. */
  toJSON(): { readonly runId: string } {
    return { runId: this.runId }
  }

  /** The status of a step, by id. */
  statusOf(id: string): StepStatus | undefined {
    const i = this.plan.indexOf.get(id)
    return i === undefined ? undefined : this.status[i]
  }

  /** Every step's state, by id (built on each call: O(steps)). */
  get steps(): Record<string, StepSummary> {
    const steps = record<StepSummary>()
    const ids = this.plan.ids
    for (let i = 0; i < ids.length; i++) setById(steps, ids[i]!, this.#summary(i))
    return steps
  }

  #summary(i: number): StepSummary {
    const startedAt = this.startedAt[i]!
    const endedAt = this.endedAt[i]!
    return {
      status: this.status[i]!,
      attempts: this.attempts[i]!,
      durationMs: Number.isNaN(startedAt) || Number.isNaN(endedAt) ? undefined : endedAt - startedAt,
      error: this.errors[i]
    }
  }

  /** Takes what the last inputs asked for. */
  takeOutbox(): Outbox {
    const outbox = this.outbox
    this.outbox = { events: [], starts: [], resumes: [], interrupt: false }
    return outbox
  }

  begin(time: number): void {
    this.startTime = time
    this.#begun = true
    const { ids, deps } = this.plan
    const n = ids.length
    // Filled below, in the same pass that finds the first ready steps; nobody
    // sees the event before this method returns.
    const steps = new Array<StepInfo>(n)
    const workflow = this.plan.workflow.name
    const { rateLimits } = this.plan.workflow.options
    // With the command limit in the plan, its resources are more than the workflow's.
    const commandLimited = this.plan.resources?.names.includes(commandsResource) === true
    const resources = commandLimited ? capacitiesOf(this.plan) : this.plan.workflow.options.resources
    const limited = rateLimits !== undefined || resources !== undefined
    this.#emit({
      type: "run:start",
      time: 0,
      run: this.runId,
      workflow,
      steps,
      concurrency: this.concurrency,
      commandConcurrency: this.commandConcurrency,
      ...(this.#permissionsOff ? { permissionsOff: true } : {}),
      ...(rateLimits === undefined ? {} : { rateLimits: rateLimitInfos(rateLimits) }),
      ...(resources === undefined ? {} : { resources })
    })
    const estimateMs = this.plan.estimateMs
    for (let i = 0; i < n; i++) {
      const ds = deps[i]!
      const dependsOn = ds.length === 0 ? noIds : this.#depIds(i, ds)
      const ms = estimateMs[i]!
      // Two literals, not spreads, on the path every step takes.
      const info: StepInfo = Number.isNaN(ms) ? { id: ids[i]!, deps: dependsOn } : { id: ids[i]!, deps: dependsOn, estimateMs: ms }
      steps[i] = limited ? withLimits(info, this.plan.steps[i]!, commandLimited ? demandOf(this.plan, i) : this.plan.steps[i]!.resources) : info
      if (ds.length === 0) this.#makeReady(i, time)
    }
    if (this.#stopping !== undefined) this.#stop(this.#stopping, time)
    this.#dispatch()
  }

  /** The ids step `i` waits for: its definition's own `needs` when they are exactly that (the usual case), else a new list. */
  #depIds(i: number, ds: ReadonlyArray<number>): ReadonlyArray<string> {
    const def = this.plan.steps[i]!
    if (def.after.length === 0 && def.needs.length === ds.length) return def.needs
    return ds.map((d) => this.plan.ids[d]!)
  }

  apply(update: StepReport): void {
    const i = update.step
    const id = this.plan.ids[i]!
    const time = update.time - this.startTime
    switch (update.type) {
      case "step:start":
        if (this.status[i] === "ready") {
          this.#move(i, "running")
          this.startedAt[i] = update.time
        }
        this.attempts[i] = update.attempt
        this.#emit(update.worker === undefined
          ? { type: "step:start", time, step: id, attempt: update.attempt }
          : { type: "step:start", time, step: id, attempt: update.attempt, worker: update.worker })
        return
      case "step:log":
        this.#emit(update.replayed
          ? { type: "step:log", time, step: id, stream: update.stream, text: update.text, replayed: true }
          : { type: "step:log", time, step: id, stream: update.stream, text: update.text })
        return
      case "step:logs":
        if (update.replayed) for (const text of update.texts) this.#emit({ type: "step:log", time, step: id, stream: update.stream, text, replayed: true })
        else for (const text of update.texts) this.#emit({ type: "step:log", time, step: id, stream: update.stream, text })
        return
      case "step:partial":
        this.#emit(update.replayed
          ? { type: "step:partial", time, step: id, index: update.index, text: update.text, replayed: true }
          : { type: "step:partial", time, step: id, index: update.index, text: update.text })
        return
      case "step:memo":
        this.#memoRates?.add(update.name, update.outcome)
        this.#emit(update.keys === undefined
          ? { type: "step:memo", time, step: id, name: update.name, outcome: update.outcome, savedMs: update.savedMs }
          : { type: "step:memo", time, step: id, name: update.name, outcome: update.outcome, savedMs: update.savedMs, keys: update.keys })
        return
      case "run:warning":
        this.#emit(i >= 0 ? { type: "run:warning", time, message: update.message, step: id } : { type: "run:warning", time, message: update.message })
        return
      case "step:progress":
        this.#emit({
          type: "step:progress",
          time,
          step: id,
          done: update.done,
          ...(update.total === undefined ? {} : { total: update.total }),
          ...(update.message === undefined ? {} : { message: update.message })
        })
        return
      case "step:waiting":
        // A memoized call's wait may be told over after its step ended (interrupted).
        if (isFinal(this.status[i]!)) return
        if (update.releases === true && this.#scheduler.park(i)) {
          this.#emit({ type: "step:waiting", time, step: id, reason: update.reason, releases: true })
          this.#dispatch()
          return
        }
        this.#emit(update.over === true
          ? { type: "step:waiting", time, step: id, reason: update.reason, over: true }
          : { type: "step:waiting", time, step: id, reason: update.reason })
        return
      case "step:resume":
        if (this.#scheduler.unpark(i)) this.#dispatch()
        return
      case "step:retry":
        this.#emit(update.reason === undefined
          ? { type: "step:retry", time, step: id, attempt: update.attempt, error: update.error, delayMs: update.delayMs }
          : { type: "step:retry", time, step: id, attempt: update.attempt, error: update.error, reason: update.reason, delayMs: update.delayMs })
        return
      case "step:end":
        this.#scheduler.release(i)
        this.attempts[i] = update.attempts
        this.#end(i, update)
        this.#dispatch()
        return
    }
  }

  /** Stops the run: nothing new starts, what runs is interrupted, the run ends cancelled. */
  cancel(time: number): void {
    if (!this.#begun) {
      this.#stopping ??= "cancelled"
      return
    }
    this.#stop("cancelled", time - this.startTime)
  }

  /** Set when the run has finished. */
  result: RunResult | undefined

  finish(time: number): RunResult {
    this.endTime = time
    const durationMs = time - this.startTime
    const status = this.outcome
    for (const message of this.#memoRates?.warnings(this.#memoHitRate) ?? []) this.#emit({ type: "run:warning", time: durationMs, message })
    this.#emit({ type: "run:end", time: durationMs, status, durationMs })
    // Each record is built on its first read, from the arrays, which no longer
    // change: a caller that reads only the status (the command line without
    // `--output`) skips 200,000 keyed writes at 100,000 steps (50-100 ms
    // cold), and the run's peak memory, at its end, 100,000 summaries.
    const state = this
    let outputs: Record<string, unknown> | undefined
    let steps: Record<string, StepSummary> | undefined
    this.result = {
      status,
      get outputs() {
        return outputs ??= state.#outputs()
      },
      get steps() {
        return steps ??= state.steps
      },
      durationMs
    }
    return this.result
  }

  /** The outputs of the steps that succeeded, by id. */
  #outputs(): Record<string, unknown> {
    const outputs = record()
    const ids = this.plan.ids
    for (let i = 0; i < ids.length; i++) if (isSuccess(this.status[i]!)) setById(outputs, ids[i]!, this.outputs[i])
    return outputs
  }

  #end(i: number, update: Extract<StepReport, { type: "step:end" }>): void {
    const time = update.time - this.startTime
    const outcome = update
    this.endedAt[i] = update.time
    if (Number.isNaN(this.startedAt[i]!)) this.startedAt[i] = update.time
    switch (outcome.status) {
      case "succeeded":
        this.outputs[i] = outcome.value
        this.#close(i, "succeeded", time)
        this.#satisfyDependents(i, update.time)
        return
      case "cached":
        this.outputs[i] = outcome.value
        this.#close(i, "cached", time, undefined, outcome.savedMs)
        this.#satisfyDependents(i, update.time)
        return
      case "failed":
        this.errors[i] = outcome.error
        this.#close(i, "failed", time, outcome.error)
        if (this.plan.steps[i]!.optional) {
          this.#satisfyDependents(i, update.time)
        } else {
          this.#failed = true
          this.#skipDependents(i, time)
          if (this.failFast) this.#stop("failed", time)
        }
        return
      case "cancelled":
        this.#close(i, "cancelled", time)
        this.#skipDependents(i, time)
        return
    }
  }

  #close(i: number, status: EndStatus, time: number, error?: string, savedMs?: number): void {
    this.#move(i, status)
    this.#ended++
    const durationMs = Number.isNaN(this.startedAt[i]!) ? 0 : this.endedAt[i]! - this.startedAt[i]!
    const step = this.plan.ids[i]!
    const attempts = this.attempts[i]!
    // Two literals rather than a conditional spread, which V8 copies through a slow generic path.
    this.#emit(
      savedMs !== undefined
        ? { type: "step:end", time, step, status, durationMs, attempts, savedMs }
        : error === undefined
        ? { type: "step:end", time, step, status, durationMs, attempts }
        : status === "failed" && this.plan.steps[i]!.optional
        ? { type: "step:end", time, step, status, durationMs, attempts, error, optional: true }
        : { type: "step:end", time, step, status, durationMs, attempts, error }
    )
  }

  /** Indexed, not \`for of\`: until this is optimized (a cold process), that allocates an iterator result per dependent. */
  #satisfyDependents(i: number, absoluteTime: number): void {
    const ds = this.plan.dependents[i]!
    for (let j = 0; j < ds.length; j++) this.#satisfy(ds[j]!, absoluteTime)
  }

  #satisfy(i: number, absoluteTime: number): void {
    if (--this.#waiting[i]! === 0 && this.status[i] === "pending" && this.#stopping === undefined) {
      this.#makeReady(i, absoluteTime)
    }
  }

  #makeReady(i: number, absoluteTime: number): void {
    this.#move(i, "ready")
    this.#emit({ type: "step:ready", time: absoluteTime - this.startTime, step: this.plan.ids[i]! })
    this.#scheduler.ready(i)
  }

  /** Ends as skipped every step that can no longer run because `i` did not succeed. */
  #skipDependents(i: number, time: number): void {
    const stack = [...this.plan.dependents[i]!]
    while (stack.length > 0) {
      const d = stack.pop()!
      if (this.status[d] !== "pending") continue
      this.endedAt[d] = time + this.startTime
      this.#close(d, "skipped", time)
      stack.push(...this.plan.dependents[d]!)
    }
  }

  #stop(reason: RunStatus, time: number): void {
    if (this.#stopping === undefined || (this.#stopping === "failed" && reason === "cancelled")) this.#stopping = reason
    // Starts decided earlier in this same batch have not reached the executor
    // yet: withdraw them, so nothing starts after the run began to stop.
    const scheduler = this.#scheduler
    for (const { step } of this.outbox.starts) scheduler.release(step)
    this.outbox.starts.length = 0
    // Likewise slots handed back: those steps stay parked until interrupted.
    for (const step of this.outbox.resumes) scheduler.park(step)
    this.outbox.resumes.length = 0
    scheduler.drain()
    this.status.forEach((status, i) => {
      if (status === "pending" || (status === "ready" && !scheduler.holds(i))) {
        this.endedAt[i] = time + this.startTime
        this.#close(i, "cancelled", time)
      }
    })
    if (scheduler.running + scheduler.parked > 0) this.outbox.interrupt = true
  }

  /** Where `#dispatch` puts what the scheduler decides: made once, so deciding allocates no lists. */
  readonly #resumed = (step: number): void => {
    this.outbox.resumes.push(step)
  }
  readonly #started = (step: number): void => {
    this.outbox.starts.push({ step, inputs: this.#inputsOf(step) })
  }

  #dispatch(): void {
    if (this.#stopping !== undefined) return
    this.#scheduler.takeEach(this.#resumed, this.#started)
  }

  #inputsOf(i: number): Record<string, unknown> {
    const count = this.plan.inputCount[i]!
    if (count === 0) return {}
    const inputs = record()
    const deps = this.plan.deps[i]!
    const ids = this.plan.ids
    // The plan lists a step's needs first among its deps, once each, in the
    // order named; keyed by the dependency's own id, the inputs come out as
    // from the definition's \`needs\` without reading it (a cache miss per
    // string in a big plan).
    for (let j = 0; j < count; j++) {
      const d = deps[j]!
      setById(inputs, ids[d]!, isSuccess(this.status[d]!) ? this.outputs[d] : undefined)
    }
    return inputs
  }

  #move(i: number, to: StepStatus): void {
    const from = this.status[i]!
    if (!canTransition(from, to)) {
      throw new Error(`weft bug: step "${this.plan.ids[i]}" cannot go from ${from} to ${to}`)
    }
    this.status[i] = to
    this.counts[from]--
    this.counts[to]++
  }

  #emit(event: Event): void {
    this.outbox.events.push(event)
  }
}

/** `info` with the step's rate limit and what it holds, when it has them. */
const withLimits = (info: StepInfo, def: StepDef, held: StepDef["resources"]): StepInfo =>
  def.rateLimit === undefined && held === undefined
    ? info
    : { ...info, ...(def.rateLimit === undefined ? {} : { rateLimit: def.rateLimit }), ...(held === undefined ? {} : { resources: held }) }

const rateLimitInfos = (options: Readonly<Record<string, RateLimitOption>>): Record<string, RateLimitInfo> =>
  Object.fromEntries(Object.entries(options).map(([name, option]) => [name, { limit: option.limit, perMs: toMillis(option.per)! }]))

/** The deps of every step that waits for nothing, in `run:start`. */
const noIds: ReadonlyArray<string> = Object.freeze([])

/**
 * An empty plain object meant to be keyed by step ids. Filling `{}` with keys
 * gives V8 a new hidden class per distinct key sequence, so 100,000 steps'
 * `inputs` made some 200,000 hidden classes: about 1.5 µs per step, and old
 * generation memory that only a full GC returns. An object born without a
 * prototype is in dictionary mode (0.15 µs); giving it `Object.prototype` back
 * keeps it there, and it is otherwise the same plain object, keys in insertion
 * order.
 */
const record = <V = unknown>(): Record<string, V> => Object.setPrototypeOf(Object.create(null), Object.prototype)
