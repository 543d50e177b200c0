/**
 * Laying out steps listed in any order (a spec's): each after what it waits
 * for, in declaration order otherwise, in time linear in steps and edges; and,
 * when they wait for each other in a loop, each loop found once.
 *
 * The graph is given as arrays, not objects: step `i` waits for
 * `deps[start[i]] … deps[start[i + 1] - 1]` (indices of other steps). At
 * 100,000 steps a `Map` or an object per step was most of the cost.
 */
import * as Graph from "effect/Graph"

/** Steps by index, each waiting for others by index: `deps.slice(start[i], start[i + 1])`. */
export interface IndexGraph {
  readonly start: Int32Array
  readonly deps: ArrayLike<number>
}

const NEW = 0
const OPEN = 1
const DONE = 2

/**
 * The steps in an order where each comes after everything it waits for,
 * otherwise in declaration order (a listing that is already in order comes
 * back unchanged); `undefined` when some steps wait for each other in a loop.
 * A depth-first walk with explicit stacks, so a 100,000-step chain does not
 * overflow the call stack.
 */
export const dependencyOrder = ({ start, deps }: IndexGraph): Int32Array | undefined => {
  const n = start.length - 1
  const order = new Int32Array(n)
  const state = new Uint8Array(n)
  const cursor = new Int32Array(n)
  const stack = new Int32Array(n)
  let placed = 0
  for (let root = 0; root < n; root++) {
    if (state[root] !== NEW) continue
    let top = 0
    stack[0] = root
    state[root] = OPEN
    cursor[root] = start[root]!
    while (top >= 0) {
      const node = stack[top]!
      const at = cursor[node]!
      if (at < start[node + 1]!) {
        cursor[node] = at + 1
        const dep = deps[at]!
        if (state[dep] === OPEN) return undefined
        if (state[dep] === NEW) {
          state[dep] = OPEN
          cursor[dep] = start[dep]!
          stack[++top] = dep
        }
      } else {
        state[node] = DONE
        order[placed++] = node
        top--
      }
    }
  }
  return order
}

/**
 * Each loop once: one cycle per strongly connected component that has one
 * (two or more steps, or a step waiting for itself), as the ids along it,
 * starting and ending at the component's first-declared step, shortest
 * first; plus the component's other steps, which one cycle does not show.
 * Ordered by where each loop's first step is declared.
 */
export const cycles = (
  graph: IndexGraph,
  ids: ReadonlyArray<string>
): Array<{ readonly path: ReadonlyArray<string>; readonly others: ReadonlyArray<string> }> => {
  const n = graph.start.length - 1
  // Edges run from what is waited for to the step that waits, so a path reads
  // in the order the steps would run: `a → b` is "b waits for a".
  const g = Graph.directed<number, void>((m) => {
    for (let i = 0; i < n; i++) Graph.addNode(m, i)
    for (let i = 0; i < n; i++) {
      for (let at = graph.start[i]!; at < graph.start[i + 1]!; at++) Graph.addEdge(m, graph.deps[at]!, i, undefined)
    }
  })
  const waiters: Array<Array<number>> = Array.from({ length: n }, () => [])
  for (let i = 0; i < n; i++) {
    for (let at = graph.start[i]!; at < graph.start[i + 1]!; at++) waiters[graph.deps[at]!]!.push(i)
  }
  const found: Array<{ first: number; path: Array<string>; others: Array<string> }> = []
  const component = new Int32Array(n).fill(-1)
  Graph.stronglyConnectedComponents(g).forEach((members, c) => {
    const first = Math.min(...members)
    if (members.length === 1 && !waiters[first]!.includes(first)) return
    for (const m of members) component[m] = c
    const path = shortestCycle(first, waiters, (node) => component[node] === c)
    const onPath = new Set(path)
    const others = members.filter((m) => !onPath.has(m)).sort((x, y) => x - y)
    found.push({ first, path: path.map((i) => ids[i]!), others: others.map((i) => ids[i]!) })
  })
  return found.sort((x, y) => x.first - y.first).map(({ path, others }) => ({ path, others }))
}

/** The shortest way from `from` back to itself through steps `inside` allows (breadth-first), as indices. */
const shortestCycle = (from: number, waiters: ReadonlyArray<ReadonlyArray<number>>, inside: (node: number) => boolean): Array<number> => {
  const parent = new Map<number, number>()
  const queue = [from]
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!
    for (const next of waiters[node]!) {
      if (next === from) {
        const path = [from]
        for (let at = node; at !== from; at = parent.get(at)!) path.push(at)
        path.push(from)
        return [path[0]!, ...path.slice(1, -1).reverse(), from]
      }
      if (!inside(next) || parent.has(next)) continue
      parent.set(next, node)
      queue.push(next)
    }
  }
  return [from, from] // unreachable: `from` is in a loop
}
