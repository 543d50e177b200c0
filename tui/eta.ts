/**
 * How long the rest of a run should take. Not a sum of estimates: parallel
 * branches overlap, so the remaining schedule is simulated with the engine's
 * own rules:
 *
 * - priority (`Scheduler.ts`): among ready steps the one with the longest
 *   weighted path to the end goes first, ties by declaration order, while
 *   slots are free;
 * - resources (`Resources.ts`): a step starts only if its whole demand fits,
 *   and the best blocked step reserves its demand. The simulation decides with
 *   the engine's own `ResourcePool`;
 * - rate limits (`RateLimiter.ts`): a step on a limiter starts only when the
 *   window has room, first come first served; meanwhile it gives its slot back
 *   (keeping its resources), and when its turn comes it takes the next free
 *   slot ahead of steps not yet started (`RunState`'s resume queue). The
 *   window is the engine's own `RateLimiter`, fed the simulated time,
 *   and it starts with the recent starts the run already made on it.
 *
 * Running steps hold their slots (and resources) and end after what is left
 * of their estimate, never less than a small floor. A step past its estimate
 * is not taken to be about to end: the longer it overruns, the longer it is
 * likely still to take (a step estimated at 1 s still running at 4.5 s showed
 * "~100ms" for over 3 s), so it is given {@link overrunShare} of its overrun;
 * steps parked on a rate limit wait for their
 * turn, in the order they began waiting; waiting steps take their estimate.
 * The ETA is when the last simulated step ends.
 *
 * A step with no estimate takes `fallbackMs` when one is given (a first run
 * with no history: the typical duration of the steps that ended so far, see
 * `Forecast`); else it is simulated as instant and counted in `unknown`, so
 * the figure is then a lower bound, and says so (`formatEta`). Retries are
 * not foreseen.
 *
 * @example
 * const graph = makeEtaGraph([[], [0], [0]], [10, 20, 30])
 * eta(graph, { ended: [false, false, false], running: [] }, 2).ms // => 40: 0, then 1 and 2 together
 */
import type { RateLimitInfo, StepInfo } from "../runtime/Event.ts"
import { longestPaths } from "../runtime/Plan.ts"
import { planResources, ResourcePool, type ResourcePlan } from "../runtime/Resources.ts"
import { ReadyQueue } from "../runtime/Scheduler.ts"
import { makeGates, roundingMs, TimerHeap } from "./etaGates.ts"
import { short } from "./format.ts"



/** The steps' graph and estimates, fixed for a run: built once at `run:start`. */
export interface EtaGraph {
  readonly deps: ReadonlyArray<ReadonlyArray<number>>
  readonly dependents: ReadonlyArray<ReadonlyArray<number>>
  /** Each step's estimate (ms); NaN when unknown. */
  readonly estimateMs: Float64Array
  /** The engine's priority: longest path to the end, weighing each step by its estimate, else 1 (as `Plan.make` does). */
  readonly rank: Float64Array
  /** The run's rate limits and resources, when it has any (`withLimits`). */
  readonly limits?: EtaLimits | undefined
}

/** What holds steps back besides slots, as `run:start` announces it. */
export interface EtaLimits {
  /** The rate limits, by index. */
  readonly rateLimits: ReadonlyArray<RateLimitInfo & { readonly name: string }>
  /** Each step's rate limit (an index of `rateLimits`), -1 for none. */
  readonly rateLimitOf: Int32Array
  /** The resources, laid out as the engine lays them out; `undefined` when there are none. */
  readonly resources: ResourcePlan | undefined
}

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

/** The graph of steps `0..n-1`: `deps[i]` are earlier steps, `estimates[i]` ms or undefined. */
export const makeEtaGraph = (deps: ReadonlyArray<ReadonlyArray<number>>, estimates: ReadonlyArray<number | undefined>): EtaGraph => {
  const n = deps.length
  const dependents: Array<Array<number>> = Array.from({ length: n }, () => [])
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]!.push(i)))
  const estimateMs = new Float64Array(n)
  const weight = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const ms = estimates[i]
    estimateMs[i] = ms === undefined || !(ms >= 0) ? NaN : ms
    weight[i] = ms === undefined || !(ms > 0) ? 1 : ms
  }
  return { deps, dependents, estimateMs, rank: longestPaths(dependents, weight) }
}

/** What `run:start` says of rate limits and resources: the workflow's, and each step's. */
export interface EtaLimitsInfo {
  readonly rateLimits?: Readonly<Record<string, RateLimitInfo>> | undefined
  readonly resources?: Readonly<Record<string, number>> | undefined
  /** In declaration order, as the graph's steps. */
  readonly steps: ReadonlyArray<Pick<StepInfo, "rateLimit" | "resources">>
}

/** `graph` under the run's rate limits and resources; `graph` itself when it has neither (the plain, faster simulation). */
export const withLimits = (graph: EtaGraph, info: EtaLimitsInfo): EtaGraph => {
  const names = Object.keys(info.rateLimits ?? {})
  // The engine's own layout: only `resources` of each step is read.
  const resources = planResources(info.steps, info.resources)
  if (names.length === 0 && resources === undefined) return graph
  const index = new Map(names.map((name, l) => [name, l]))
  const rateLimitOf = Int32Array.from(info.steps, (s) => (s.rateLimit === undefined ? -1 : index.get(s.rateLimit) ?? -1))
  const rateLimits = names.map((name) => ({ name, limit: info.rateLimits![name]!.limit, perMs: info.rateLimits![name]!.perMs }))
  return { ...graph, limits: { rateLimits, rateLimitOf, resources } }
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

/** The remaining schedule's length under `concurrency` slots; steps with no estimate take `fallbackMs` if given. */
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
  // 1: running (holds a slot), 2: parked on its rate limit (holds no slot).
  const held = new Uint8Array(n)
  for (const r of running) held[r.step] = 1
  const parked = limits === undefined ? [] : (progress.parked ?? []).filter((s) => !ended[s] && held[s] === 0)
  for (const s of parked) held[s] = 2
  const waiting = new Int32Array(n)
  const pool = limits?.resources === undefined ? undefined : new ResourcePool(limits.resources, graph.rank)
  if (pool !== undefined) {
    // What running and parked steps hold: together it fits, so the pool hands it all out.
    for (let i = 0; i < n; i++) if (held[i] !== 0) pool.push(i)
    pool.take(n)
    pool.drain()
  }
  const ready = pool ?? new ReadyQueue(graph.rank)
  let left = 0
  let unknown = 0
  for (let i = 0; i < n; i++) {
    if (ended[i]) continue
    left++
    if (!known(i)) unknown++
    if (held[i] !== 0) continue
    for (const d of graph.deps[i]!) if (!ended[d]) waiting[i]!++
    if (waiting[i] === 0) ready.push(i)
  }
  const timers = new TimerHeap()
  const sim = { now: 0 }
  // Steps already running were started in this order, so on a tie the engine
  // wakes them in it: their timers get the first sequence numbers.
  for (const { step, elapsedMs } of running) {
    const rest = known(step) ? restOf(estimateOf(step), elapsedMs, floorMs) : floorMs
    timers.push(rest, step)
  }
  let free = concurrency - running.length
  const startStep = (step: number) => timers.push(sim.now + (known(step) ? estimateOf(step) : 0), step)
  const gates = limits === undefined || limits.rateLimits.length === 0 ? undefined : makeGates(limits, progress.recentStarts, parked, sim, timers)
  if (gates === undefined) {
    // The plain rule: free slots go to the best ready steps.
    const dispatch = () => {
      if (pool !== undefined) {
        for (const step of pool.take(free)) {
          free--
          startStep(step)
        }
        return
      }
      while (free > 0 && ready.size > 0) {
        free--
        startStep((ready as ReadyQueue).pop()!)
      }
    }
    dispatch()
    for (let timer = timers.pop(); timer !== undefined; timer = timers.pop()) {
      sim.now = timer.time
      free++
      pool?.release(timer.step)
      for (const d of graph.dependents[timer.step]!) if (!ended[d] && --waiting[d]! === 0) ready.push(d)
      dispatch()
    }
    return { ms: sim.now, left, unknown }
  }
  const rateLimitOf = limits!.rateLimitOf
  // One turn of the machine and the executor: the slots handed back go to
  // the steps asking for them, first come first served, the rest to the best
  // ready steps; new starts on a limiter take their turn or queue; resumed
  // steps count their start, and their limiter's next waiter takes its turn.
  // Steps that queued give their slot back, which starts another turn.
  const settle = () => {
    for (;;) {
      const resumed = gates.resume(free)
      free -= resumed.length
      const starts = pool !== undefined ? pool.take(free) : takeBest(ready as ReadyQueue, free)
      free -= starts.length
      let released = 0
      for (const step of starts) {
        const l = rateLimitOf[step]!
        if (l === -1 || gates.startsNow(l)) startStep(step)
        else {
          gates.queue(l, step)
          released++
        }
      }
      for (const step of resumed) {
        gates.started(rateLimitOf[step]!)
        startStep(step)
      }
      free += released
      if (released === 0 && !(free > 0 && gates.asking())) return
    }
  }
  gates.begin()
  settle()
  for (let timer = timers.pop(); timer !== undefined; timer = timers.pop()) {
    sim.now = timer.time
    if (timer.step < 0) gates.wake(-timer.step - 1)
    else {
      free++
      pool?.release(timer.step)
      for (const d of graph.dependents[timer.step]!) if (!ended[d] && --waiting[d]! === 0) ready.push(d)
    }
    settle()
  }
  return { ms: sim.now, left, unknown }
}

const takeBest = (ready: ReadyQueue, free: number): Array<number> => {
  const chosen: Array<number> = []
  while (chosen.length < free && ready.size > 0) chosen.push(ready.pop()!)
  return chosen
}

/**
 * The header's ETA: `ETA ~12s` when every step left has an estimate, `ETA
 * ~12s+` when a few do not (the figure is a lower bound), nothing when most do
 * not or nothing is left: a number that is mostly guesswork would mislead.
 */
export const formatEta = (e: Eta): string | undefined => {
  if (e.left === 0 || e.unknown * 2 > e.left) return undefined
  return `ETA ~${short(e.ms)}${e.unknown > 0 ? "+" : ""}`
}
