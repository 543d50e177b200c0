/**
 * Everything weft keeps lives under one folder (issue 12, item 15): `.weft`
 * in the workflow's folder, or the one `weftDir` (`$WEFT_DIR`) names.
 * `cacheDir` moves the cache only: nothing lands beside it.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import { run } from "./Run.ts"
import { defaultCacheDir } from "./cache/runCache.ts"
import { defaultWeftDir } from "./weftDir.ts"
import { readRuns } from "./history/History.ts"
import { logsDir } from "./logs/LogFiles.ts"
import { logFiles } from "./logs/LogFiles.ts"
import { tee } from "./Reporter.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const temp = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-dir-"))
  dirs.push(dir)
  return dir
}

/** A project with an input file and a workflow that hashes it, caches and journals. */
const makeProject = () => {
  const root = temp()
  const folder = path.join(root, "project")
  mkdirSync(folder)
  writeFileSync(path.join(folder, "input.txt"), "hello")
  const wf = workflow("kept").step("read", { cache: { inputs: ["input.txt"] } }, () => "read")
  return { root, folder, wf }
}
const projects = [makeProject(), makeProject(), makeProject()]
const project = () => projects.pop()!
// The digests of files changed in the last 2 s are not kept (a change within the clock's grain could hide): let them age.
beforeAll(() => new Promise((resolve) => setTimeout(resolve, 2100)))

const saved = process.env.WEFT_DIR
afterEach(() => {
  if (saved === undefined) delete process.env.WEFT_DIR
  else process.env.WEFT_DIR = saved
})

describe("one folder for everything weft keeps", () => {
  it("cacheDir moves only the cache: nothing is written beside it", async () => {
    const { root, folder, wf } = project()
    const outside = path.join(temp(), "shared")
    mkdirSync(outside)
    const result = await run(wf, { cwd: folder, cacheDir: path.join(outside, "cache"), journal: true })
    expect(result.status).toBe("succeeded")
    expect(readdirSync(outside)).toEqual(["cache"])
    // The rest stays in the project's own .weft.
    expect(readdirSync(root)).toEqual(["project"])
    expect(readdirSync(path.join(folder, ".weft")).sort()).toEqual(["file-hashes.json", "runs"])
  })

  it("weftDir names the one folder: cache, history, runs, logs and file hashes are all under it", async () => {
    const { folder, wf } = project()
    const weftDir = path.join(temp(), "state")
    const result = await run(wf, { cwd: folder, weftDir, journal: true, reporter: tee(logFiles({ dir: logsDir(weftDir) })) })
    expect(result.status).toBe("succeeded")
    expect(readdirSync(folder)).toEqual(["input.txt"])
    expect(readdirSync(weftDir).sort()).toEqual(["cache", "file-hashes.json", "history", "logs", "runs"])
    expect((await readRuns(weftDir)).map((r) => r.workflow)).toEqual(["kept"])
    expect(readdirSync(path.dirname(weftDir))).toEqual(["state"])
  })

  it("$WEFT_DIR names it when the run does not", async () => {
    const { folder, wf } = project()
    const weftDir = path.join(temp(), "from-env")
    process.env.WEFT_DIR = weftDir
    expect(defaultWeftDir(folder)).toBe(weftDir)
    expect(defaultCacheDir(folder)).toBe(path.join(weftDir, "cache"))
    const result = await run(wf, { cwd: folder, journal: true })
    expect(result.status).toBe("succeeded")
    expect(readdirSync(folder)).toEqual(["input.txt"])
    expect(readdirSync(weftDir).sort()).toEqual(["cache", "file-hashes.json", "history", "runs"])
    delete process.env.WEFT_DIR
    expect(defaultWeftDir(folder)).toBe(path.join(folder, ".weft"))
  })
})
