import { describe, expect, it } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import { checkInvariants } from "./checkInvariants.ts"
import type { Event } from "./Event.ts"
import type { EndStatus } from "./StepStatus.ts"
import { makeRunView, UnknownStepError } from "./runView.ts"

/** A trace written as `+a` (a starts), `-a` (a ends succeeded), `-a:failed`, `!a` (a starts again: a retry). */
const trace = (...marks: ReadonlyArray<string>): Array<Event> => {
  const attempts = new Map<string, number>()
  const events: Array<Event> = [{ type: "run:start", time: 0, run: "r", workflow: "w", steps: [], concurrency: 4 }]
  for (const mark of marks) {
    const [id, status = "succeeded"] = mark.slice(1).split(":") as [string, EndStatus?]
    if (mark[0] === "+" || mark[0] === "!") {
      attempts.set(id, (attempts.get(id) ?? 0) + 1)
      events.push({ type: "step:start", time: 0, step: id, attempt: attempts.get(id)! })
    } else events.push({ type: "step:end", time: 0, step: id, status, durationMs: 0, attempts: attempts.get(id) ?? 0 })
  }
  events.push({ type: "run:end", time: 0, status: "succeeded", durationMs: 0 })
  return events
}

const ids = ["build", "test-unit", "test-e2e", "deploy"]
const viewOf = (events: Array<Event>, outputs?: Record<string, unknown>) => makeRunView({ ids, events, outputs })

describe("a run's view", () => {
  it("knows each step's status, attempts, value and order; a step that never ran is `not run`", () => {
    const { view } = viewOf(trace("+build", "-build", "+test-unit", "!test-unit", "-test-unit:failed"), { build: "dist" })
    expect(view.step("build")).toEqual({ id: "build", status: "succeeded", attempts: 1, value: "dist", start: 1, end: 2 })
    expect(view.step("test-unit")).toMatchObject({ status: "failed", attempts: 2, value: undefined })
    expect(view.step("deploy")).toEqual({ id: "deploy", status: "not run", attempts: 0, value: undefined, start: undefined, end: undefined })
    expect(view.status).toBe("succeeded")
    expect(view.ids("test-*")).toEqual(["test-unit", "test-e2e"])
    expect(view.ids(["deploy", "b*d"])).toEqual(["build", "deploy"])
  })

  it("succeededBefore: a later step that started before one named ended, or after it failed, breaks it and is blamed", () => {
    const good = viewOf(trace("+test-unit", "+test-e2e", "-test-unit", "-test-e2e", "+deploy", "-deploy"))
    expect(good.view.succeededBefore("test-*", "deploy")).toBe(true)
    const early = viewOf(trace("+test-unit", "-test-unit", "+test-e2e", "+deploy", "-test-e2e", "-deploy"))
    expect(early.view.succeededBefore("test-*", "deploy")).toBe(false)
    expect(early.blame()).toMatchObject({ steps: ["test-e2e", "deploy"], reason: `step "deploy" started before "test-e2e" ended` })
    expect(early.blame()!.fix).toContain(`add after: ["test-e2e"] to step "deploy"`)
    // endedBefore holds when the test failed first; succeededBefore does not.
    const failed = viewOf(trace("+test-unit", "-test-unit:failed", "+test-e2e", "-test-e2e", "+deploy", "-deploy"))
    expect(failed.view.endedBefore("test-*", "deploy")).toBe(true)
    expect(failed.view.succeededBefore("test-*", "deploy")).toBe(false)
    expect(failed.blame()!.reason).toBe(`step "deploy" started though "test-unit" ended failed`)
    // A step that never starts keeps every promise about what it waits for.
    expect(viewOf(trace("+test-unit", "-test-unit:failed")).view.succeededBefore("test-*", "deploy")).toBe(true)
  })

  it("startedBefore compares starts only", () => {
    expect(viewOf(trace("+build", "+deploy", "-build", "-deploy")).view.startedBefore("build", "deploy")).toBe(true)
    expect(viewOf(trace("+deploy", "+build", "-build", "-deploy")).view.startedBefore("build", "deploy")).toBe(false)
    expect(viewOf(trace("+deploy", "-deploy")).view.startedBefore("build", "deploy")).toBe(false)
  })

  it("exclusive and maxRunning: steps overlap from first start to end, retries included", () => {
    const apart = viewOf(trace("+build", "-build", "+deploy", "-deploy"))
    expect(apart.view.exclusive(["build", "deploy"])).toBe(true)
    expect(apart.view.maxRunning("*")).toBe(1)
    const together = viewOf(trace("+build", "+test-unit", "!build", "-test-unit", "+test-e2e", "-build", "-test-e2e"))
    expect(together.view.exclusive(["build", "test-*"])).toBe(false)
    expect(together.blame()).toMatchObject({ steps: ["build", "test-unit"], reason: `steps "build" and "test-unit" ran at the same time` })
    expect(together.view.maxRunning("*")).toBe(2)
    expect(together.view.exclusive("test-*")).toBe(true)
  })

  it("a name the workflow does not have is an UnknownStepError, never a quiet true", () => {
    const { view } = viewOf(trace())
    expect(() => view.step("deplyo")).toThrow(UnknownStepError)
    expect(() => view.exclusive(["build", "lint-*"])).toThrow(UnknownStepError)
  })
})

describe("checkInvariants", () => {
  const wf = (invariants: NonNullable<Parameters<typeof workflow>[1]>["invariants"]) =>
    ids.reduce((w, id) => w.step(id as never, () => id), workflow("ci", { invariants }) as ReturnType<typeof workflow>)
  const early = trace("+test-unit", "-test-unit", "+test-e2e", "+deploy", "-test-e2e", "-deploy")

  it("turns false, a sentence or a throw into a violation, and the helper's blame into its steps and fix", async () => {
    const { violations, problems } = await checkInvariants(wf({
      "holds": (run) => run.succeededBefore("test-unit", "deploy"),
      "returns false": (run) => run.succeededBefore("test-*", "deploy"),
      "says why": () => "the release notes are empty",
      "throws": () => {
        throw new Error("no notes")
      },
      "async": async (run) => run.exclusive(["test-e2e", "deploy"])
    }), { events: early })
    expect(problems).toEqual([])
    expect(violations).toEqual([
      { invariant: "returns false", steps: ["test-e2e", "deploy"], message: `invariant "returns false" broke: step "deploy" started before "test-e2e" ended`, fix: expect.stringContaining(`add after: ["test-e2e"]`) },
      { invariant: "says why", steps: [], message: `invariant "says why" broke: the release notes are empty`, fix: undefined },
      { invariant: "throws", steps: [], message: `invariant "throws" threw: no notes` },
      { invariant: "async", steps: ["test-e2e", "deploy"], message: `invariant "async" broke: steps "test-e2e" and "deploy" ran at the same time`, fix: expect.stringContaining("resource") }
    ])
  })

  it("reports a check that names a missing step, or answers with something else, as a definition problem", async () => {
    const { violations, problems } = await checkInvariants(wf({
      "typo": (run) => run.succeeded("deplyo"),
      "pattern": (run) => run.exclusive("lint-*"),
      "number": () => 5 as never
    }), { events: early })
    expect(violations).toEqual([])
    expect(problems.map((p) => p.message)).toEqual([
      `invariant "typo" names step "deplyo", which is not a step of this workflow. Did you mean "deploy"?`,
      `invariant "pattern" names "lint-*", which matches no step of this workflow`,
      `invariant "number" returned 5: a check returns true (or nothing) when the promise held, false or a sentence saying why not when it did not`
    ])
  })
})
