/**
 * How long the rest of a run should take. Not a sum of estimates: parallel
 * branches overlap, so the remaining schedule is simulated with the engine's
 * own rule (`Scheduler.ts`: among ready steps the one with the longest
 * weighted path to the end goes first, ties by declaration order, while slots
 * are free) and the same slot limit. Running steps hold their slots and end
 * after what is left of their estimate (never less than a small floor: a step
 * past its estimate is about to end, not ended); waiting steps take their
 * estimate. The ETA is when the last simulated step ends.
 *
 * A step with no estimate is simulated as instant and counted in `unknown`,
 * so the figure is then a lower bound, and says so (`formatEta`).
 *
 * @example
 * const graph = makeEtaGraph([[], [0], [0]], [10, 20, 30])
 * eta(graph, { ended: [false, false, false], running: [] }, 2).ms // => 40: 0, then 1 and 2 together
 */
import { longestPaths } from "../runtime/Plan.ts"
import { Heap } from "../runtime/internal/Heap.ts"
import { ReadyQueue } from "../runtime/Scheduler.ts"
import { short } from "./format.ts"

/** The steps' graph and estimates, fixed for a run: built once at `run:start`. */
export interface EtaGraph {
  readonly deps: ReadonlyArray<ReadonlyArray<number>>
  readonly dependents: ReadonlyArray<ReadonlyArray<number>>
  /** Each step's estimate (ms); NaN when unknown. */
  readonly estimateMs: Float64Array
  /** The engine's priority: longest path to the end, weighing each step by its estimate, else 1 (as `Plan.make` does). */
  readonly rank: Float64Array
}

/** Where the run is now. */
export interface EtaProgress {
  /** Which steps have ended, whatever their status. */
  readonly ended: ArrayLike<boolean>
  /** The running steps in the order they started, each with the time it has run. */
  readonly running: ReadonlyArray<{ readonly step: number; readonly elapsedMs: number }>
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

/** How far past its estimate a running step is still given (ms). */
export const defaultFloorMs = 100

/** The remaining schedule's length under `concurrency` slots. */
export const eta = (graph: EtaGraph, progress: EtaProgress, concurrency: number, floorMs = defaultFloorMs): Eta => {
  const n = graph.rank.length
  const { ended, running } = progress
  const known = (step: number) => !Number.isNaN(graph.estimateMs[step]!)
  const isRunning = new Uint8Array(n)
  for (const r of running) isRunning[r.step] = 1
  const waiting = new Int32Array(n)
  const ready = new ReadyQueue(graph.rank)
  let left = 0
  let unknown = 0
  for (let i = 0; i < n; i++) {
    if (ended[i]) continue
    left++
    if (!known(i)) unknown++
    if (isRunning[i] === 1) continue
    for (const d of graph.deps[i]!) if (!ended[d]) waiting[i]!++
    if (waiting[i] === 0) ready.push(i)
  }
  const timers = new TimerHeap()
  let now = 0
  // Steps already running were started in this order, so on a tie the engine
  // wakes them in it: their timers get the first sequence numbers.
  for (const { step, elapsedMs } of running) {
    const rest = known(step) ? Math.max(graph.estimateMs[step]! - elapsedMs, floorMs) : floorMs
    timers.push(rest, step)
  }
  let inFlight = running.length
  const dispatch = () => {
    while (inFlight < concurrency && ready.size > 0) {
      const step = ready.pop()!
      inFlight++
      timers.push(now + (known(step) ? graph.estimateMs[step]! : 0), step)
    }
  }
  dispatch()
  for (let timer = timers.pop(); timer !== undefined; timer = timers.pop()) {
    now = timer.time
    inFlight--
    for (const d of graph.dependents[timer.step]!) {
      if (!ended[d] && --waiting[d]! === 0) ready.push(d)
    }
    dispatch()
  }
  return { ms: now, left, unknown }
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

interface Timer {
  readonly time: number
  readonly seq: number
  readonly step: number
}

/** Timers by time, then by the order they were set: the order the engine's clock wakes sleepers. */
class TimerHeap {
  readonly #heap = new Heap<Timer>(earlier)
  #seq = 0

  push(time: number, step: number): void {
    this.#heap.push({ time, seq: this.#seq++, step })
  }

  pop(): Timer | undefined {
    return this.#heap.pop()
  }
}

const earlier = (a: Timer, b: Timer): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq)
