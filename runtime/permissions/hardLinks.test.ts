/**
 * Hard links under an isolated step's read folders: the hole is real (the
 * step reads a file outside its declarations), so weft says so before the run.
 */
import { linkSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeRunDirs, runFile, warningsOf } from "../../test/fixtures/isolate/runFile.ts"

const outside = realpathSync(mkdtempSync(path.join(tmpdir(), "weft-outside-")))
afterAll(() => {
  removeRunDirs()
  rmSync(outside, { recursive: true, force: true })
})

describe("hard links under an isolated step's read folders", () => {
  it("known hole, as documented: a hard link is read; the run warns before it starts, naming the step and the file", async () => {
    const target = path.join(outside, "secret.txt")
    writeFileSync(target, "outside")
    const { result, events } = await runFile(`
      .step("linked", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync("data/link.txt", "utf8"))
      .step("clean", { permissions: { isolate: true, read: ["other/**"] } }, () => readFileSync("other/plain.txt", "utf8"))
      .step("direct", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync(${JSON.stringify(target)}, "utf8"))`,
      { "data/plain.txt": "in", "other/plain.txt": "plain" }, {}, (dir) => linkSync(target, path.join(dir, "data", "link.txt")))
    expect(result.outputs.linked).toBe("outside")
    expect(result.outputs.clean).toBe("plain")
    expect(result.steps.direct?.error).toBe(`step "direct" may not read ${target}: declare it in permissions.read`)
    // Without bubblewrap the run also warns that isolated steps keep the network (isolateNet.test.ts): not this test's subject.
    const warnings = warningsOf(events).filter((warning) => !warning.startsWith("bubblewrap (bwrap) is not available here"))
    const linkWarning = (step: string) =>
      `step "${step}" may read data/link.txt: a file under permissions.read with another name elsewhere (a hard link), which isolation cannot see: Node's permission model checks names, not files, so whatever the other name is, the step reads it here; replace the link with a copy`
    expect(warnings).toEqual([linkWarning("linked"), linkWarning("direct")])
    expect(events.findIndex((e) => e.type === "run:warning")).toBeLessThan(events.findIndex((e) => e.type === "step:start"))
  }, 60_000)
})
