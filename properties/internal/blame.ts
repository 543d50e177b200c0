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

/** A step and everything that waits for it, directly or transitively. */
export const descendantsOf = (dependents: ReadonlyArray<ReadonlyArray<number>>, step: number): Set<number> => {
  const seen = new Set<number>([step])
  const stack = [step]
  while (stack.length > 0) {
    for (const d of dependents[stack.pop()!] ?? []) {
      if (!seen.has(d)) {
        seen.add(d)
        stack.push(d)
      }
    }
  }
  return seen
}

type Relation = "before" | "after" | "overlap"

const relation = (x: Interval | undefined, y: Interval | undefined): Relation | undefined => {
  if (x === undefined || y === undefined || Number.isNaN(x.end) || Number.isNaN(y.end)) return undefined
  return x.end < y.start ? "before" : y.end < x.start ? "after" : "overlap"
}

export const blame = (
  plan: { readonly ids: ReadonlyArray<string>; readonly deps: ReadonlyArray<ReadonlyArray<number>> },
  a: Observation,
  b: Observation,
  ignored: ReadonlySet<number> = new Set()
): Blame | undefined => {
  const changed = plan.ids.findIndex((id, i) => !ignored.has(i) && a.outcomes.get(id) !== b.outcomes.get(id))
  if (changed === -1) return undefined
  const ancestors = ancestorsOf(plan.deps)
  const unordered = (x: number, y: number) => !ancestors[x]!.has(y) && !ancestors[y]!.has(x)
  const flipped = (x: number, y: number) => {
    const [ix, iy] = [plan.ids[x]!, plan.ids[y]!]
    const before = relation(a.intervals.get(ix), a.intervals.get(iy))
    const after = relation(b.intervals.get(ix), b.intervals.get(iy))
    return before !== undefined && after !== undefined && before !== after
  }
  // The changed step against every other step first: its own order is the
  // likeliest cause. Then pairs among what it waits for, nearest first: a
  // step reading what two unordered steps wrote is changed by their order.
  for (let other = 0; other < plan.ids.length; other++) {
    if (other !== changed && unordered(changed, other) && flipped(changed, other)) {
      return { step: changed, pair: [changed, other] }
    }
  }
  const upstream = [...ancestors[changed]!].sort((x, y) => y - x)
  for (const x of upstream) {
    for (const y of upstream) {
      if (y < x && unordered(x, y) && flipped(x, y)) return { step: changed, pair: [y, x] }
    }
  }
  return { step: changed }
}
