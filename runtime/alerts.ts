/**
 * Alerts: `run:warning`s for a run that goes wrong slowly, which nobody
 * watching a CI log would notice until it times out:
 *
 * - a step running `stepOverrun` times (default 2×) longer than it should
 *   take: its median from history, else its `estimate` (the figure the ETA
 *   uses; a step with neither is never alerted on). History keeps only a
 *   step's last five durations, so a p90 would be their maximum: the factor
 *   over the median is the margin;
 * - the run going on `runOverrun` times (default 2×) longer than the ETA it
 *   started with, when every step has an expected duration;
 * - a memoized function that answered under `memoHitRate` of its calls (at
 *   least {@link memoMinCalls}), said at the end of the run. Off by default:
 *   a first run, or one after a cache clear, always misses.
 *
 * An overrun alert fires at the factor times the expected duration, and at
 * least {@link minOverrunMs} past it. Each alert is said once, while it matters: the step and run alerts on
 * the run's clock (virtual under `TestClock`), before the step or run ends.
 *
 * @example
 * workflow("nightly", { alerts: { stepOverrun: 3, runOverrun: false, memoHitRate: 0.5 } })
 */
import * as Effect from "effect/Effect"
import { eta, makeEtaGraph, withLimits } from "./forecast/index.ts"
import type { Feature, Stage } from "./Pipeline.ts"
import { rateLimiting } from "./rateLimiting.ts"
import type { Plan } from "./Plan.ts"
import { toMillis } from "../dsl/duration.ts"
import { formatDuration } from "./Summary.ts"

/**
 * An overrun alert waits at least this long (ms) past the expected duration:
 * a 50 ms step that took 120 ms is jitter, not news, in a CI log. A hung
 * short step is still reported, 5 s after it should have ended.
 */
export const minOverrunMs = 5_000

/** When the alert for something expected to take `expectedMs` fires. */
const alertAt = (expectedMs: number, factor: number): number => Math.max(expectedMs * factor, expectedMs + minOverrunMs)

/** Fewer calls than this say little about a memoized function's hit rate. */
export const memoMinCalls = 20

/** The words of an overrun alert. */
const overrun = (what: string, afterMs: number, expectedMs: number): string =>
  `${what} after ${formatDuration(afterMs)}, ${+(afterMs / expectedMs).toFixed(1)}× the ${formatDuration(expectedMs)} it should take`

/**
 * The stage that warns when a step's attempt runs `factor` times longer than
 * its expected duration (`estimateMs`, by step index; NaN when unknown); the
 * timer ends with the attempt. Each step warns once, whichever attempt.
 */
export const overrunAlert = (estimateMs: ArrayLike<number>, factor: number): Stage => (step, next) => {
  const expected = estimateMs[step.index]!
  if (!(expected > 0)) return next
  const after = alertAt(expected, factor)
  const warn = Effect.sync(() => {
    if (warned.has(step)) return
    warned.add(step)
    step.report({ type: "run:warning", message: overrun(`${step.id} is still running`, after, expected) })
  })
  return Effect.andThen(Effect.forkChild(Effect.andThen(Effect.sleep(after), warn)), next)
}

/** Steps already warned about: once per step, not per attempt. */
const warned = new WeakSet<object>()

/**
 * `stages` with the overrun alert just inside the rate limit stage: each
 * attempt is timed once it may start (a step queued 40 s for its rate limit
 * is not running long), and a cache hit, further out, never is. Without a
 * rate limit stage (a caller's own stages), outermost.
 */
export const withOverrunAlert = (stages: ReadonlyArray<Stage>, alert: Stage | undefined): ReadonlyArray<Stage> => {
  if (alert === undefined) return stages
  const at = stages.indexOf(rateLimiting)
  return at === -1 ? [alert, ...stages] : [...stages.slice(0, at + 1), alert, ...stages.slice(at + 1)]
}

/**
 * The overrun alerts as a feature: the step alert's stage (see
 * `withOverrunAlert` for where it goes) and the run alert, which lasts the run.
 */
export const overrunAlerts: Feature = {
  name: "overrunAlerts",
  inner: true,
  setup: ({ plan, options, warn }) => {
    const factor = options.alerts?.stepOverrun
    const late = options.alerts?.run
    return {
      stage: factor === undefined ? undefined : overrunAlert(plan.estimateMs, factor),
      background: late === undefined ? undefined : runOverrunAlert(late.expectedMs, late.factor, warn)
    }
  }
}

/** How long the whole run should take: the ETA at its start, when every step has an expected duration. */
export const expectedRunMs = (plan: Plan, concurrency: number): number | undefined => {
  const n = plan.ids.length
  const estimates: Array<number | undefined> = []
  for (let i = 0; i < n; i++) {
    const ms = plan.estimateMs[i]!
    if (Number.isNaN(ms)) return undefined
    estimates.push(ms)
  }
  const options = plan.workflow.options
  const graph = withLimits(makeEtaGraph(plan.deps, estimates), {
    rateLimits: options.rateLimits === undefined
      ? undefined
      : Object.fromEntries(Object.entries(options.rateLimits).map(([name, r]) => [name, { limit: r.limit, perMs: toMillis(r.per)! }])),
    resources: options.resources,
    steps: plan.steps
  })
  const ms = eta(graph, { ended: new Array<boolean>(n).fill(false), running: [] }, concurrency).ms
  return ms > 0 ? ms : undefined
}

/** The run alert, on the run's clock: it fires once, `factor` times `expectedMs` (see `alertAt`), unless the run ended first. */
export const runOverrunAlert = (expectedMs: number, factor: number, warn: (message: string) => void): Effect.Effect<void> => {
  const after = alertAt(expectedMs, factor)
  return Effect.andThen(Effect.sleep(after), Effect.sync(() => warn(overrun("the run is still going", after, expectedMs))))
}

/** Memoized calls of a run, by function: what the memo alert reads at the end. */
export class MemoRates {
  readonly #calls = new Map<string, { calls: number; answered: number }>()

  add(name: string, outcome: "hit" | "coalesced" | "miss"): void {
    let line = this.#calls.get(name)
    if (line === undefined) this.#calls.set(name, line = { calls: 0, answered: 0 })
    line.calls++
    if (outcome !== "miss") line.answered++
  }

  /** A warning for each function that answered under `rate` of at least `memoMinCalls` calls. */
  warnings(rate: number | undefined): Array<string> {
    if (rate === undefined) return []
    const out: Array<string> = []
    for (const [name, { calls, answered }] of this.#calls) {
      if (calls < memoMinCalls || answered / calls >= rate) continue
      out.push(`memo ${name} answered ${answered} of ${calls} calls (${Math.round((answered / calls) * 100)}%), under the ${Math.round(rate * 100)}% alert (alerts.memoHitRate): are its keys stable?`)
    }
    return out
  }
}
