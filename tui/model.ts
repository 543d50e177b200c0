/**
 * The dashboard's view model: everything the screen shows, folded from
 * events. Mutable on purpose, and O(1) per event (`run:start` aside, which lays
 * the steps out): at thousands of events a second the reporter only updates
 * this, and the render timer reads it at most every few dozen milliseconds.
 * Nothing here knows about Ink; it is tested as a plain object.
 *
 * It also holds the user's side of the screen (the selected step, whether
 * the log pane is expanded, how far it is scrolled back), so a key press is a
 * method call and the next frame shows it.
 *
 * Times are run times: milliseconds since `run:start`, as events carry them.
 * The clock is injected; it is read only to say how long running steps have
 * been running.
 */
import { unreachable, type Event, type RunStatus, type StepInfo } from "../runtime/Event.ts"
import type { EndStatus, StepStatus } from "../runtime/StepStatus.ts"
import { SummaryBuilder, type Summary } from "../runtime/Summary.ts"
import type { WatchEvent } from "../runtime/watch/WatchEvent.ts"
import { Forecast, type Eta } from "../runtime/forecast/index.ts"
import { sanitize } from "./format.ts"
import { Ring, type Line, type LineKind } from "./Ring.ts"
import { stepLayout, type StepLayout } from "./stepLayout.ts"
import { applyWatch, emptyWatch, runStarted, type WatchView } from "./watchBanner.ts"

export type StepStatusView = StepStatus

/** One step's row and log. */
export interface StepView {
  readonly id: string
  /** Declaration order. */
  readonly index: number
  /** Position on screen. */
  readonly row: number
  readonly level: number
  /** Expected (then, once the run ends, actual) critical path. */
  critical: boolean
  readonly estimateMs: number | undefined
  status: StepStatusView
  attempt: number
  /** The worker running (or that ran) its attempt, when the run has workers. */
  worker: string | undefined
  /** Run time of the first attempt's start. */
  startedAt: number | undefined
  /** Run time of the current attempt's start. */
  attemptStartedAt: number | undefined
  durationMs: number | undefined
  /** A failed attempt waits to be retried. */
  retrying: boolean
  /** Why the step is held back before its attempt starts ("rate limit openai"), while it is. */
  waiting: string | undefined
  progress: { readonly done: number; readonly total?: number | undefined; readonly message?: string | undefined } | undefined
  error: string | undefined
  /** It failed, but it is optional. */
  optional: boolean
  savedMs: number
  /** Memoized calls the memo answered (hits and coalesced) / made. */
  memoHits: number
  memoCalls: number
  readonly lines: Ring
}

export interface ModelOptions {
  /** The workflow file, shown until `run:start` names the workflow. */
  readonly file?: string | undefined
  /** Expected ms per step id, where `run:start` gives none. */
  readonly estimates?: ReadonlyMap<string, number> | undefined
  /** The first run's number (default 1); each later `run:start` adds one. */
  readonly runNumber?: number | undefined
  /** Lines kept per step (default 2,000). */
  readonly ringSize?: number | undefined
  /** Wall-clock milliseconds. */
  readonly now: () => number
  /** How far past its estimate the ETA still gives a running step (default `defaultFloorMs`); tests with exact estimates set 0. */
  readonly etaFloorMs?: number | undefined
}

export type Phase = "loading" | "running" | "ended"

export class Model {
  readonly file: string | undefined
  /** Bumped by every change: the render timer draws only when it moved. */
  version = 0
  phase: Phase = "loading"
  workflow = ""
  run: string | undefined
  runNumber: number
  concurrency = 1
  /** Command steps at once (`run:start`'s `commandConcurrency`; `concurrency` when not said). */
  commandConcurrency = 1
  /** The run was started with `--allow-all`: the header says so. */
  permissionsOff = false
  /** In row order. */
  steps: Array<StepView> = []
  status: RunStatus | undefined
  durationMs = 0
  summary: Summary | undefined
  warnings: Array<string> = []
  watch: WatchView = emptyWatch
  /** Ctrl-C was pressed: the run is being cancelled. */
  interrupting = false
  endedCount = 0
  /** Ended steps by status. */
  counts: Record<EndStatus, number> = noCounts()
  /** The widest step id shown (at most 24), and the widest level number. */
  idWidth = 0
  levelWidth = 1
  /** Running steps, in the order they started. */
  readonly running = new Set<StepView>()
  /** The selected row, and whether it follows the action (until the user moves it). */
  selected = 0
  following = true
  expanded = false
  /** Log lines scrolled back from the newest. */
  scroll = 0

  readonly #options: ModelOptions
  readonly #byId = new Map<string, StepView>()
  #layout: StepLayout | undefined
  readonly #forecast: Forecast
  #ended: Array<boolean> = []
  #builder = new SummaryBuilder()
  /** Wall time at run time 0. */
  #origin = 0
  #firstFailed: StepView | undefined

  constructor(options: ModelOptions) {
    this.#options = options
    this.#forecast = new Forecast(options.etaFloorMs)
    this.file = options.file
    this.runNumber = options.runNumber ?? 1
  }

  /** Run time now: frozen at the run's duration once it ended. */
  runTime(): number {
    if (this.phase === "ended") return this.durationMs
    if (this.phase === "loading") return 0
    return Math.max(0, this.#options.now() - this.#origin)
  }

  step(id: string): StepView | undefined {
    return this.#byId.get(id)
  }

  selectedStep(): StepView | undefined {
    return this.steps[this.selected]
  }

  /** The remaining schedule (see `runtime/forecast/`). */
  eta(): Eta | undefined {
    if (this.phase !== "running") return undefined
    return this.#forecast.eta(this.runTime())
  }

  apply(event: Event): void {
    this.version++
    if (event.type === "run:start") return this.#start(event)
    this.#builder.add(event)
    this.#forecast.apply(event)
    switch (event.type) {
      case "step:ready": {
        const s = this.#byId.get(event.step)
        if (s !== undefined) s.status = "ready"
        return
      }
      case "step:start": {
        const s = this.#byId.get(event.step)
        if (s === undefined) return
        s.status = "running"
        s.attempt = event.attempt
        s.worker = event.worker
        s.startedAt ??= event.time
        s.attemptStartedAt = event.time
        s.retrying = false
        s.waiting = undefined
        this.running.add(s)
        if (this.following && this.#firstFailed === undefined && this.running.size === 1) this.selected = s.row
        return
      }
      case "step:log":
        return this.#lines(event.step, event.stream, event.text)
      case "step:partial":
        return this.#lines(event.step, "partial", event.text)
      case "step:progress": {
        const s = this.#byId.get(event.step)
        if (s !== undefined) s.progress = { done: event.done, total: event.total, message: event.message }
        return
      }
      case "step:retry": {
        const s = this.#byId.get(event.step)
        if (s === undefined) return
        s.retrying = true
        this.#lines(event.step, "note", `attempt ${event.attempt} failed: ${event.error}`)
        return
      }
      case "step:waiting": {
        const s = this.#byId.get(event.step)
        if (s === undefined) return
        s.waiting = event.over === true ? undefined : event.reason
        return
      }
      case "step:memo": {
        const s = this.#byId.get(event.step)
        if (s === undefined) return
        s.memoCalls++
        if (event.outcome !== "miss") s.memoHits++
        return
      }
      case "step:end":
        return this.#end(event)
      case "run:warning":
        this.warnings = [...this.warnings, event.message].slice(-2)
        return
      case "run:end":
        return this.finish(event.status, event.durationMs)
      default:
        return unreachable(event)
    }
  }

  applyWatch(event: WatchEvent): void {
    this.version++
    this.watch = applyWatch(this.watch, event)
  }

  /** The run ended (from `run:end`, or the reporter's `onEnd` if that never came). */
  finish(status: RunStatus, durationMs: number): void {
    if (this.phase === "ended") return
    this.version++
    this.phase = "ended"
    this.status = status
    this.durationMs = durationMs
    this.running.clear()
    this.summary = this.#builder.summary()
    // The expected critical path gives way to the one that happened.
    const actual = new Set(this.summary.criticalPath)
    for (const s of this.steps) s.critical = actual.has(s.id)
    if (this.following && this.#firstFailed !== undefined) this.selected = this.#firstFailed.row
  }

  /** Ctrl-C: the run is being cancelled (the header says so until it ends). */
  interrupt(): void {
    this.version++
    this.interrupting = true
  }

  /** ↑ / ↓: move the selection; it no longer follows the action. */
  move(delta: number): void {
    if (this.steps.length === 0) return
    this.version++
    this.following = false
    this.selected = Math.min(this.steps.length - 1, Math.max(0, this.selected + delta))
    this.scroll = 0
  }

  /** Enter: a taller log pane, or back. */
  toggle(): void {
    this.version++
    this.expanded = !this.expanded
    this.scroll = 0
  }

  /** PgUp (+1) / PgDn (-1): scroll the selected step's log by `page` lines. */
  page(direction: 1 | -1, page: number): void {
    const s = this.selectedStep()
    if (s === undefined) return
    this.version++
    const most = Math.max(0, s.lines.size - page)
    this.scroll = Math.min(most, Math.max(0, this.scroll + direction * page))
  }

  /** `c` in watch mode: forget finished output and old watch messages. */
  clear(): void {
    this.version++
    for (const s of this.steps) if (s.status !== "running") s.lines.clear()
    this.scroll = 0
    this.warnings = []
    this.watch = { ...emptyWatch, files: this.watch.files, polling: this.watch.polling, idle: this.watch.idle }
  }

  #start(event: Extract<Event, { type: "run:start" }>): void {
    if (this.phase !== "loading") this.runNumber++
    this.phase = "running"
    this.workflow = event.workflow
    this.run = event.run
    this.concurrency = event.concurrency
    this.commandConcurrency = event.commandConcurrency ?? event.concurrency
    this.permissionsOff = event.permissionsOff === true
    this.#origin = this.#options.now() - event.time
    this.status = undefined
    this.durationMs = 0
    this.summary = undefined
    this.warnings = []
    this.interrupting = false
    this.endedCount = 0
    this.counts = noCounts()
    this.idWidth = Math.min(24, event.steps.reduce((w, s) => Math.max(w, s.id.length), 0))
    this.running.clear()
    this.#firstFailed = undefined
    this.#builder = new SummaryBuilder()
    this.#builder.add(event)
    this.watch = runStarted(this.watch)
    const estimates = this.#options.estimates
    const estimateOf = (info: StepInfo) => info.estimateMs ?? estimates?.get(info.id)
    const layout = stepLayout(event.steps, estimateOf)
    this.#layout = layout
    this.#forecast.begin(event, estimateOf)
    this.levelWidth = String(layout.levels.reduce((max, l) => Math.max(max, l), 0)).length
    this.#ended = event.steps.map(() => false)
    const ringSize = this.#options.ringSize ?? 2000
    this.#byId.clear()
    this.steps = layout.order.map((index, row) => {
      const info = event.steps[index]!
      const view: StepView = {
        id: info.id,
        index,
        row,
        level: layout.levels[index]!,
        critical: layout.critical.has(info.id),
        estimateMs: estimateOf(info),
        status: "pending",
        attempt: 0,
        worker: undefined,
        startedAt: undefined,
        attemptStartedAt: undefined,
        durationMs: undefined,
        retrying: false,
        waiting: undefined,
        progress: undefined,
        error: undefined,
        optional: false,
        savedMs: 0,
        memoHits: 0,
        memoCalls: 0,
        lines: new Ring(ringSize)
      }
      this.#byId.set(info.id, view)
      return view
    })
    this.selected = 0
    this.following = true
    this.scroll = 0
  }

  #end(event: Extract<Event, { type: "step:end" }>): void {
    const s = this.#byId.get(event.step)
    if (s === undefined) return
    s.status = event.status
    s.durationMs = event.durationMs
    s.attempt = event.attempts
    s.retrying = false
    s.waiting = undefined
    s.error = event.error
    s.optional = event.optional === true
    s.savedMs = event.savedMs ?? 0
    if (!this.#ended[s.index]) {
      this.#ended[s.index] = true
      this.endedCount++
      this.counts[event.status]++
    }
    this.running.delete(s)
    if (event.error !== undefined && event.status === "failed") {
      for (const line of event.error.split("\n")) s.lines.push({ kind: "error", text: sanitize(line) })
    }
    if (!this.following) return
    if (event.status === "failed" && this.#firstFailed === undefined) {
      this.#firstFailed = s
      this.selected = s.row
    } else if (this.#firstFailed === undefined && this.selected === s.row) {
      // The followed step is done: follow the longest-running one left.
      const next = this.running.values().next()
      if (next.done !== true) this.selected = next.value.row
    }
  }

  #lines(step: string, kind: LineKind, text: string): void {
    const s = this.#byId.get(step)
    if (s === undefined) return
    const parts = text.split("\n")
    if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop()
    for (const part of parts) s.lines.push({ kind, text: sanitize(part) })
  }
}

const noCounts = (): Record<EndStatus, number> => ({ succeeded: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0 })

/** The line a row shows: the newest log line or streamed part. */
export const lastLine = (s: StepView): Line | undefined => s.lines.last()
