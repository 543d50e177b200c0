/** `weft verify`'s plain text: schedules in words, the replay command, and progress lines at their pace. */
import { describe, expect, it } from "vitest"
import { plainProgress } from "./verifyProgress.ts"
import { describeSchedule, renderFinding, replayCommand } from "./verifyReport.ts"

describe("a schedule in words", () => {
  it("says the concurrency, the steps put first and those held back", () => {
    const ids = ["a", "b", "c"]
    expect(describeSchedule({ concurrency: 3, priority: [], delays: [[0, 0], [0, 0], [0, 0]] }, ids)).toBe("concurrency 3 · ready steps in plan order · no step held back")
    expect(describeSchedule({ concurrency: 2, priority: [0, 2, 1], delays: [[1, 0], [0, 0], [0, 3]] }, ids))
      .toBe("concurrency 2 · first among ready steps: b, c · held back: a (1 turn before it starts); c (3 turns before its end)")
  })
})

it("the replay command keeps the steps and the options that change the search", () => {
  expect(replayCommand({ file: "ci.ts", only: ["test"], runs: 200 }, 42)).toBe("weft verify ci.ts test --seed 42 --runs 200")
  expect(replayCommand({ file: "ci.ts", only: [] }, 7)).toBe("weft verify ci.ts --seed 7")
})

it("shows the race check's view of a pair, and no such line for a step that changed on its own", () => {
  const plain = { concurrency: 2, priority: [], delays: [[0, 0], [0, 0]] as const }
  const base = { kind: "order-dependence" as const, seed: 1, schedules: [plain, plain] as const, message: "m", fix: "f" }
  const invocation = { file: "ci.ts", only: [] }
  expect(renderFinding({ ...base, step: "b", pair: ["b", "a"] }, ["a", "b"], invocation)).toContain("  declared: the race check sees no conflict")
  expect(renderFinding({ ...base, step: "b", pair: ["b", "a"], declared: "both write out.txt" }, ["a", "b"], invocation)).toContain("  declared: both write out.txt\n")
  expect(renderFinding({ ...base, step: "b" }, ["a", "b"], invocation)).not.toContain("declared:")
})

describe("plain progress", () => {
  it("writes a line every 10 schedules or 2 s, and at each finding", () => {
    const lines: Array<string> = []
    let now = 0
    const on = plainProgress((text) => lines.push(text), () => now)
    const p = (schedules: number) => ({ runs: schedules, schedules, schedulesTotal: 50, findings: 0, etaMs: 4000 })
    for (let i = 1; i <= 9; i++) on(p(i))
    expect(lines).toEqual([])
    on(p(10))
    expect(lines).toEqual(["verify: 10/50 schedules · 0 findings · ETA 4.0s\n"])
    now = 2500
    on(p(11))
    on({ ...p(12), findings: 1, finding: { kind: "fault", fault: "throw", promise: "finalizers run", message: "a finalizer did not run", fix: "…" } })
    expect(lines.slice(1)).toEqual(["verify: 11/50 schedules · 0 findings · ETA 4.0s\n", "verify: 12/50 schedules · 1 finding · ETA 4.0s · found: a finalizer did not run\n"])
  })
})
