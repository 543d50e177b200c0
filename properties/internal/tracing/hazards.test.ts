import { describe, expect, it } from "vitest"
import { emptyAccesses, type StepAccesses } from "./Accesses.ts"
import { hazards } from "./hazards.ts"

const step = (reads: Array<string>, writes: Array<string>): StepAccesses => {
  const a = emptyAccesses()
  reads.forEach((p) => a.reads.add(p))
  writes.forEach((p) => a.writes.add(p))
  return a
}

describe("hazards", () => {
  it("only between steps with no order, direct or transitive", () => {
    // a → b → c: a and c are ordered through b; d stands apart.
    const plan = { ids: ["a", "b", "c", "d"], deps: [[], [0], [1], []] }
    const accesses = new Map([["a", step([], ["f"])], ["c", step(["f"], ["f"])], ["d", step(["f"], [])]])
    expect(hazards(plan, accesses)).toMatchObject([
      { pair: ["a", "d"], access: "write/read", writer: "a", path: "f" },
      { pair: ["c", "d"], access: "write/read", writer: "c", path: "f" }
    ])
  })

  it("write/write before write/read, one per pair, the rest counted", () => {
    const plan = { ids: ["a", "b"], deps: [[], []] }
    const found = hazards(plan, new Map([["a", step(["r"], ["w2", "w1"])], ["b", step([], ["w1", "w2", "r"])]]))
    expect(found).toMatchObject([{ pair: ["a", "b"], access: "write/write", path: "w1" }])
    expect(found[0]!.message).toContain("(and 2 more paths)")
  })

  it("a reader declared above its writer is told to move below it: after names earlier steps only", () => {
    const plan = { ids: ["read", "write"], deps: [[], []] }
    const [found] = hazards(plan, new Map([["read", step(["f"], [])], ["write", step([], ["f"])]]))
    expect(found).toMatchObject({ pair: ["read", "write"], writer: "write" })
    expect(found!.fix).toContain(`move step "read" below "write" and add after: ["write"] to it`)
  })
})
