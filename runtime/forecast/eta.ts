/**
 * How long the rest of a run should take. Not a sum of estimates: parallel
 * branches overlap, so the remaining schedule is simulated with the engine's
 * own scheduler (`../Scheduler.ts`: priority, slots, resources with their
 * reservation, resumes before new starts) and the engine's own rate-limit
 * window (`RateWindow.ts`) on a simulated clock:
 *
 * - a step on a rate limit starts only when the window has room, first come
 *   first served; meanwhile it gives its slot back (keeping its resources),
 *   and when its turn comes it takes the next free slot ahead of steps not
 *   yet started. Each window starts with the recent starts the run already
 *   made on it (`internal/gates.ts`);
 * - running steps hold their slots (and resources) and end after what is
 *   left of their estimate, never less than a small floor. A step past its
 *   estimate is not taken to be about to end: the longer it overruns, the
 *   longer it is likely still to take (a step estimated at 1 s still running
 *   at 4.5 s showed "~100ms" for over 3 s), so it is given
 *   {@link overrunShare} of its overrun;
 * - steps parked on a rate limit wait for their turn, in the order they began
 *   waiting; waiting steps take their estimate.
 *
 * The ETA is when the last simulated step ends.
 *
 * A step with no estimate takes `fallbackMs` when one is given (a first run
 * with no history: the typical duration of the steps that ended so far, see
 * `Forecast`); else it is simulated as instant and counted in `unknown`, so
 * the figure is then a lower bound, and says so (`formatEta`). Retries are
 * not foreseen.
 */
import { makeScheduler } from "../Scheduler.ts"
import type { EtaGraph } from "./EtaGraph.ts"
import { makeGates, TimerHeap } from "./internal/gates.ts"

/** Where the run is now. */
export interface EtaProgress {
  /** Which steps have ended, whatever their status. */
  readonly ended: ArrayLike<boolean>
  /** The running steps (holding a slot) in the order they started, each with the time it has run. */
  readonly running: ReadonlyArray<{ readonly step: number; readonly elapsedMs: number }>
  /** Steps that gave their slot back to wait for their rate limit, in the order they began waiting. */
  readonly parked?: ReadonlyArray<number> | undefined
  /**
   * For each rate limit (by index), the times of its latest starts relative
   * to now (so at most 0), oldest first: they fill its window. Only the last
   * `limit` within `perMs` matter.
   */
  readonly recentStarts?: ReadonlyArray<ReadonlyArray<number>> | undefined
}

export interface Eta {
  /** Simulated time until the last step ends (unknown steps counted as instant). */
  readonly ms: number
  /** Steps not ended yet. */
  readonly left: number
  /** How many of those have no estimate. */
  readonly unknown: number
}

/** How far past its estimate a running step is still given (ms). */
export const defaultFloorMs = 100

/**
 * A step that has overrun its estimate by `t` is given `overrunShare × t` more.
 * Half: the time left then grows with the overrun, without the ETA doubling
 * the moment a step is a little late.
 */
export const overrunShare = 0.5

/** What is left of a running step's `estimateMs` after `elapsedMs`. */
const restOf = (estimateMs: number, elapsedMs: number, floorMs: number): number =>
  Math.max(estimateMs - elapsedMs, overrunShare * (elapsedMs - estimateMs), floorMs)

/**
 * The remaining schedule's length under `concurrency` slots; steps with no
 * estimate take `fallbackMs` if given.
 *
 * @example
 * const graph = makeEtaGraph([[], [0], [0]], [10, 20, 30])
 * eta(graph, { ended: [false, false, false], running: [] }, 2).ms // => 40: 0, then 1 and 2 together
 */
export const eta = (graph: EtaGraph, progress: EtaProgress, concurrency: number, floorMs = defaultFloorMs, fallbackMs?: number): Eta => {
  const n = graph.rank.length
  const { ended, running } = progress
  const limits = graph.limits
  const fallback = fallbackMs !== undefined && fallbackMs >= 0 ? fallbackMs : NaN
  const estimateOf = (step: number) => {
    const ms = graph.estimateMs[step]!
    return Number.isNaN(ms) ? fallback : ms
  }
  const known = (step: number) => !Number.isNaN(estimateOf(step))
  const scheduler = makeScheduler({ rank: graph.rank, slots: concurrency, resources: limits?.resources })
  // Running steps hold their slot and resources, parked ones their resources: together it fits, they hold it now.
  for (const { step } of running) if (!scheduler.holds(step)) scheduler.hold(step)
  const parked = limits === undefined ? [] : (progress.parked ?? []).filter((s) => !ended[s] && !scheduler.holds(s))
  for (const step of parked) scheduler.hold(step, true)
  const waiting = new Int32Array(n)
  let left = 0
  let unknown = 0
  for (let i = 0; i < n; i++) {
    if (ended[i]) continue
    left++
    if (!known(i)) unknown++
    if (scheduler.holds(i)) continue
    for (const d of graph.deps[i]!) if (!ended[d]) waiting[i]!++
    if (waiting[i] === 0) scheduler.ready(i)
  }
  const timers = new TimerHeap()
  const sim = { now: 0 }
  // Steps already running were started in this order, so on a tie the engine
  // wakes them in it: their timers get the first sequence numbers.
  for (const { step, elapsedMs } of running) {
    const rest = known(step) ? restOf(estimateOf(step), elapsedMs, floorMs) : floorMs
    timers.push(rest, step)
  }
  const startStep = (step: number) => timers.push(sim.now + (known(step) ? estimateOf(step) : 0), step)
  const gates = limits === undefined || limits.rateLimits.length === 0
    ? undefined
    : makeGates(limits, progress.recentStarts, parked, sim, timers, (step) => scheduler.unpark(step))
  const rateLimitOf = limits?.rateLimitOf
  // One turn of the machine and the executor: the scheduler hands the free
  // slots out; a new start on a limiter takes its turn or queues, giving its
  // slot back (which asks for another decision); resumed steps count their
  // start, and their limiter's next waiter takes its turn.
  const settle = () => {
    for (;;) {
      const { resumes, starts } = scheduler.take()
      if (resumes.length === 0 && starts.length === 0) return
      for (const step of starts) {
        const l = gates === undefined ? -1 : rateLimitOf![step]!
        if (l === -1 || gates!.startsNow(l)) startStep(step)
        else {
          scheduler.park(step)
          gates!.queue(l, step)
        }
      }
      for (const step of resumes) {
        // The step's own timer first: in the engine the resumed step runs on
        // to its body (and its sleep) before the limiter's next waiter gets
        // to compute its wait, so at an equal time the step's end comes first.
        startStep(step)
        gates!.started(rateLimitOf![step]!)
      }
    }
  }
  gates?.begin()
  settle()
  for (let timer = timers.pop(); timer !== undefined; timer = timers.pop()) {
    sim.now = timer.time
    if (timer.step < 0) gates!.wake(-timer.step - 1)
    else {
      scheduler.release(timer.step)
      for (const d of graph.dependents[timer.step]!) if (!ended[d] && --waiting[d]! === 0) scheduler.ready(d)
    }
    settle()
  }
  return { ms: sim.now, left, unknown }
}
