/**
 * `weft run --inspect FILE`: XState's inspection events of the run, one JSON
 * object per line, complete when the run's end is reported.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { InspectionLine } from "../runtime/inspect/index.ts"
import { removeTempDirs, repoRoot, tempDir } from "../test/fixtures/cli/harness.ts"
import type { Io } from "./common.ts"
import { main } from "./main.ts"

afterAll(removeTempDirs)

const project = (): string => {
  const dir = tempDir("weft-inspect-cli-")
  writeFileSync(path.join(dir, "weft.ts"), `
import { workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}

export default workflow("inspected", { concurrency: 2 })
  .step("fetch", async () => {
    await new Promise((resolve) => setTimeout(resolve, 20))
    return 3
  })
  .step("count", { needs: ["fetch"] }, async ({ fetch }: { fetch: number }) => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return fetch + 1
  })
`)
  return dir
}

const weft = async (dir: string, ...args: Array<string>) => {
  let stdout = ""
  let stderr = ""
  const io: Io = { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), cwd: dir, isTTY: false, env: {} }
  const code = await main(args, io)
  return { code, stdout, stderr }
}

describe("weft run --inspect", () => {
  it("writes every inspection event as a line of JSON, with an actor per step under the step's id", async () => {
    const dir = project()
    const r = await weft(dir, "run", "weft.ts", "--reporter", "plain", "--inspect", "out/run.jsonl")
    expect(r.code).toBe(0)
    const text = readFileSync(path.join(dir, "out", "run.jsonl"), "utf8")
    expect(text.endsWith("\n")).toBe(true)
    const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line) as InspectionLine)
    const created = lines.filter((line) => line.type === "@xstate.actor").map((line) => line.actor.root ? "run" : line.actor.systemId ?? line.actor.id)
    expect(created).toEqual(["run", "executor", "fetch", "count"])
    const ends = lines.filter((line) => line.type === "@xstate.snapshot" && line.actor.systemId !== undefined && line.snapshot?.status === "done")
    expect(ends.map((line) => [line.actor.systemId, line.snapshot?.output])).toEqual([["fetch", "succeeded"], ["count", "succeeded"]])
    // The run actor's last snapshot: its final state, with every step's status.
    const last = lines.filter((line) => line.type === "@xstate.snapshot" && line.actor.root === true).at(-1)
    expect(last?.snapshot).toMatchObject({ value: "succeeded", status: "done", steps: { fetch: "succeeded", count: "succeeded" }, progress: { succeeded: 2 } })
  })

  it("refuses a folder", async () => {
    const dir = project()
    mkdirSync(path.join(dir, "out"))
    const r = await weft(dir, "run", "weft.ts", "--inspect", "out")
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--inspect needs a file to write the inspection events to, like --inspect run.jsonl; out is a folder/)
  })
})
