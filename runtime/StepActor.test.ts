import { describe, expect, it } from "vitest"
import { BatchSteps } from "./StepActor.ts"

describe("BatchSteps", () => {
  it("holds the steps added in the current batch only: a new batch starts empty, and what an earlier batch added is not there to delete", () => {
    const open = new BatchSteps(4)
    open.begin()
    open.add(1)
    open.add(1)
    open.add(2)
    expect(open.size).toBe(2)
    open.delete(1)
    open.delete(1)
    expect(open.size).toBe(1)
    open.begin()
    expect(open.size).toBe(0)
    // Step 2 was added in the last batch, and never deleted.
    open.delete(2)
    expect(open.size).toBe(0)
    open.add(1)
    open.delete(1)
    open.add(1)
    expect(open.size).toBe(1)
  })
})
