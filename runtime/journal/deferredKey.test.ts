/**
 * The run journal keys every step, and a function step's key covers its
 * source digest, which on a first run takes a parse of the workflow module.
 * A step with nothing to compare against does not wait for that parse to
 * start: its key is finished when it is recorded, and is the key a resume
 * computes (the step is replayed, not run again).
 */
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { dslIndex, folder, removeFolders, write } from "../../test/fixtures/watch/harness.ts"
import { loadWorkflow } from "../loadWorkflow.ts"
import { run } from "../Run.ts"
import { loadWithTexts } from "../watch/moduleTexts.ts"
import { parses } from "../watch/internal/syntax.ts"

afterAll(removeFolders)

const seen = globalThis as { weftParses?: { readonly count: number }; weftSeen?: Array<number> }
afterEach(() => {
  delete seen.weftParses
  delete seen.weftSeen
  delete process.env.WEFT_TEST_FAIL_B
})

const module = [
  `import { workflow } from ${JSON.stringify(dslIndex)}`,
  `const g = globalThis as { weftParses?: { readonly count: number }; weftSeen?: Array<number> }`,
  `export default workflow("deferred", { cache: true })`,
  `  .step("a", async () => { g.weftSeen!.push(g.weftParses!.count); return 1 })`,
  `  .step("b", { needs: ["a"] }, async () => { if (process.env.WEFT_TEST_FAIL_B === "1") throw new Error("b fails"); return 2 })`,
  ``
].join("\n")

const runIn = async (dir: string, options: { readonly resume?: boolean; readonly mode: "off" | "use" }) => {
  const file = path.join(dir, "weft.ts")
  const { value: { workflow }, texts } = await loadWithTexts(file, () => loadWorkflow("weft.ts", dir))
  const before = parses.count
  const result = await run(workflow, {
    cwd: dir,
    file,
    weftDir: path.join(dir, ".weft"),
    cache: { mode: options.mode, root: dir, file, moduleTexts: texts },
    journal: true,
    resume: options.resume
  })
  return { result, parsed: parses.count - before, before }
}

describe("the journal's key of a function step", () => {
  it("does not hold the step's start for the parse, and is the key a resume computes", async () => {
    const dir = folder()
    write(dir, { "weft.ts": module })
    seen.weftParses = parses
    seen.weftSeen = []
    process.env.WEFT_TEST_FAIL_B = "1"
    const first = await runIn(dir, { mode: "off" })
    expect(first.result.status).toBe("failed")
    // `a` ran before any parse; the parse came after, for its record.
    expect(seen.weftSeen).toEqual([first.before])
    expect(first.parsed).toBeGreaterThan(0)

    delete process.env.WEFT_TEST_FAIL_B
    const resumed = await runIn(dir, { mode: "off", resume: true })
    expect(resumed.result.status).toBe("succeeded")
    // Replayed under the same key, not run again.
    expect(seen.weftSeen).toHaveLength(1)
    expect(resumed.result.steps.a?.status).toBe("cached")
    // The digests the first run computed were kept: the resume parsed nothing.
    expect(resumed.parsed).toBe(0)
  })

  it("with saved digests, a cached run parses nothing", async () => {
    const dir = folder()
    write(dir, { "weft.ts": module })
    seen.weftParses = parses
    seen.weftSeen = []
    const first = await runIn(dir, { mode: "use" })
    expect(first.result.status).toBe("succeeded")
    expect(first.parsed).toBeGreaterThan(0)
    const again = await runIn(dir, { mode: "use" })
    expect(again.result.status).toBe("succeeded")
    expect(again.result.steps.a?.status).toBe("cached")
    expect(again.parsed).toBe(0)
  })
})
