/**
 * Laying out steps listed in any order (a spec's): each after what it waits
 * for, in declaration order otherwise, in time linear in steps and edges; and,
 * when they wait for each other in a loop, each loop found once.
 *
 * The graph is given as arrays, not objects: step `i` waits for
 * `deps[start[i]] … deps[start[i + 1] - 1]` (indices of other steps). At
 * 100,000 steps a `Map` or an object per step was most of the cost.
 */

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
 *
 * Tarjan's algorithm on the index arrays, not `effect/Graph`'s
 * `stronglyConnectedComponents`: building an effect graph of a 100,000-step
 * spec with 10 edges a step took 1.5 s of the 2.4 s this error then cost;
 * on the arrays it is tens of milliseconds.
 */
export const cycles = (
  graph: IndexGraph,
  ids: ReadonlyArray<string>
): Array<{ readonly path: ReadonlyArray<string>; readonly others: ReadonlyArray<string> }> => {
  const { start, deps } = graph
  const n = start.length - 1
  const component = components(graph)
  // Edges from what is waited for to the step that waits, so a path reads in
  // the order the steps would run: `a → b` is "b waits for a".
  const waiterStart = new Int32Array(n + 1)
  for (let at = 0; at < deps.length; at++) waiterStart[deps[at]! + 1]!++
  for (let i = 0; i < n; i++) waiterStart[i + 1]! += waiterStart[i]!
  const waiters = new Int32Array(deps.length)
  const filled = waiterStart.slice(0, n)
  for (let i = 0; i < n; i++) {
    for (let at = start[i]!; at < start[i + 1]!; at++) waiters[filled[deps[at]!]!++] = i
  }
  const members = new Map<number, Array<number>>()
  for (let i = 0; i < n; i++) {
    const c = component[i]!
    const list = members.get(c)
    if (list === undefined) members.set(c, [i])
    else list.push(i)
  }
  const parent = new Int32Array(n)
  const found: Array<{ readonly path: ReadonlyArray<string>; readonly others: ReadonlyArray<string> }> = []
  // Components by their first-declared step: `members` lists each in declaration order.
  const firsts = [...members.values()].sort((x, y) => x[0]! - y[0]!)
  for (const list of firsts) {
    const first = list[0]!
    if (list.length === 1 && !selfLoop(graph, first)) continue
    const path = shortestCycle(first, waiterStart, waiters, component, parent)
    const onPath = new Set(path)
    found.push({ path: path.map((i) => ids[i]!), others: list.filter((m) => !onPath.has(m)).map((i) => ids[i]!) })
  }
  return found
}

const selfLoop = ({ start, deps }: IndexGraph, i: number): boolean => {
  for (let at = start[i]!; at < start[i + 1]!; at++) if (deps[at] === i) return true
  return false
}

/** Each step's strongly connected component (Tarjan's algorithm, with explicit stacks for long chains). */
const components = ({ start, deps }: IndexGraph): Int32Array => {
  const n = start.length - 1
  const index = new Int32Array(n).fill(-1)
  const low = new Int32Array(n)
  const component = new Int32Array(n)
  const onStack = new Uint8Array(n)
  const stack = new Int32Array(n)
  const calls = new Int32Array(n)
  const cursor = new Int32Array(n)
  let counter = 0
  let sp = 0
  let found = 0
  const enter = (v: number, cp: number) => {
    index[v] = low[v] = counter++
    stack[sp++] = v
    onStack[v] = 1
    calls[cp] = v
    cursor[v] = start[v]!
  }
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue
    let cp = 0
    enter(root, cp++)
    while (cp > 0) {
      const v = calls[cp - 1]!
      if (cursor[v]! < start[v + 1]!) {
        const w = deps[cursor[v]!++]!
        if (index[w] === -1) enter(w, cp++)
        else if (onStack[w] === 1 && index[w]! < low[v]!) low[v] = index[w]!
        continue
      }
      cp--
      if (cp > 0) {
        const u = calls[cp - 1]!
        if (low[v]! < low[u]!) low[u] = low[v]!
      }
      if (low[v] === index[v]) {
        let w: number
        do {
          w = stack[--sp]!
          onStack[w] = 0
          component[w] = found
        } while (w !== v)
        found++
      }
    }
  }
  return component
}

/**
 * The shortest way from `from` back to itself inside its component
 * (breadth-first over the waiters), as indices. `parent` is scratch space,
 * reset here for the nodes it visits only.
 */
const shortestCycle = (
  from: number,
  waiterStart: Int32Array,
  waiters: Int32Array,
  component: Int32Array,
  parent: Int32Array
): Array<number> => {
  const inside = component[from]!
  const queue = [from]
  const visited: Array<number> = []
  try {
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!
      for (let at = waiterStart[node]!; at < waiterStart[node + 1]!; at++) {
        const next = waiters[at]!
        if (next === from) {
          const back: Array<number> = []
          for (let k = node; k !== from; k = parent[k]! - 1) back.push(k)
          return [from, ...back.reverse(), from]
        }
        if (component[next] !== inside || parent[next] !== 0) continue
        parent[next] = node + 1 // 0 means not reached
        visited.push(next)
        queue.push(next)
      }
    }
    return [from, from] // unreachable: `from` is in a loop
  } finally {
    for (const v of visited) parent[v] = 0
  }
}
