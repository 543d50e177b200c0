/**
 * What `weft run` loads before a function step can start: module loading is
 * most of weft's start-up (bench/startup.ts), so what only some runs need is
 * loaded only by them. Checked by the modules a real run loaded, not by time.
 *
 * - The parser (acorn) is for computing function steps' source digests: a run
 *   of a workflow whose digests are saved (`savedDigests.ts`) never loads it.
 * - effect/Schema is for isolated steps' messages: a run without one never
 *   loads it.
 * - bullmq and weft's workers are for `weft run --workers`: a run without
 *   workers never loads them.
 */
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

/** A `--import` hook that writes every module URL the process loads to `$WEFT_TEST_LOADS`, at exit. */
const hook = `import { registerHooks } from "node:module"
import { writeFileSync } from "node:fs"
const loaded = []
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context) } })
process.on("exit", () => writeFileSync(process.env.WEFT_TEST_LOADS, loaded.join("\\n")))
`

const workflow = `import { workflow } from ${JSON.stringify(path.join(repoRoot, "index.ts"))}
export default workflow("startup-modules", { cache: true })
  .step("a", async () => 1)
  .step("b", { needs: ["a"] }, async ({ a }: { a: number }) => a + 1)
`

describe("weft run's start-up", () => {
  it("loads neither the parser once digests are saved, nor effect/Schema without isolated steps, nor bullmq without workers", async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, "hook.mjs"), hook)
    writeFileSync(path.join(dir, "wf.ts"), workflow)
    const loads = path.join(dir, "loads.txt")
    const runOnce = async () => {
      const result = await weft(["run", "wf.ts", "--no-cache", "--reporter", "json"], {
        cwd: dir,
        env: { NODE_OPTIONS: `--import ${path.join(dir, "hook.mjs")}`, WEFT_TEST_LOADS: loads }
      })
      expect(result.code, result.stderr).toBe(0)
      expect(eventsOf(result.stdout).filter((event) => event.type === "step:start")).toHaveLength(2)
      return readFileSync(loads, "utf8").split("\n")
    }
    const first = await runOnce()
    // The first run computes the digests (the run journal keys every step): the parser is loaded then.
    expect(first.some((url) => url.includes("/node_modules/acorn/"))).toBe(true)
    const second = await runOnce()
    expect(second.filter((url) => url.includes("/node_modules/acorn/"))).toEqual([])
    expect(second.filter((url) => /\/node_modules\/effect\/dist\/Schema\.js$/.test(url))).toEqual([])
    expect(second.filter((url) => url.includes("/node_modules/bullmq/") || url.includes("/runtime/workers/"))).toEqual([])
  })
})
