/**
 * Hazards: two steps with no order between them (neither waits for the
 * other, directly or through others) that touched one path, both writing it
 * (`write/write`) or one writing what the other read (`write/read`). Whatever
 * order one run happened to take, another run may take the other. Pure: the
 * plan's edges and one traced run's accesses.
 */
import type { Hazard } from "../../Finding.ts"
import { ancestorsOf } from "../blame.ts"
import type { Accesses, StepAccesses } from "./Accesses.ts"

export interface HazardPlan {
  readonly ids: ReadonlyArray<string>
  readonly deps: ReadonlyArray<ReadonlyArray<number>>
}

const sorted = (paths: Iterable<string>): Array<string> => [...paths].sort()

const shared = (a: ReadonlySet<string>, b: ReadonlySet<string>): Array<string> => sorted([...a].filter((p) => b.has(p)))

/** One finding per pair, in plan order: a write/write if they have one, else a write/read. */
export const hazards = (plan: HazardPlan, accesses: Accesses): Array<Hazard> => {
  const ancestors = ancestorsOf(plan.deps)
  const found: Array<Hazard> = []
  const touched = plan.ids.map((id, i) => [i, accesses.get(id)] as const).filter((e): e is readonly [number, StepAccesses] => e[1] !== undefined)
  for (const [x, ax] of touched) {
    for (const [y, ay] of touched) {
      if (y <= x || ancestors[y]!.has(x) || ancestors[x]!.has(y)) continue
      const both = shared(ax.writes, ay.writes)
      const yReads = shared(ax.writes, ay.reads)
      const xReads = shared(ay.writes, ax.reads)
      const all = new Set([...both, ...yReads, ...xReads]).size
      const [first, second] = [plan.ids[x]!, plan.ids[y]!]
      if (both.length > 0) found.push(writeWrite(first, second, both[0]!, all - 1))
      else if (yReads.length > 0) found.push(writeRead([first, second], first, second, yReads[0]!, all - 1))
      else if (xReads.length > 0) found.push(writeRead([first, second], second, first, xReads[0]!, all - 1))
    }
  }
  return found
}

const more = (count: number) => (count === 0 ? "" : ` (and ${count} more ${count === 1 ? "path" : "paths"})`)

const writeWrite = (first: string, second: string, path: string, others: number): Hazard => ({
  kind: "hazard",
  pair: [first, second],
  access: "write/write",
  path,
  message: `steps "${first}" and "${second}" both write ${path}${more(others)}, and there is no order between them: what it holds afterwards depends on which runs first or last`,
  fix: `add after: ["${first}"] to step "${second}", so that it always runs after "${first}".`
})

const writeRead = (pair: readonly [string, string], writer: string, reader: string, path: string, others: number): Hazard => ({
  kind: "hazard",
  pair,
  access: "write/read",
  writer,
  path,
  message: `step "${reader}" reads ${path}${more(others)}, which step "${writer}" writes, and there is no order between them: it reads the old or the new contents depending on which runs first`,
  // `after` names earlier steps only: a reader declared above its writer moves below it.
  fix: pair[0] === writer
    ? `add after: ["${writer}"] to step "${reader}" (or needs: if it uses its value), so that it reads what "${writer}" wrote.`
    : `move step "${reader}" below "${writer}" and add after: ["${writer}"] to it (or needs: if it uses its value), so that it reads what "${writer}" wrote.`
})
