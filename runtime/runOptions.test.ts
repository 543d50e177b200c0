/**
 * `run()` with an option it cannot use rejects with weft's `DefinitionError`,
 * naming the option and what to pass, before anything runs: as a workflow
 * that cannot run does.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { isDefinitionError, type DefinitionError } from "../dsl/DefinitionError.ts"
import { workflow } from "../dsl/Workflow.ts"
import { compile } from "./Machine.ts"
import { run, type RunOptions } from "./Run.ts"

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A workflow that records whether any step ran. */
const recording = () => {
  const ran: Array<string> = []
  return { ran, wf: workflow("opts").step("a", () => void ran.push("a")) }
}

/** The DefinitionError `run(wf, options)` rejects with (fails the test if it resolves or rejects otherwise). */
const rejection = async (options: unknown): Promise<DefinitionError> => {
  const { ran, wf } = recording()
  const error = await run(wf, options as RunOptions).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(ran, "no step may run").toEqual([])
  expect(isDefinitionError(error), `rejects with a DefinitionError, not ${String(error)}`).toBe(true)
  return error as DefinitionError
}

describe("run() with a bad concurrency", () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "4"])("rejects concurrency %s with a DefinitionError naming it and what to pass", async (concurrency) => {
    const error = await rejection({ concurrency })
    expect(error.workflow).toBe("opts")
    expect(error.problems).toHaveLength(1)
    const message = error.problems[0]!.message
    expect(message).toMatch(/^run option concurrency must be a whole number of at least 1/)
    expect(message).toContain(`not ${typeof concurrency === "string" ? `"${concurrency}"` : String(concurrency)}`)
    expect(message).toMatch(/concurrency: 4/)
  })

  it("accepts a good one", async () => {
    const { ran, wf } = recording()
    expect((await run(wf, { concurrency: 1 })).status).toBe("succeeded")
    expect(ran).toEqual(["a"])
  })

  it("compile() throws the same DefinitionError rather than a RangeError", () => {
    const { wf } = recording()
    let thrown: unknown
    try {
      compile(wf, { concurrency: 0 })
    } catch (error) {
      thrown = error
    }
    expect(isDefinitionError(thrown)).toBe(true)
    expect((thrown as DefinitionError).problems[0]!.message).toMatch(/^run option concurrency/)
  })
})

describe("run()'s other options are checked the same way, all at once", () => {
  it.each<[string, unknown, RegExp]>([
    ["failFast", "no", /^run option failFast must be true or false, not "no"/],
    ["cwd", 5, /^run option cwd must be the path of a folder/],
    ["cwd", "/no/such/folder/for/weft", /^run option cwd: there is no folder \/no\/such\/folder\/for\/weft/],
    ["reporter", "fancy", /^run option reporter must be "plain", "json", "silent" or a reporter \(an object with onEvent\), not "fancy"/],
    ["reporter", { onEnd: () => {} }, /^run option reporter must be/],
    ["onEvent", "log", /^run option onEvent must be a function/],
    ["journal", "yes", /^run option journal must be true, false or \{ dir, keep \}/],
    ["journal", { keep: 0 }, /^run option journal\.keep must be a whole number of at least 1/],
    ["resume", 1, /^run option resume must be true or false/],
    ["cacheDir", "", /^run option cacheDir must be the path of a folder/],
    ["cache", { mode: "always" }, /^run option cache\.mode must be "use", "force" or "off", not "always"/],
    ["cache", "off", /^run option cache must be \{ mode, dir \}/],
    ["runId", "../escape", /^run option runId must be letters, digits, "\.", "_" and "-"/],
    ["only", "a", /^run option only must be a list of step ids/],
    ["durations", { a: 1 }, /^run option durations must be a Map/],
    ["signal", true, /^run option signal must be an AbortSignal/],
    ["allowAll", "yes", /^run option allowAll must be true or false/],
    ["stages", [1], /^run option stages must be a list of stages/],
    ["keep", [], /^run option keep must be a Map/],
    ["file", 5, /^run option file must be the path of a file/]
  ])("%s: %j", async (name, value, says) => {
    const error = await rejection({ [name]: value })
    expect(error.problems.map((p) => p.message)).toEqual([expect.stringMatching(says)])
  })

  it("an unknown option, with a did-you-mean", async () => {
    const error = await rejection({ concurency: 4 })
    expect(error.problems[0]!.message).toMatch(/^unknown run option "concurency"\. Did you mean "concurrency"\?/)
  })

  it("reports every bad option at once, and opens no journal for a run that cannot start", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "weft-opts-"))
    dirs.push(dir)
    const error = await rejection({ concurrency: 0, failFast: 1, cwd: dir, journal: true })
    expect(error.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^run option concurrency/),
      expect.stringMatching(/^run option failFast/)
    ])
    expect(readdirSync(dir)).toEqual([])
  })

  it("undefined is as good as leaving an option out", async () => {
    const { ran, wf } = recording()
    const result = await run(wf, { concurrency: undefined, failFast: undefined, cwd: undefined, reporter: undefined, journal: undefined, signal: undefined })
    expect(result.status).toBe("succeeded")
    expect(ran).toEqual(["a"])
  })
})
