import { describe, expect, it } from "vitest"
import * as Plan from "../runtime/Plan.ts"
import { DefinitionError } from "./DefinitionError.ts"
import { matchesStep, type Invariant } from "./Invariant.ts"
import { workflow, type WorkflowOptions } from "./Workflow.ts"

const named = (steps: ReadonlyArray<string>): Invariant => Object.assign(() => true, { steps })

const problemsOf = (invariants: unknown): Array<string> =>
  Plan.check(
    workflow("ci", { invariants } as WorkflowOptions)
      .step("test-unit", () => 1)
      .step("deploy", () => 2)
  ).map((p) => p.message)

describe("the invariants option", () => {
  it("takes named functions, and ones whose steps all exist", () => {
    expect(problemsOf({ a: () => true, b: named(["test-*", "deploy"]) })).toEqual([])
  })

  it("reports every wrong shape at once, with the form to write", () => {
    expect(problemsOf(5)).toEqual([
      `invariants must name each check, like invariants: { "deploy after tests": (run) => run.succeededBefore("test-*", "deploy") }, not 5`
    ])
    expect(problemsOf([() => true])[0]).toMatch(/^invariants must name each check/)
    expect(problemsOf({ a: true, b: "deploy after tests", c: Object.assign(() => true, { steps: "deploy" }) })).toEqual([
      `invariant "a" must be a function of the run, like (run) => run.exclusive(["migrate", "seed"]), not true`,
      `invariant "b" must be a function of the run, like (run) => run.exclusive(["migrate", "seed"]), not "deploy after tests"`,
      `invariant "c": its steps must be a list of step ids or patterns, like ["test-*", "deploy"], not "deploy"`
    ])
  })

  it("reports the steps an invariant names that the workflow lacks, with a did-you-mean, before anything runs", () => {
    expect(problemsOf({ "deploy after tests": named(["tests-*", "deplyo"]) })).toEqual([
      `invariant "deploy after tests" names "tests-*", which matches no step of this workflow`,
      `invariant "deploy after tests" names step "deplyo", which is not a step of this workflow. Did you mean "deploy"?`
    ])
    const wf = workflow("ci", { invariants: { x: named(["deplyo"]) } }).step("deploy", () => 1)
    expect(() => Plan.make(wf, { file: "ci.ts" })).toThrow(DefinitionError)
    expect(() => Plan.make(wf, { file: "ci.ts" })).toThrow(`ci.ts, workflow "ci" has a problem:\n  - invariant "x" names step "deplyo"`)
  })
})

describe("step patterns", () => {
  it("match an id exactly, or with * for any characters", () => {
    const cases: Array<[string, string, boolean]> = [
      ["deploy", "deploy", true],
      ["deploy", "deploy-2", false],
      ["test-*", "test-unit", true],
      ["test-*", "test-", true],
      ["test-*", "lint", false],
      ["*:e2e", "test:e2e", true],
      ["a*b*c", "abc", true],
      ["a*b*c", "a-c-b", false],
      ["a*a", "a", false],
      ["*", "anything", true]
    ]
    expect(cases.map(([pattern, id]) => [pattern, id, matchesStep(pattern, id)])).toEqual(cases)
  })
})
