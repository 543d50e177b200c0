/**
 * The facts every reporter shows at the end of a run, folded from events
 * alone, so the plain, JSON and dashboard reporters cannot disagree: each
 * step's status and duration, the critical path, and the achieved parallelism.
 */
import { unreachable, type Event, type RunStatus, type StepInfo } from "./Event.ts"
import type { EndStatus } from "./StepStatus.ts"

export interface StepLine {
  readonly id: string
  readonly status: EndStatus | "pending" | "ready" | "running"
  readonly durationMs: number
  readonly attempts: number
  readonly error?: string | undefined
}

export interface Summary {
  readonly workflow: string
  readonly status: RunStatus | "running"
  readonly durationMs: number
  readonly steps: ReadonlyArray<StepLine>
  /** The chain of steps that decided the run's length, by their real durations. */
  readonly criticalPath: ReadonlyArray<string>
  readonly criticalPathMs: number
  /** Busy step-time over wall time: 1 means one step at a time. */
  readonly parallelism: number
  /** Time the cache and memoized calls saved: what hits would have cost to run. */
  readonly savedMs: number
  /** Memoized functions' calls, by name. */
  readonly memo: Readonly<Record<string, MemoLine>>
}

/** One memoized function's calls in a run. */
export interface MemoLine {
  /** Calls made through the memoized function (for a batched one, keys asked for). */
  readonly calls: number
  readonly hits: number
  readonly coalesced: number
  /** Calls (keys) the function itself had to answer. */
  readonly misses: number
  /**
   * Calls of the function itself: the misses, except that a batched function
   * answers many in one. Absent from history records written before weft counted it.
   */
  readonly made?: number
  readonly savedMs: number
}

/** Folds events into the run's summary; feed every event, read `summary()` at any time. */
export class SummaryBuilder {
  #workflow = ""
  #status: Summary["status"] = "running"
  #durationMs = 0
  #infos: ReadonlyArray<StepInfo> = []
  readonly #lines = new Map<string, { -readonly [K in keyof StepLine]: StepLine[K] }>()
  readonly #memo: Record<string, { -readonly [K in keyof MemoLine]-?: MemoLine[K] & {} }> = {}
  #savedMs = 0

  add(event: Event): void {
    switch (event.type) {
      case "run:start":
        this.#workflow = event.workflow
        this.#infos = event.steps
        for (const { id } of event.steps) this.#lines.set(id, { id, status: "pending", durationMs: 0, attempts: 0 })
        return
      case "step:ready":
        this.#line(event.step).status = "ready"
        return
      case "step:start": {
        const line = this.#line(event.step)
        line.status = "running"
        line.attempts = event.attempt
        return
      }
      case "step:end": {
        const line = this.#line(event.step)
        line.status = event.status
        line.durationMs = event.durationMs
        line.attempts = event.attempts
        line.error = event.error
        this.#savedMs += event.savedMs ?? 0
        return
      }
      case "step:memo": {
        const line = (this.#memo[event.name] ??= { calls: 0, hits: 0, coalesced: 0, misses: 0, made: 0, savedMs: 0 })
        line.calls++
        line[event.outcome === "hit" ? "hits" : event.outcome === "coalesced" ? "coalesced" : "misses"]++
        // Each of a batch's keys brings its share of the one call: whole once all have arrived.
        if (event.outcome === "miss") line.made = round6(line.made + 1 / (event.keys ?? 1))
        line.savedMs += event.savedMs
        this.#savedMs += event.savedMs
        return
      }
      case "run:end":
        this.#status = event.status
        this.#durationMs = event.durationMs
        return
      case "step:log":
      case "step:partial":
      case "step:progress":
      case "step:retry":
      case "step:waiting":
      case "run:warning":
        return
      default:
        return unreachable(event)
    }
  }

  summary(): Summary {
    const steps = [...this.#lines.values()]
    const busy = steps.reduce((sum, s) => sum + s.durationMs, 0)
    const { path, ms } = criticalPath(this.#infos, (id) => this.#lines.get(id)?.durationMs ?? 0)
    return {
      workflow: this.#workflow,
      status: this.#status,
      durationMs: this.#durationMs,
      steps,
      criticalPath: path,
      criticalPathMs: ms,
      parallelism: this.#durationMs > 0 ? busy / this.#durationMs : 0,
      savedMs: this.#savedMs,
      memo: structuredClone(this.#memo)
    }
  }

  #line(id: string) {
    let line = this.#lines.get(id)
    if (line === undefined) {
      line = { id, status: "pending", durationMs: 0, attempts: 0 }
      this.#lines.set(id, line)
    }
    return line
  }
}

/** The heaviest chain through `steps` (given in dependency order) under `weight`. */
export const criticalPath = (
  steps: ReadonlyArray<StepInfo>,
  weight: (id: string) => number
): { path: Array<string>; ms: number } => {
  const best = new Map<string, { ms: number; prev: string | undefined }>()
  let end: string | undefined
  for (const { id, deps } of steps) {
    let prev: string | undefined
    let before = 0
    for (const d of deps) {
      const b = best.get(d)
      if (b !== undefined && (prev === undefined || b.ms > before)) {
        prev = d
        before = b.ms
      }
    }
    const ms = before + weight(id)
    best.set(id, { ms, prev })
    if (end === undefined || ms >= best.get(end)!.ms) end = id
  }
  const path: Array<string> = []
  for (let at = end; at !== undefined; at = best.get(at)!.prev) path.unshift(at)
  return { path, ms: end === undefined ? 0 : best.get(end)!.ms }
}

/** `1.2 s`, `340 ms`, `2 min 5 s`. */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

/** Sums of shares like 1/12 land a hair off whole numbers; six places are plenty for a count of calls. */
const round6 = (n: number): number => Math.round(n * 1e6) / 1e6
