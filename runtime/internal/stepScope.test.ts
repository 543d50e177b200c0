import { describe, expect, it } from "vitest"
import { currentMemoScope, defaultMemoScope, makeMemoScope, withMemoScope } from "../memo.ts"
import { currentSink, withLogSink, type LogSink } from "./consoleCapture.ts"
import { currentStepScope, withStepScope } from "./stepScope.ts"

const sinkOf = (): LogSink => Object.assign((_stream: string, _text: string) => {}, { safeCut: undefined })

describe("one store for a step's sink and memo scope", () => {
  it("entering a memo scope keeps the sink, and entering a sink keeps the memo scope, across an await", async () => {
    const sink = sinkOf()
    const scope = makeMemoScope()
    const seen = await withLogSink(sink, () =>
      withMemoScope(scope, async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return { sink: currentSink(), scope: currentMemoScope(), step: currentStepScope()?.memo?.step }
      }, { step: "fetch" }))
    // Identity, not likeness: two fresh memo scopes are deeply equal.
    expect(seen.sink).toBe(sink)
    expect(seen.scope).toBe(scope)
    expect(seen.step).toBe("fetch")
    const inner = sinkOf()
    const [innerSink, innerScope] = withMemoScope(scope, () => withLogSink(inner, () => [currentSink(), currentMemoScope()]))
    expect(innerSink).toBe(inner)
    expect(innerScope).toBe(scope)
  })

  it("a step's entry sets both at once, and leaving it restores what was before", () => {
    const outer = sinkOf()
    const sink = sinkOf()
    const scope = makeMemoScope()
    withLogSink(outer, () => {
      const [inSink, inScope] = withStepScope(sink, { scope, step: "a" }, () => [currentSink(), currentMemoScope()])
      expect(inSink).toBe(sink)
      expect(inScope).toBe(scope)
      expect(currentSink()).toBe(outer)
      expect(currentMemoScope()).toBe(defaultMemoScope)
    })
    expect(currentStepScope()).toBeUndefined()
  })
})
