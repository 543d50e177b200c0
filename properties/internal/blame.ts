/**
 * Which step's result differs between two runs, and which pair of steps is
 * to blame: two steps with no order between them (neither waits for the
 * other, directly or through others) whose bodies ran in a different
 * relative order in the two runs. Pure: it sees only the plan's edges and
 * the two observations.
 */
import type { Interval } from "./delayingExecutor.ts"
import type { Observation } from "./observe.ts"

export interface Blame {
  /** The first step, in plan order, whose result differs (its index). */
  readonly step: number
  /** The unordered pair whose relative order flipped (indices); absent when none did (the difference came from elsewhere). */
  readonly pair?: readonly [number, number] | undefined
}

/** For each step, every step it waits for, directly or transitively (steps come after what they wait for). */
export const ancestorsOf = (deps: ReadonlyArray<ReadonlyArray<number>>): Array<Set<number>> => {
  const ancestors: Array<Set<number>> = []
  for (let i = 0; i < deps.length; i++) {
    const mine = new Set<number>()
    for (const d of deps[i]!) {
      mine.add(d)
      for (const a of ancestors[d] ?? []) mine.add(a)
    }
    ancestors.push(mine)
  }
  return ancestors
}

type Relation = "before" | "after" | "overlap"

const relation = (x: Interval | undefined, y: Interval | undefined): Relation | undefined => {
  if (x === undefined || y === undefined || Number.isNaN(x.end) || Number.isNaN(y.end)) return undefined
  return x.end < y.start ? "before" : y.end < x.start ? "after" : "overlap"
}

type PlanShape = { readonly ids: ReadonlyArray<string>; readonly deps: ReadonlyArray<ReadonlyArray<number>> }

const ancestorsCache = new WeakMap<PlanShape, Array<Set<number>>>()
const ancestorsOfPlan = (plan: PlanShape): Array<Set<number>> => {
  let ancestors = ancestorsCache.get(plan)
  if (ancestors === undefined) ancestorsCache.set(plan, (ancestors = ancestorsOf(plan.deps)))
  return ancestors
}

/**
 * Blames the first step whose result differs between the plain run `a` and
 * the run `b`, and the pair of unordered steps whose flipped order best
 * explains it. Many pairs flip between two runs (a different concurrency
 * reorders steps that have nothing to do with the difference), so each pair
 * that flipped in `b` is scored against every run seen so far (`history`):
 * how often "this pair's order differs from the plain run's" coincides with
 * "the step's result differs". The cause coincides every time; a bystander
 * flips in runs where nothing changed. Ties go to the changed step's own
 * pairs, then to pairs among what it waits for, nearest first.
 */
export const blame = (
  plan: PlanShape,
  a: Observation,
  b: Observation,
  ignored: ReadonlySet<number> = new Set(),
  history: ReadonlyArray<Observation> = [b]
): Blame | undefined => {
  const changed = plan.ids.findIndex((id, i) => !ignored.has(i) && a.outcomes.get(id) !== b.outcomes.get(id))
  if (changed === -1) return undefined
  const ancestors = ancestorsOfPlan(plan)
  const unordered = (x: number, y: number) => !ancestors[x]!.has(y) && !ancestors[y]!.has(x)
  const flippedIn = (run: Observation, x: number, y: number): boolean | undefined => {
    const [ix, iy] = [plan.ids[x]!, plan.ids[y]!]
    const before = relation(a.intervals.get(ix), a.intervals.get(iy))
    const after = relation(run.intervals.get(ix), run.intervals.get(iy))
    return before === undefined || after === undefined ? undefined : before !== after
  }
  const id = plan.ids[changed]!
  const score = (x: number, y: number): number => {
    let agree = 0
    for (const run of history) {
      const flipped = flippedIn(run, x, y)
      if (flipped !== undefined && flipped === (run.outcomes.get(id) !== a.outcomes.get(id))) agree++
    }
    return agree
  }
  const candidates: Array<readonly [number, number]> = []
  for (let other = 0; other < plan.ids.length; other++) {
    if (other !== changed && unordered(changed, other)) candidates.push([changed, other])
  }
  const upstream = [...ancestors[changed]!].sort((x, y) => y - x)
  for (const x of upstream) {
    for (const y of upstream) if (y < x && unordered(x, y)) candidates.push([y, x])
  }
  let best: readonly [number, number] | undefined
  let bestScore = -1
  for (const [x, y] of candidates) {
    if (flippedIn(b, x, y) !== true) continue
    const s = score(x, y)
    if (s > bestScore) [best, bestScore] = [[x, y], s]
  }
  return best === undefined ? { step: changed } : { step: changed, pair: best }
}
