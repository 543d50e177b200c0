import { describe, expect, it } from "vitest"
import { isDefinitionError, type DefinitionError } from "./DefinitionError.ts"
import { fromSpec, type Spec } from "./Spec.ts"

const problemsOf = (spec: unknown): DefinitionError => {
  try {
    fromSpec(spec as Spec, { file: "ci.yaml" })
  } catch (error) {
    if (isDefinitionError(error)) return error
    throw error
  }
  throw new Error("expected a DefinitionError")
}

describe("fromSpec", () => {
  it("accepts steps in any order and lays them out so each follows what it waits for", () => {
    const wf = fromSpec({
      name: "ci",
      concurrency: 2,
      steps: [
        { id: "test", run: "npm test", needs: ["build"] },
        { id: "build", run: ["tsc", "-b"] },
        { id: "report", run: () => "ok", after: ["test"] }
      ]
    })
    expect(wf.steps.map((s) => s.id)).toEqual(["build", "test", "report"])
    expect(wf.options.concurrency).toBe(2)
    expect(wf.steps[0]!.run).toMatchObject({ argv: ["tsc", "-b"] })
    expect(wf.steps[1]!.run).toMatchObject({ argv: ["/bin/sh", "-c", "npm test"] })
  })

  it("rejects a cycle with its full path", () => {
    const error = problemsOf({
      name: "loop",
      steps: [{ id: "a", run: "true", needs: ["c"] }, { id: "b", run: "true", needs: ["a"] }, { id: "c", run: "true", needs: ["b"] }]
    })
    expect(error.message).toMatch(/cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/)
    expect(error.message).toContain("ci.yaml")
  })

  it("reports every problem at once: unknown keys, bad runners, unknown ids, duplicates", () => {
    const error = problemsOf({
      name: "ci",
      stepz: [],
      steps: [
        { id: "build", run: "make", neds: ["x"] },
        { id: "test", run: 42 },
        { id: "lint", run: "eslint", needs: ["biuld"] },
        { id: "lint", run: "eslint" }
      ]
    })
    const text = error.message
    expect(text).toContain(`unknown key "stepz". Did you mean "steps"?`)
    expect(text).toContain(`step "build": unknown key "neds". Did you mean "needs"?`)
    expect(text).toContain(`step "test": run must be`)
    expect(text).toContain(`step "lint": needs "biuld", which is not a step of this workflow. Did you mean "build"?`)
    expect(text).toContain(`the id "lint" is used twice`)
  })

  it("rejects what is not a spec", () => {
    expect(problemsOf(null).message).toContain("must be an object")
    expect(problemsOf({ name: "x" }).message).toContain("steps must be a list")
  })
})
