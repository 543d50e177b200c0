import * as fs from "node:fs"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { useFolders } from "../test/fixtures/folders.ts"
import { workflow, type Workflow } from "../dsl/Workflow.ts"
import { memo } from "../runtime/memo.ts"
import { checkSchedule, invariants, schedules, verifyProperty } from "./index.ts"

const folder = useFolders("weft-property-test-")

// `writers` steps append to one log, then one reads it: with no order among
// the writers (`chained` false), two or more of them make the log depend on luck.
const logOf = (writers: number, chained: boolean): Workflow<any> => {
  let wf: Workflow<any> = workflow("log")
  for (let i = 0; i < writers; i++) {
    wf = wf.step(`w${i}` as never, { after: chained && i > 0 ? [`w${i - 1}`] : [] } as never, () => fs.appendFileSync("log.txt", `${i}`))
  }
  return wf.step("read" as never, { after: Array.from({ length: writers }, (_, i) => `w${i}`) } as never, () => fs.readFileSync("log.txt", "utf8"))
}

describe("verifyProperty", () => {
  it("finds a planted order dependence among workflows built from drawn inputs, and shrinks the input to the smallest that has it", async () => {
    const cwd = folder()
    const details = await fc.check(verifyProperty(fc.integer({ min: 1, max: 4 }), (n) => logOf(n, false), { cwd }), { numRuns: 30, seed: 3 })
    expect(details.failed).toBe(true)
    const [writers, schedule] = details.counterexample!
    expect(writers).toBe(2)
    // Shrunk too: two slots at most, no delays (the pair just starts together).
    expect(schedule.concurrency).toBeLessThanOrEqual(2)
    expect(schedule.delays.flat().every((turns) => turns === 0)).toBe(true)
    expect(String((details.errorInstance as Error).message)).toContain(`"w0" and "w1", which have no order between them`)
  })

  it("passes the fixed twin", async () => {
    const cwd = folder()
    const details = await fc.check(verifyProperty(fc.integer({ min: 1, max: 4 }), (n) => logOf(n, true), { cwd }), { numRuns: 15, seed: 5 })
    expect(details.failed).toBe(false)
  })
})

describe("schedules and checkSchedule", () => {
  const release = workflow("release", { concurrency: 1, invariants: { "deploy after tests": invariants.before("test", "deploy") } })
    .step("test", () => "ok")
    .step("deploy", () => "deployed")

  it("draws schedules sized to the workflow, within its concurrency", () => {
    const drawn = fc.sample(schedules(release), 20)
    expect(drawn.every((s) => s.concurrency === 1 && s.priority.length === 2 && s.delays.length === 2)).toBe(true)
    expect(new Set(fc.sample(schedules(logOf(3, false)), 50).map((s) => s.concurrency))).toEqual(new Set([1, 2, 3, 4]))
  })

  it("says what one schedule shows: nothing for declaration order, the broken invariant when deploy goes first", async () => {
    const cwd = folder()
    expect(await checkSchedule(release, { concurrency: 1, priority: [0, 0], delays: [[0, 0], [0, 0]] }, { cwd })).toEqual([])
    const deployFirst = { concurrency: 1, priority: [0, 1], delays: [[0, 0], [0, 0]] as const }
    expect(await checkSchedule(release, deployFirst, { cwd })).toEqual([{
      kind: "invariant",
      invariant: "deploy after tests",
      steps: ["test", "deploy"],
      seed: undefined,
      schedule: deployFirst,
      message: `invariant "deploy after tests" broke: step "deploy" started before "test" started (under the schedule checked)`,
      fix: expect.stringContaining(`add after: ["test"] to step "deploy"`)
    }])
  })

  it("names a memoized call's key as the fix, as verify does, when the order flipped which call answered", async () => {
    const price = memo("price", async (symbol: string, currency: string) => (currency === "usd" ? 1 : 0.9) * symbol.length, { key: (symbol) => symbol })
    const wf = workflow("prices").step("usd", () => price("ACME", "usd")).step("eur", () => price("ACME", "eur"))
    const [finding] = await checkSchedule(wf, { concurrency: 1, priority: [0, 1], delays: [[0, 0], [0, 0]] }, { cwd: folder() })
    expect(finding).toMatchObject({ kind: "order-dependence", step: "usd", pair: ["usd", "eur"] })
    expect(finding!.fix).toContain(`memo "price"`)
  })

  it("works as a plain fast-check property over one workflow's schedules", async () => {
    const cwd = folder()
    const details = await fc.check(fc.asyncProperty(schedules(release), async (s) => (await checkSchedule(release, s, { cwd })).length === 0), { numRuns: 30, seed: 3 })
    expect(details.failed).toBe(true)
    expect(details.counterexample![0].priority).toEqual([0, 1])
  })
})
