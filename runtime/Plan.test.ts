import { describe, expect, it } from "vitest"
import { makeStepDef } from "../dsl/Step.ts"
import { Workflow, workflow } from "../dsl/Workflow.ts"
import * as Plan from "./Plan.ts"
import { criticalPath } from "./Summary.ts"
import { messageOf } from "../test/fixtures/definitionError.ts"

const untyped = (name: string, options: object, steps: Array<[string, object, unknown]>) =>
  Workflow.make(name, options, steps.map(([id, opts, run]) => makeStepDef(id, opts, run as never)))


describe("Plan", () => {
  it("offers the first declared of equally close ids: for `only`, for a reference, and names a twin's first step", () => {
    const wf = untyped("ties", {}, [["bold", {}, () => 1], ["build", {}, () => 1], ["lint", { after: ["buld"] }, () => 1], ["bold", {}, () => 1]])
    expect(messageOf(() => Plan.make(wf))).toContain(`after "buld", which is not a step of this workflow. Did you mean "bold"?`)
    expect(messageOf(() => Plan.make(wf))).toContain(`the id "bold" is used twice (steps 1 and 4)`)
    const fine = untyped("ties", {}, [["bold", {}, () => 1], ["build", {}, () => 1], ["lint", { after: ["build"] }, () => 1]])
    expect(messageOf(() => Plan.make(fine, { only: ["buld"] }))).toContain(`there is no step "buld" to run. Did you mean "bold"?`)
  })

  it("reports wrong types from untyped code as problems, not crashes: needs [5], after {}, optional and failFast not booleans", () => {
    const wf = untyped("loose", { failFast: "no" }, [
      ["a", {}, () => 1],
      ["b", { needs: [5, "a"], after: {}, optional: "yes" }, () => 2]
    ])
    const error = (() => {
      try {
        Plan.make(wf)
      } catch (e) {
        return e
      }
    })()
    expect(error).toMatchObject({ _tag: "DefinitionError" })
    const text = (error as Error).message
    expect(text).toContain(`failFast must be true or false, not "no"`)
    expect(text).toContain(`step "b": needs lists 5, which is not a step id: write ids as strings, like needs: ["build"]`)
    expect(text).toContain(`step "b": after must be a list of step ids, like after: ["build"], not {}`)
    expect(text).toContain(`step "b": optional must be true or false, not "yes"`)
  })

  it("refuses cache.outputs inside .weft/, which a hit never restores into (every run would miss)", () => {
    const wf = untyped("own", {}, [
      ["a", { cache: { outputs: [".weft/x.txt"] } }, () => 1],
      ["b", { cache: { outputs: ["./sub/.weft/**"] } }, () => 2],
      ["c", { cache: { outputs: ["dist/.weftish/**", "out/**"] } }, () => 3]
    ])
    const text = messageOf(() => Plan.make(wf))
    expect(text).toContain(`step "a": cache.outputs ".weft/x.txt" is inside .weft/`)
    expect(text).toContain(`step "b": cache.outputs "./sub/.weft/**" is inside .weft/`)
    expect(text).not.toContain(`step "c"`)
  })

  it("reports every definition problem at once, naming the file and each step", () => {
    const wf = untyped("release", { concurrency: 0, parallel: true }, [
      ["version", {}, () => 1],
      ["version", {}, () => 2],
      ["notes", { needs: ["verison"], timeout: -5 }, () => 3],
      ["early", { after: ["late"] }, () => 4],
      ["late", { retry: -1, estimate: "soon" }, () => 5],
      ["bad", { neeeds: ["x"] }, 42],
      ["self", { needs: ["self"] }, () => 6]
    ])
    const text = messageOf(() => Plan.make(wf, { file: "release.ts", only: ["publsh"] }))
    expect(text).toMatch(/^release\.ts, workflow "release" has 12 problems:/)
    expect(text).toContain(`unknown workflow option "parallel"`)
    expect(text).toContain("concurrency must be a whole number of at least 1, not 0")
    expect(text).toContain(`step "version": the id "version" is used twice (steps 1 and 2)`)
    expect(text).toContain(`step "notes": needs "verison", which is not a step of this workflow. Did you mean "version"?`)
    expect(text).toContain(`step "notes": timeout must be positive, not -5`)
    expect(text).toContain(`step "early": after "late", which is declared after it: declare "late" first`)
    expect(text).toContain(`step "late": retry times must be a whole number`)
    expect(text).toContain(`step "late": estimate "soon" is not a duration`)
    expect(text).toContain(`step "bad": unknown option "neeeds". Did you mean "needs"?`)
    expect(text).toContain(`step "bad": its runner must be a function, a command`)
    expect(text).toContain(`step "self": needs names the step itself`)
    expect(text).toContain(`step "publsh": there is no step "publsh" to run.`)
  })

  it("ranks steps by the longest remaining path, with estimates", () => {
    const wf = workflow("w")
      .step("a", { estimate: 10 }, () => 1)
      .step("b", { estimate: "1 second" }, () => 1)
      .step("c", { after: ["a"], estimate: 5 }, () => 1)
      .step("d", { after: ["c", "b"] }, () => 1)
    const plan = Plan.make(wf)
    expect(Array.from(plan.rank)).toEqual([16, 1001, 6, 1])
    expect(criticalPath(Plan.stepInfos(plan), (id) => plan.weight[plan.indexOf.get(id)!]!).path).toEqual(["b", "d"])
    expect(Plan.levels(plan)).toEqual([0, 0, 1, 2])
  })

  it("selects named steps and what they depend on", () => {
    const wf = workflow("w").step("a", () => 1).step("b", () => 1).step("c", { needs: ["a"] }, () => 1).step("d", () => 1)
    expect(Plan.make(wf, { only: ["c"] }).ids).toEqual(["a", "c"])
  })

  it("lists each step's deps once, needs first, and counts the needs among them", () => {
    const wf = untyped("w", {}, [
      ["a", {}, () => 1],
      ["b", {}, () => 1],
      ["c", { needs: ["b", "a", "b"], after: ["a"] }, () => 1],
      ["d", { after: ["c", "a"] }, () => 1]
    ])
    const plan = Plan.make(wf)
    expect(plan.deps).toEqual([[], [], [1, 0], [2, 0]])
    expect(Array.from(plan.inputCount)).toEqual([0, 0, 2, 0])
    expect(plan.dependents).toEqual([[2, 3], [2], [3], []])
    const only = Plan.make(wf, { only: ["c"] })
    expect(only.ids).toEqual(["a", "b", "c"])
    expect(only.deps).toEqual([[], [], [1, 0]])
    expect(only.dependents).toEqual([[2], [2], []])
  })

  it("checks sub-workflows too", () => {
    const inner = untyped("inner", {}, [["x", { needs: ["y"] }, () => 1]])
    const outer = workflow("outer").step("sub", inner)
    expect(messageOf(() => Plan.make(outer))).toContain(`step "sub": in sub-workflow "inner": step "x": needs "y"`)
  })
})

describe("Plan: estimates", () => {
  it("history supersedes a step's estimate once it has durations: a step estimated at 1 s that ran 4.5 s is expected to take 4.5 s", () => {
    const wf = workflow("w").step("slow", { estimate: "1 second" }, () => 1).step("fresh", { estimate: 200 }, () => 2).step("plain", () => 3)
    const plan = Plan.make(wf, { durations: new Map([["slow", 4500], ["plain", 30]]) })
    expect(Array.from(plan.estimateMs)).toEqual([4500, 200, 30])
    expect(Array.from(Plan.make(wf).estimateMs).slice(0, 2)).toEqual([1000, 200])
  })
})
