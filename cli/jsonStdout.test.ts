/**
 * `--reporter json` through the real command: stdout carries only events,
 * whatever the workflow writes. A step's writes are its log events; a write
 * no step made (a timer the workflow's module started, a callback of a
 * stream it opened at load) goes to stderr.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

describe("weft run --reporter json", () => {
  it("keeps stdout for events: a step's direct writes are step:log events, a write no step made goes to stderr", async () => {
    const dir = tempDir("weft-json-")
    writeFileSync(path.join(dir, "weft.ts"), [
      `import { workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}`,
      // Started when the module loads, outside any step: not a step's output.
      `let strays = 0`,
      `const timer = setInterval(() => { if (weftRunning) process.stdout.write("stray " + ++strays + "\\n") }, 2)`,
      `timer.unref()`,
      `let weftRunning = false`,
      `export default workflow("json")`,
      `  .step("writes", async () => {`,
      `    weftRunning = true`,
      `    process.stdout.write("from the step\\n")`,
      `    while (strays < 3) await new Promise((r) => setTimeout(r, 5))`,
      `    weftRunning = false`,
      `    return strays`,
      `  })`,
      ""
    ].join("\n"))
    const r = await weft(["run", "--reporter", "json", "--no-cache"], { cwd: dir })
    expect(r.code, shown(r)).toBe(0)
    const events = eventsOf(r.stdout)
    expect(events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))).toEqual(["from the step"])
    expect(r.stderr, shown(r)).toMatch(/^stray 1$/m)
  })
})
