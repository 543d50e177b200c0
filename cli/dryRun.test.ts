/**
 * `weft run --dry-run` uses the durations a real run uses (history's medians
 * where a step has no estimate), so its critical path is the one runs show,
 * and it honours the reporter: `--reporter json` is one JSON document.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import { repoRoot, removeTempDirs, tempDir, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"
import type { DryRun } from "./dryRun.ts"

afterAll(removeTempDirs)

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/**
 * `quick` says it takes 50 ms and does; `slow` says nothing and takes 600 ms.
 * By estimates alone the critical path runs through quick; once a run has
 * recorded slow's duration, through slow.
 */
const workflowIn = (dir: string): string => {
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}`,
    `const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))`,
    `export default workflow("paths")`,
    `  .step("quick", { estimate: 50 }, () => sleep(50))`,
    `  .step("slow", () => sleep(600))`,
    `  .step("join", { needs: ["quick", "slow"], estimate: 10 }, () => "joined")`,
    ""
  ].join("\n"))
  return dir
}

const dryJson = async (dir: string): Promise<DryRun> => {
  const r = await weft(["run", "--dry-run", "--reporter", "json"], { cwd: dir })
  if (r.code !== 0) throw new Error(shown(r))
  // One document, not lines of events or text.
  return JSON.parse(r.stdout) as DryRun
}

describe("weft run --dry-run", () => {
  it("follows history once a run has recorded it, as the real run's summary does; JSON with --reporter json", async ({ expect }) => {
    const dir = workflowIn(tempDir("weft-dry-run-"))
    const before = await dryJson(dir)
    expect(before.criticalPath.steps).toEqual(["quick", "join"])
    expect(before.steps.find((s) => s.id === "slow")).toMatchObject({ expectedMs: null, from: "unknown" })
    expect(before.steps.find((s) => s.id === "quick")).toMatchObject({ expectedMs: 50, from: "estimate" })
    expect(before.levels).toEqual([{ level: 0, steps: ["quick", "slow"], atOnce: 2 }, { level: 1, steps: ["join"], atOnce: 1 }])

    const real = await weft(["run", "--reporter", "plain"], { cwd: dir })
    expect(real.code, shown(real)).toBe(0)
    expect(real.stdout).toMatch(/critical path: slow → join/)

    const after = await dryJson(dir)
    expect(after.criticalPath.steps).toEqual(["slow", "join"])
    const slow = after.steps.find((s) => s.id === "slow")!
    expect(slow.from).toBe("history")
    expect(slow.expectedMs).toBeGreaterThanOrEqual(550)
    // join's own figure is its recorded duration now (history supersedes its estimate of 10 ms).
    const join = after.steps.find((s) => s.id === "join")!
    expect(join.from).toBe("history")
    // Each figure is rounded to a millisecond on its own.
    expect(Math.abs(after.criticalPath.ms - (slow.expectedMs! + join.expectedMs!))).toBeLessThanOrEqual(1)

    const text = await weft(["run", "--dry-run", "--reporter", "plain"], { cwd: dir })
    expect(text.code, shown(text)).toBe(0)
    expect(text.stdout).toMatch(/^  critical path: slow → join \(≈ .* by history\)$/m)
    expect(text.stdout).toMatch(/^  expected: quick \d+ ms \(history\), slow \d+ ms \(history\), join \d+ ms \(history\)$/m)
    expect(() => JSON.parse(text.stdout)).toThrow()
  })
})
