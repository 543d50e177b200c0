import { describe, expect, it } from "vitest"
import { planPrune, type PruneEntry } from "./prune.ts"

const entry = (key: string, lastUsedAt: number, blobs: ReadonlyArray<string> = [], expiresAt?: number): PruneEntry => ({
  key,
  bytes: 100,
  lastUsedAt,
  createdAt: 0,
  expiresAt,
  blobs
})

describe("planPrune", () => {
  it("removes nothing from a store under its limit", () => {
    expect(planPrune({ entries: [entry("a", 1)], blobs: [], now: 10, maxBytes: 100 })).toEqual({ entries: [], blobs: [], freedBytes: 0 })
  })

  it("removes expired entries even without a size limit", () => {
    expect(planPrune({ entries: [entry("a", 1, [], 5), entry("b", 1, [], 50)], blobs: [], now: 10 }).entries).toEqual(["a"])
  })

  it("counts a shared blob once and frees it with its last entry", () => {
    const plan = planPrune({
      entries: [entry("a", 1, ["x"]), entry("b", 2, ["x"]), entry("c", 3)],
      blobs: [{ digest: "x", bytes: 1000, removable: true }],
      now: 10,
      maxBytes: 150
    })
    expect(plan).toEqual({ entries: ["a", "b"], blobs: ["x"], freedBytes: 1200 })
  })

  it("keeps a young blob even when nothing refers to it, and counts it against the limit", () => {
    const plan = planPrune({
      entries: [entry("a", 1), entry("b", 2)],
      blobs: [{ digest: "young", bytes: 50, removable: false }, { digest: "old", bytes: 50, removable: true }],
      now: 10,
      maxBytes: 150
    })
    expect(plan).toEqual({ entries: ["a"], blobs: ["old"], freedBytes: 150 })
  })

  it("breaks ties in last use by age, then key", () => {
    const entries = [{ ...entry("b", 1), createdAt: 1 }, { ...entry("c", 1), createdAt: 0 }, { ...entry("a", 1), createdAt: 1 }]
    expect(planPrune({ entries, blobs: [], now: 0, maxBytes: 0 }).entries).toEqual(["c", "a", "b"])
  })
})
