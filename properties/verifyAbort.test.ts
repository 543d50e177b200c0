/**
 * `verify`'s `signal`: an abort stops the search at once, cancels the run
 * under way, and that cut-short run is not taken for a difference.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, expect, it } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import { sleep } from "../examples/sleep.ts"
import { verify } from "./index.ts"

const folders: Array<string> = []
afterEach(() => {
  for (const dir of folders.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

it("an abort mid-search resolves with the findings so far, none made up from the cancelled run", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "weft-verify-abort-"))
  folders.push(dir)
  const controller = new AbortController()
  // Deterministic, but slow enough for the abort to land inside a run.
  const wf = workflow("slow")
    .step("first", async (_, ctx) => {
      await sleep(30, ctx.signal)
      return 1
    })
    .step("second", { needs: ["first"] }, ({ first }) => first + 1)
  const schedules: Array<number> = []
  const findings = await verify(wf, {
    cwd: dir,
    runs: 1000,
    signal: controller.signal,
    onProgress: (p) => {
      schedules.push(p.schedules)
      // Two schedules in: the third's run is cut short.
      if (p.schedules === 2) setTimeout(() => controller.abort(), 10)
    }
  })
  expect(findings).toEqual([])
  expect(Math.max(...schedules)).toBeLessThan(10)
})
