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
  /** It failed, but it is optional: the run went on without it. */
  readonly optional?: true | undefined
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
  /** When each step became ready, first started and ended (run times): the critical path is read from them. */
  readonly #times = new Map<string, { ready: number; start: number; end: number }>()
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
        this.#timesOf(event.step).ready = event.time
        return
      case "step:start": {
        const line = this.#line(event.step)
        line.status = "running"
        line.attempts = event.attempt
        const times = this.#timesOf(event.step)
        if (Number.isNaN(times.start)) times.start = event.time
        return
      }
      case "step:end": {
        const line = this.#line(event.step)
        line.status = event.status
        line.durationMs = event.durationMs
        line.attempts = event.attempts
        line.error = event.error
        line.optional = event.optional
        const times = this.#timesOf(event.step)
        times.end = event.time
        // A cache answer has no `step:start`: it took its place in the run at its end.
        if (event.status === "cached" && Number.isNaN(times.start)) times.start = event.time
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
    const { path, ms } = actualCriticalPath(this.#infos, this.#times)
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

  #timesOf(id: string) {
    let times = this.#times.get(id)
    if (times === undefined) {
      times = { ready: NaN, start: NaN, end: NaN }
      this.#times.set(id, times)
    }
    return times
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

/**
 * Whether a summary's parallelism says anything: a run under a second, or
 * one where fewer than two steps ran, shows figures like "0.06×" that only
 * measure weft's own overhead.
 */
export const showsParallelism = (s: Summary): boolean =>
  s.durationMs >= 1000 && s.steps.filter((l) => l.attempts > 0 && l.status !== "cached").length >= 2

/**
 * The chain of steps that decided when the run ended, from what happened:
 * from the step that ended last, back through what let each step start. A
 * step that started when it became ready waited for its dependency that
 * ended last; one that started later waited for a slot or resources, which
 * the step that ended last before it gave back (else, a rate limit: the wait
 * is its own). Its length runs from the chain's first start to its last end,
 * waits included. Steps that never started (skipped) are not on it.
 */
export const actualCriticalPath = (
  steps: ReadonlyArray<StepInfo>,
  times: ReadonlyMap<string, { readonly ready: number; readonly start: number; readonly end: number }>
): { path: Array<string>; ms: number } => {
  const ran = steps.filter(({ id }) => {
    const t = times.get(id)
    return t !== undefined && !Number.isNaN(t.start) && !Number.isNaN(t.end)
  })
  if (ran.length === 0) return { path: [], ms: 0 }
  const at = (id: string) => times.get(id)!
  // By end time, for "the step that ended last by then".
  const byEnd = [...ran].sort((a, b) => at(a.id).end - at(b.id).end)
  const endedLastBy = (time: number, not: string): StepInfo | undefined => {
    let lo = 0
    let hi = byEnd.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (at(byEnd[mid]!.id).end <= time) lo = mid + 1
      else hi = mid
    }
    for (let k = lo - 1; k >= 0; k--) if (byEnd[k]!.id !== not) return byEnd[k]
    return undefined
  }
  const byId = new Map(ran.map((s) => [s.id, s]))
  const path: Array<StepInfo> = [byEnd[byEnd.length - 1]!]
  const seen = new Set([path[0]!.id])
  for (;;) {
    const step = path[path.length - 1]!
    const t = at(step.id)
    let dep: StepInfo | undefined
    for (const d of step.deps) {
      const info = byId.get(d)
      if (info !== undefined && (dep === undefined || at(d).end > at(dep.id).end)) dep = info
    }
    const depEnd = dep === undefined ? -Infinity : at(dep.id).end
    const waitedFrom = Number.isNaN(t.ready) ? depEnd : Math.max(t.ready, depEnd)
    let prev = dep
    if (t.start > waitedFrom) {
      const slot = endedLastBy(t.start, step.id)
      if (slot !== undefined && at(slot.id).end > depEnd) prev = slot
    }
    if (prev === undefined || seen.has(prev.id)) break
    seen.add(prev.id)
    path.push(prev)
  }
  // Walked from the end: unshifting instead made a 100,000-step chain O(n²).
  path.reverse()
  const first = at(path[0]!.id)
  return { path: path.map((s) => s.id), ms: at(path[path.length - 1]!.id).end - Math.min(first.start, Number.isNaN(first.ready) ? Infinity : first.ready) }
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
  for (let at = end; at !== undefined; at = best.get(at)!.prev) path.push(at)
  path.reverse()
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
