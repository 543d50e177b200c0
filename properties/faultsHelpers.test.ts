/**
 * A file of its own: it needs a process in which weft has not yet started a
 * command, so that weft's spawner starts mid-way through the fault runs
 * (at the second command a process runs), as it does in `weft verify --faults`.
 */
import { existsSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import { spawnerProcess } from "../runtime/internal/spawner.ts"
import { useFolders } from "../test/fixtures/folders.ts"
import { verify } from "./index.ts"

const folder = useFolders("weft-faults-helpers-test-")

// Where weft's spawner cannot run (no perl), there is no helper to pass by: the banner of test/globalSetup.ts says so.
const spawnerRuns = process.platform === "linux" && existsSync("/usr/bin/perl")

describe.runIf(spawnerRuns)("verify with faults", () => {
  it("passes weft's own helpers by: the spawner, started mid-run, is not taken for a step's leftover and killed", async () => {
    expect(spawnerProcess()).toBeUndefined()
    const wf = workflow("one").step("c", cmd(["sh", "-c", "sleep 0.2"]))
    expect(await verify(wf, { cwd: folder(), runs: 0, trace: false, faults: true, seed: 1 })).toEqual([])
    const spawner = spawnerProcess()?.pid
    // Started, and still alive.
    expect(spawner).toBeDefined()
    expect(() => process.kill(spawner!, 0)).not.toThrow()
  })
})
