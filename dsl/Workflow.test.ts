import * as Effect from "effect/Effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import { cmd, sh, type CommandOutput } from "./Command.ts"
import { workflow, type WorkflowOutputs } from "./Workflow.ts"

describe("workflow builder", () => {
  it("records each step's output type and passes needs typed", () => {
    const wf = workflow("release")
      .step("version", () => "1.2.3")
      .step("count", async () => 3)
      .step("eff", () => Effect.succeed(new Date(0)))
      .step("build", sh`npm run build`)
      .step("notes", { needs: ["version", "count"] }, ({ version, count }) => {
        expectTypeOf(version).toEqualTypeOf<string>()
        expectTypeOf(count).toEqualTypeOf<number>()
        return { text: `Release ${version}` }
      })
      .step("tweet", { needs: ["notes"], optional: true }, ({ notes }) => notes.text.length)
      .step("after", { needs: ["tweet", "eff", "build"] }, ({ tweet, eff, build }) => {
        expectTypeOf(tweet).toEqualTypeOf<number | undefined>()
        expectTypeOf(eff).toEqualTypeOf<Date>()
        expectTypeOf(build).toEqualTypeOf<CommandOutput>()
        return true
      })
    type O = WorkflowOutputs<typeof wf>
    expectTypeOf<O["notes"]>().toEqualTypeOf<{ text: string }>()
    expect(wf.steps.map((s) => s.id)).toEqual(["version", "count", "eff", "build", "notes", "tweet", "after"])
    expect(wf.steps[5]!.optional).toBe(true)
  })

  it("rejects at compile time a need that is not declared before, and a duplicate id", () => {
    const wf = workflow("w").step("a", () => 1)
    // @ts-expect-error "b" is not a step of the workflow yet
    wf.step("c", { needs: ["b"] }, () => 2)
    // @ts-expect-error "a" is already used
    wf.step("a", () => 2)
    expect(wf.steps).toHaveLength(1)
  })

  it("is immutable: branching from an older workflow does not change the newer one", () => {
    const base = workflow("w").step("a", () => 1)
    const left = base.step("b", () => 2)
    const right = base.step("c", () => 3)
    const leftMore = left.step("d", () => 4)
    expect(base.steps.map((s) => s.id)).toEqual(["a"])
    expect(left.steps.map((s) => s.id)).toEqual(["a", "b"])
    expect(right.steps.map((s) => s.id)).toEqual(["a", "c"])
    expect(leftMore.steps.map((s) => s.id)).toEqual(["a", "b", "d"])
  })

  it("fans out with each and gathers an array, typed, without casts", () => {
    const wf = workflow("prices")
      .step("currency", () => "USD")
      .each("price", ["AAPL", "MSFT"], { needs: ["currency"] }, (ticker) => ({ currency }) => ({ ticker, currency, price: 1 }))
      .each("pkg", [{ name: "core" }, { name: "cli" }], { key: (p) => p.name }, (p) => cmd(["echo", p.name]))
      .step("total", { needs: ["price", "pkg"] }, ({ price, pkg }) => {
        expectTypeOf(price).toEqualTypeOf<Array<{ ticker: string; currency: string; price: number }>>()
        expectTypeOf(pkg).toEqualTypeOf<Array<CommandOutput>>()
        return price.length
      })
    expect(wf.steps.map((s) => s.id)).toEqual(["currency", "price:AAPL", "price:MSFT", "price", "pkg:core", "pkg:cli", "pkg", "total"])
    expect(wf.steps[3]!.needs).toEqual(["price:AAPL", "price:MSFT"])
    expect(wf.steps[1]!.needs).toEqual(["currency"])
  })

  it("appends in O(1): 100,000 steps build quickly", () => {
    const t0 = performance.now()
    let wf = workflow("big") as ReturnType<typeof workflow> as any
    for (let i = 0; i < 100_000; i++) wf = wf.step(`s${i}`, () => i)
    expect(wf.steps).toHaveLength(100_000)
    // Quadratic copying would take minutes; linear takes well under a second.
    expect(performance.now() - t0).toBeLessThan(5_000)
  })
})
