import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { expect, it } from "vitest"
import { loadWorkflow } from "./loadWorkflow.ts"

it("loads a workflow afresh each time, so an edited file is seen without restarting", async () => {
  // Inside the repository, so that `weft` resolves by self-reference.
  const dir = mkdtempSync(path.join(import.meta.dirname, "..", "tmp-load-"))
  const file = path.join(dir, "wf.ts")
  const write = (ids: Array<string>) =>
    writeFileSync(file, `import { workflow } from "weft"\nexport default workflow("w")${ids.map((id) => `.step("${id}", () => 1)`).join("")}\n`)
  try {
    write(["a"])
    expect((await loadWorkflow(file)).workflow.steps.map((s) => s.id)).toEqual(["a"])
    write(["a", "b"])
    expect((await loadWorkflow(file)).workflow.steps.map((s) => s.id)).toEqual(["a", "b"])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
