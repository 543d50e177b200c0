import * as Graph from "effect/Graph"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { cycles, dependencyOrder, type IndexGraph } from "./dependencyOrder.ts"

/** Step i waits for each of `deps[i]`. */
const indexGraph = (deps: ReadonlyArray<ReadonlyArray<number>>): IndexGraph => {
  const start = new Int32Array(deps.length + 1)
  deps.forEach((ds, i) => (start[i + 1] = start[i]! + ds.length))
  return { start, deps: deps.flat() }
}

/** Small graphs with any edges: loops, self-loops, repeats. */
const graphs = fc.integer({ min: 1, max: 9 }).chain((n) => fc.array(fc.array(fc.nat(n - 1), { maxLength: 3 }), { minLength: n, maxLength: n }))

describe("dependencyOrder and cycles", () => {
  it("orders an acyclic graph so each step follows what it waits for, keeping declaration order where it can", () => {
    expect([...dependencyOrder(indexGraph([[1], [], [0]]))!]).toEqual([1, 0, 2])
    expect([...dependencyOrder(indexGraph([[], [0], [1]]))!]).toEqual([0, 1, 2])
  })

  it("finds each strongly connected component with a loop once, as a real cycle through its first step (effect/Graph as the reference)", () => {
    fc.assert(fc.property(graphs, (deps) => {
      const n = deps.length
      const ids = deps.map((_, i) => `s${i}`)
      const graph = indexGraph(deps)
      const reference = Graph.stronglyConnectedComponents(Graph.directed<number, void>((m) => {
        for (let i = 0; i < n; i++) Graph.addNode(m, i)
        deps.forEach((ds, i) => ds.forEach((d) => Graph.addEdge(m, d, i, undefined)))
      })).filter((c) => c.length > 1 || deps[c[0]!]!.includes(c[0]!)).map((c) => [...c].sort((x, y) => x - y))
      const found = cycles(graph, ids)
      expect(dependencyOrder(graph) === undefined).toBe(reference.length > 0)
      expect(found.map((c) => c.path[0])).toEqual(reference.map((c) => ids[c[0]!]).sort((x, y) => Number(x!.slice(1)) - Number(y!.slice(1))))
      for (const { path, others } of found) {
        expect(path[0]).toBe(path.at(-1))
        // Each arrow is an edge: the step after it waits for the one before.
        for (let k = 0; k + 1 < path.length; k++) expect(deps[Number(path[k + 1]!.slice(1))]).toContain(Number(path[k]!.slice(1)))
        const component = reference.find((c) => ids[c[0]!] === path[0])!
        expect(new Set([...path, ...others])).toEqual(new Set(component.map((i) => ids[i])))
      }
    }), { numRuns: 2000 })
  })

  it("stays fast on a 100,000-step loop with 10 edges a step: linear, no recursion", () => {
    const n = 100_000
    const deps = Array.from({ length: n }, (_, i) => Array.from({ length: Math.min(i, 10) }, (_, j) => i - 1 - j))
    deps[0] = [n - 1]
    const found = cycles(indexGraph(deps), deps.map((_, i) => `s${i}`))
    expect(found).toHaveLength(1)
    expect(found[0]!.path.length).toBeGreaterThan(n / 10)
  })
})
