import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cmd } from "../../dsl/Command.ts"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event, EventOf } from "../Event.ts"
import { tee } from "../Reporter.ts"
import { run } from "../Run.ts"
import type { RunResult } from "../RunState.ts"
import { logFiles } from "./LogFiles.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const logsDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-logs-"))
  dirs.push(dir)
  return path.join(dir, "logs")
}

const start = (run: string, steps: Array<string> = []): Event =>
  ({ type: "run:start", time: 0, run, workflow: "w", steps: steps.map((id) => ({ id, deps: [] })), concurrency: 2 })
const log = (step: string, text: string, time = 1, stream: "stdout" | "stderr" | "log" = "stdout"): Event =>
  ({ type: "step:log", time, step, stream, text })
const end = (step: string): Event => ({ type: "step:end", time: 9, step, status: "succeeded", durationMs: 9, attempts: 1 })
const runEnd: Event = { type: "run:end", time: 10, status: "succeeded", durationMs: 10 }
const result: RunResult = { status: "succeeded", outputs: {}, steps: {}, durationMs: 10 }

const read = (dir: string, run: string, file: string) => readFileSync(path.join(dir, run, file), "utf8")
const indexOf = (dir: string, run: string) => JSON.parse(read(dir, run, "index.json")) as { run: string; steps: Record<string, string> }

describe("logFiles", () => {
  it("holds exactly each step's logged and streamed lines, in order, when steps print at once", async () => {
    const dir = logsDir()
    const events: Array<Event> = []
    const chatty = (name: string) => async (_: unknown, ctx: { log: (...a: Array<unknown>) => void }) => {
      for (let i = 0; i < 200; i++) {
        ctx.log(`${name} ${i}`)
        if (i % 50 === 0) console.log(`${name} console ${i}`)
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
    const wf = workflow("chatter", { concurrency: 4 })
      .step("a:1", chatty("a"))
      .step("b/2", chatty("b"))
      .step("printer", cmd([process.execPath, "-e", "for (let i = 0; i < 300; i++) console.log('out ' + i); console.error('oops')"]))
      .step("parts", async function*() {
        yield "one"
        yield { two: 2 }
      })
    await run(wf, { reporter: tee(logFiles({ dir, bufferBytes: 512 }), { onEvent: (e) => void events.push(e) }) })
    const run1 = (events[0] as EventOf<"run:start">).run
    const index = indexOf(dir, run1)
    for (const step of ["a:1", "b/2", "printer", "parts"]) {
      const expected = events.flatMap((e) =>
        e.type === "step:log" && e.step === step ? [`${e.stream} ${e.text}`] : e.type === "step:partial" && e.step === step ? [`part#${e.index} ${e.text}`] : []
      )
      const written = read(dir, run1, index.steps[step]!).trimEnd().split("\n").map((line) => line.slice(9).replace(/^(\S+) +/, "$1 "))
      expect(written, step).toEqual(expected)
      expect(written.length, step).toBeGreaterThan(1)
    }
  })


  it("writes each step's lines, stamped with time and stream, to its own file; partial parts are marked", async () => {
    const dir = logsDir()
    const r = logFiles({ dir })
    for (const e of [
      start("r1", ["build"]),
      log("build", "compiling", 12),
      log("build", "warning: x", 1500, "stderr"),
      { type: "step:partial", time: 2000, step: "build", index: 0, text: "{ rows: 1 }\n{ rows: 2 }" } as Event,
      log("build", "done", 2500, "log"),
      end("build"),
      runEnd
    ]) r.onEvent(e)
    await r.onEnd!(result)
    expect(read(dir, "r1", "build.log")).toBe([
      "   0.012 stdout  compiling",
      "   1.500 stderr  warning: x",
      "   2.000 part#0  { rows: 1 }",
      "   2.000 part#0  { rows: 2 }",
      "   2.500 log     done",
      ""
    ].join("\n"))
  })

  it("gives ids with : and / safe, distinct file names, listed in index.json", async () => {
    const dir = logsDir()
    const r = logFiles({ dir })
    const ids = ["checks:lint", "checks/lint", "Build", "build", "../escape"]
    r.onEvent(start("r1", ids))
    for (const id of ids) r.onEvent(log(id, `I am ${id}`))
    r.onEvent(runEnd)
    await r.onEnd!(result)
    const index = indexOf(dir, "r1")
    expect(Object.keys(index.steps).sort()).toEqual([...ids].sort())
    const files = Object.values(index.steps)
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(ids.length)
    expect(index.steps.build).toBe("build.log")
    for (const [id, file] of Object.entries(index.steps)) {
      expect(file).toMatch(/^[a-z0-9][a-z0-9._-]*\.log$/)
      expect(read(dir, "r1", file)).toContain(`I am ${id}`)
    }
    expect(readdirSync(path.dirname(dir))).toEqual(["logs"])
  })

  it("buffers lines until a block is full or the step ends, so a loud step costs a write per block", async () => {
    const dir = logsDir()
    const r = logFiles({ dir, bufferBytes: 1000 })
    r.onEvent(start("r1"))
    const file = path.join(dir, "r1", "loud.log")
    for (let i = 0; i < 10; i++) r.onEvent(log("loud", `line ${i}`))
    expect(existsSync(file)).toBe(false)
    for (let i = 10; i < 100; i++) r.onEvent(log("loud", `line ${i}`))
    // Past a block: written, with at most a block still held.
    const written = readFileSync(file, "utf8")
    expect(written.length).toBeGreaterThanOrEqual(1000)
    expect(100 * 24 - written.length).toBeLessThan(1000)
    r.onEvent(end("loud"))
    expect(readFileSync(file, "utf8").split("\n")).toHaveLength(101)
    r.onEvent(runEnd)
    await r.onEnd!(result)
  })

  it("opens a folder per run and keeps the newest, leaving other folders alone", async () => {
    const dir = logsDir()
    mkdirSync(path.join(dir, "mine"), { recursive: true })
    const r = logFiles({ dir, keep: 3 })
    for (const id of ["20260101-000001-aaaa", "20260101-000002-aaaa", "20260101-000003-aaaa", "20260101-000004-aaaa", "20260101-000005-aaaa"]) {
      r.onEvent(start(id))
      r.onEvent(log("a", id))
      r.onEvent(runEnd)
      await r.onEnd!(result)
    }
    expect(readdirSync(dir).sort()).toEqual(["20260101-000003-aaaa", "20260101-000004-aaaa", "20260101-000005-aaaa", "mine"])
    expect(read(dir, "20260101-000005-aaaa", "a.log")).toContain("20260101-000005-aaaa")
    expect(read(dir, "20260101-000004-aaaa", "a.log")).not.toContain("20260101-000005-aaaa")
  })

  it("closes a run that never said run:end when the next one starts", async () => {
    const dir = logsDir()
    const r = logFiles({ dir })
    r.onEvent(start("first"))
    r.onEvent(log("a", "from the first run"))
    r.onEvent(start("second"))
    r.onEvent(log("a", "from the second run"))
    r.onEvent(runEnd)
    await r.onEnd!(result)
    expect(read(dir, "first", "a.log")).toMatch(/from the first run\n$/)
    expect(read(dir, "second", "a.log")).toMatch(/^ +0\.001 stdout  from the second run\n$/)
  })

  it("flushes a run that never ended when closed, and reports a folder it cannot write once, without throwing", async () => {
    const dir = logsDir()
    const r = logFiles({ dir })
    r.onEvent(start("r1"))
    r.onEvent(log("a", "last words"))
    await r.close!()
    expect(read(dir, "r1", "a.log")).toContain("last words")

    const blocked = logsDir()
    writeFileSync(blocked, "a file where the folder should be")
    const errors: Array<string> = []
    const b = logFiles({ dir: blocked, onError: (m) => errors.push(m) })
    b.onEvent(start("r1"))
    b.onEvent(log("a", "x"))
    b.onEvent(end("a"))
    b.onEvent(runEnd)
    await b.onEnd!(result)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(new RegExp(`cannot write the step logs in ${blocked.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*the run goes on`))
  })
})
