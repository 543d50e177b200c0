/**
 * `weft run --resume` replays the output of the steps it replays: a step the
 * killed run finished shows its log lines and streamed parts again, marked
 * replayed, in the plain and JSON output and in `.weft/logs`, as a cache hit
 * does. The journal keeps them masked, and a journal written before it kept
 * them still resumes.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { Event } from "../runtime/Event.ts"
import { sealLine } from "../runtime/journal/seal.ts"
import { counted, eventsOf, removeTempDirs, startWeft, waitFor, weft, workspaceWith } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const token = "sekrit-resume-token-4711"
const env = { WEFT_TEST_TOKEN: token }

/**
 * `a` logs (one line holding a secret), streams two parts and ends; `b`
 * waits until the file `release` exists (so a run can be killed while it
 * waits), then fails while the file `fail` exists. Each start is counted.
 */
const fixture = `
import { appendFileSync, existsSync } from "node:fs"
import * as path from "node:path"
import { secret, workflow } from "weft"

const here = import.meta.dirname
const count = (id: string) => appendFileSync(path.join(here, "counter"), id + "\\n")

export default workflow("resume-output")
  .step("a", { permissions: { env: [secret("WEFT_TEST_TOKEN")] } }, async function*(_, ctx) {
    count("a")
    console.log("a: first line")
    ctx.log("a: token " + ctx.env.WEFT_TEST_TOKEN)
    yield "a: part one"
    console.error("a: between parts")
    yield "a: part two"
    ctx.log("a: last line")
  })
  .step("b", { needs: ["a"] }, async ({ a }) => {
    count("b")
    while (!existsSync(path.join(here, "release"))) await new Promise((resolve) => setTimeout(resolve, 20))
    if (existsSync(path.join(here, "fail"))) throw new Error("failing on purpose")
    return a.length
  })
`

/** What `a` printed and streamed, in order, as the first run showed it. */
const aOutput = [
  "log a: first line",
  "log a: token ***",
  "part#0 a: part one",
  "log a: between parts",
  "part#1 a: part two",
  "log a: last line"
]

const makeDir = () => workspaceWith(fixture, "weft-resume-output-")


/** The journal files under `.weft/runs`, oldest first. */
const journals = (dir: string): Array<string> => {
  const runs = path.join(dir, ".weft", "runs")
  if (!existsSync(runs)) return []
  return readdirSync(runs).filter((run) => !run.startsWith(".")).sort().map((run) => path.join(runs, run, "journal.ndjson"))
}

/** `a`'s log lines and parts in a JSON run's events, in order, and whether each was marked replayed. */
const outputOfA = (events: ReadonlyArray<Event>) =>
  events.flatMap((e) =>
    e.type === "step:log" && e.step === "a"
      ? [{ line: `log ${e.text}`, replayed: e.replayed === true }]
      : e.type === "step:partial" && e.step === "a"
      ? [{ line: `part#${e.index} ${e.text}`, replayed: e.replayed === true }]
      : []
  )

/** Starts a run, waits until `a` is durably journaled and `b` runs, and SIGKILLs it. Returns its events. */
const runKilledDuringB = async (dir: string): Promise<Array<Event>> => {
  const running = startWeft(["run", "weft.ts", "--resume", "--reporter", "json"], { cwd: dir, env })
  await waitFor(
    () => counted(dir).includes("b") && journals(dir).some((file) => readFileSync(file, "utf8").includes(`"step":"a"`)),
    20_000,
    "step a journaled and b started"
  ).catch((error) => {
    throw new Error(`${error.message}\n${running.stdout()}\n${running.stderr()}`)
  })
  running.child.kill("SIGKILL")
  const result = await running.exited
  expect(result.signal).toBe("SIGKILL")
  return eventsOf(result.stdout.split("\n").filter((line) => line.endsWith("}")).join("\n"))
}

/** The runs' folders under `.weft/logs` (run ids sort by the second only: compare sets, not order). */
const logFolders = (dir: string): Array<string> => {
  const logs = path.join(dir, ".weft", "logs")
  return existsSync(logs) ? readdirSync(logs).filter((run) => !run.startsWith(".")).map((run) => path.join(logs, run)) : []
}

describe("weft run --resume replays output", () => {
  it("after a SIGKILL: a finished step's log lines and parts, replayed, in plain and JSON output and the log file; secrets masked in the journal", async () => {
    const dir = makeDir()
    const killed = await runKilledDuringB(dir)
    expect(outputOfA(killed).map((o) => o.line)).toEqual(aOutput)
    const journal = readFileSync(journals(dir)[0]!, "utf8")
    expect(journal).not.toContain(token)
    expect(journal).toContain("a: token ***")

    // Resumed with the plain reporter; b fails, so the next run resumes this one.
    writeFileSync(path.join(dir, "release"), "")
    writeFileSync(path.join(dir, "fail"), "")
    const before = new Set(logFolders(dir))
    const plain = await weft(["run", "weft.ts", "--resume", "--reporter", "plain"], { cwd: dir, env })
    expect(plain.code, plain.stderr + plain.stdout).toBe(1)
    expect(counted(dir), plain.stdout).toEqual(["a", "b", "b"])
    const shown = plain.stdout.split("\n").filter((line) => /a: /.test(line)).map((line) => line.replace(/^.*?(a: )/, "$1"))
    expect(shown).toEqual(aOutput.map((line) => line.replace(/^\S+ /, "")))
    expect(plain.stdout).not.toContain(token)
    const [folder, ...more] = logFolders(dir).filter((run) => !before.has(run))
    expect(more).toEqual([])
    const logFile = readFileSync(path.join(folder!, "a.log"), "utf8")
    expect(logFile).toMatch(/ stdout\* +a: first line\n/)
    expect(logFile).toMatch(/ log\* +a: token \*\*\*\n/)
    expect(logFile).toMatch(/ part#0 +a: part one\n/)
    expect(logFile).toMatch(/ stderr\* +a: between parts\n/)
    expect(logFile).toMatch(/ part#1 +a: part two\n/)
    expect(logFile).not.toContain(token)

    // Resumed again, from the resumed run's journal, with the JSON reporter.
    rmSync(path.join(dir, "fail"))
    const json = await weft(["run", "weft.ts", "--resume", "--reporter", "json"], { cwd: dir, env })
    expect(json.code, json.stderr + json.stdout).toBe(0)
    expect(counted(dir)).toEqual(["a", "b", "b", "b"])
    const events = eventsOf(json.stdout)
    const replayed = outputOfA(events)
    expect(replayed[0]!.line).toMatch(/^log weft: resumed from run /)
    expect(replayed.slice(1)).toEqual(aOutput.map((line) => ({ line, replayed: true })))
    const lastOfA = events.findLastIndex((e) => (e.type === "step:log" || e.type === "step:partial") && e.step === "a")
    const endOfA = events.findIndex((e) => e.type === "step:end" && e.step === "a")
    expect(lastOfA).toBeLessThan(endOfA)
    expect(events[endOfA]).toMatchObject({ status: "cached" })
  }, 60_000)

  it("a journal written before weft kept output (no logs, no parts) still resumes, without them", async () => {
    const dir = makeDir()
    await runKilledDuringB(dir)
    const file = journals(dir)[0]!
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => {
      const { sum: _, ...entry } = JSON.parse(line) as Record<string, unknown>
      return entry
    })
    const recordOfA = lines.find((line) => line.step === "a")!
    // As written now, the record holds a's output; the old format had neither field.
    expect(recordOfA.logs).toBeDefined()
    expect(recordOfA.partials).toBeDefined()
    delete recordOfA.logs
    delete recordOfA.partials
    // Sealed again, as weft writes every line: this is about the fields, not the checksum.
    writeFileSync(file, lines.map((line) => sealLine(line) + "\n").join(""))

    writeFileSync(path.join(dir, "release"), "")
    const json = await weft(["run", "weft.ts", "--resume", "--reporter", "json"], { cwd: dir, env })
    expect(json.code, json.stderr + json.stdout).toBe(0)
    expect(counted(dir), json.stdout).toEqual(["a", "b", "b"])
    const events = eventsOf(json.stdout)
    expect(outputOfA(events).map((o) => o.line)).toEqual([expect.stringMatching(/^log weft: resumed from run /)])
    expect(events.find((e) => e.type === "step:end" && e.step === "a")).toMatchObject({ status: "cached" })
  }, 60_000)
})
