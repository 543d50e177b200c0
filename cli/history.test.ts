/**
 * What `weft run` leaves beside the workflow and the commands that read it:
 * `weft history`, `weft report`, the step logs and `--trace`. Each case runs
 * `main` in this process on a temp folder holding a small `weft.ts`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { Event, EventOf } from "../runtime/Event.ts"
import type { HistoryRecord } from "../runtime/history/History.ts"
import type { RunDetail } from "../runtime/history/RunDetail.ts"
import type { Trace } from "../runtime/trace/Trace.ts"
import { removeTempDirs, repoRoot, tempDir } from "../test/fixtures/cli/harness.ts"
import type { Io } from "./common.ts"
import { resolveRun } from "./history.ts"
import { main } from "./main.ts"

afterAll(removeTempDirs)

/** A folder whose `weft.ts` fails step `check` while `fail.flag` exists. */
const project = (): string => {
  const dir = tempDir("weft-history-cli-")
  writeFileSync(path.join(dir, "weft.ts"), `
import { existsSync } from "node:fs"
import * as path from "node:path"
import { workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}

export default workflow("shop", { concurrency: 2 })
  .step("fetch", async (_: unknown, ctx: { log: (...a: Array<unknown>) => void }) => {
    ctx.log("fetched 3 rows")
    await new Promise((resolve) => setTimeout(resolve, 20))
    return 3
  })
  .step("lint:js", () => {
    console.log("no problems")
    return 0
  })
  .step("check", { needs: ["fetch"] }, () => {
    if (existsSync(path.join(import.meta.dirname, "fail.flag"))) throw new Error("stock is negative\\nsecond line")
    return "ok"
  })
`)
  return dir
}

/** Runs `weft …args` in `cwd`; resolves with its exit code and what it printed. */
const weft = async (cwd: string, ...args: Array<string>) => {
  let stdout = ""
  let stderr = ""
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd, env: { NO_COLOR: "1" } }
  const code = await main(args, io)
  return { code, stdout, stderr }
}

/** `weft run --reporter json` in `dir`: its events. */
const runIn = async (dir: string, ...flags: Array<string>): Promise<Array<Event>> => {
  const r = await weft(dir, "run", "--reporter", "json", ...flags)
  expect(r.stderr).toBe("")
  return r.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Event)
}
const runIdOf = (events: ReadonlyArray<Event>) => (events[0] as EventOf<"run:start">).run

describe("weft history and weft report", () => {
  it("list the folder's runs and show one step by step; the run's history feeds the next run's estimates", async () => {
    const dir = project()
    const first = await runIn(dir)
    writeFileSync(path.join(dir, "fail.flag"), "")
    const second = await runIn(dir)
    const third = await runIn(dir)
    const ids = [first, second, third].map(runIdOf)
    expect(new Set(ids).size).toBe(3)
    // The first run's durations are the second's estimates.
    expect((first[0] as EventOf<"run:start">).steps.map((s) => s.estimateMs)).toEqual([undefined, undefined, undefined])
    const fetchTook = first.find((e): e is EventOf<"step:end"> => e.type === "step:end" && e.step === "fetch")!.durationMs
    expect((second[0] as EventOf<"run:start">).steps.find((s) => s.id === "fetch")!.estimateMs).toBe(fetchTook)

    const list = await weft(dir, "history")
    expect(list.code).toBe(0)
    const lines = list.stdout.split("\n")
    expect(lines[0]).toMatch(/^\s+run\s+started\s+status\s+duration\s+ran\s+cached\s+failed$/)
    expect(lines[1]).toMatch(new RegExp(`^-3  ${ids[0]}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  succeeded  .+  3  +0  +0$`))
    expect(lines[3]).toMatch(new RegExp(`^-1  ${ids[2]}  .*  failed  .+  3  +0  +1$`))

    const one = await weft(dir, "history", "weft.ts", "--last", "1", "--json")
    expect((JSON.parse(one.stdout) as Array<HistoryRecord>).map((r) => r.id)).toEqual([ids[2]])

    const report = await weft(dir, "report")
    expect(report.code).toBe(0)
    expect(report.stdout).toMatch(new RegExp(`^run ${ids[2]}: shop failed in .+, started \\d{4}-`))
    expect(report.stdout).toMatch(/^  step +status +start +duration +attempts$/m)
    expect(report.stdout).toMatch(/^  fetch +succeeded +\d+ ms +\d+ ms +1$/m)
    expect(report.stdout).toMatch(/^  check +failed +\d+ ms +\d+ ms +1 +stock is negative$/m)
    expect(report.stdout).toMatch(/^  critical path: fetch → check \(\d+ ms\)$/m)
    expect(report.stdout).toMatch(/^  parallelism: \d\.\d\d \(.+ of step time in .+, concurrency 2\)$/m)

    const byIndex = await weft(dir, "report", "-3", "--json")
    expect((JSON.parse(byIndex.stdout) as RunDetail)).toMatchObject({ id: ids[0], status: "succeeded" })
    // The shortest prefix no other run shares: runs started in the same second
    // differ only in their random tail, so a fixed cut was ambiguous 1 time in 256.
    const target = ids[1]!
    const length = [...Array(target.length).keys()].find((n) => n > 0 && ids.every((id) => id === target || !id.startsWith(target.slice(0, n))))!
    const byPrefix = await weft(dir, "report", target.slice(0, length))
    expect(byPrefix.stdout).toMatch(new RegExp(`^run ${target}: `))
  })

  it("with two workflows in one folder, a named file narrows both commands to its runs: -1 is its last run", async () => {
    const dir = project()
    writeFileSync(path.join(dir, "other.ts"), `import { workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}\nexport default workflow("other").step("x", () => 1)\n`)
    const shop = runIdOf(await runIn(dir))
    const otherRun = runIdOf(await runIn(dir, "other.ts"))
    expect((JSON.parse((await weft(dir, "history", "weft.ts", "--json")).stdout) as Array<HistoryRecord>).map((r) => r.id)).toEqual([shop])
    expect((await weft(dir, "report", "-1", "weft.ts")).stdout).toMatch(new RegExp(`^run ${shop}: shop `))
    expect((await weft(dir, "report", "-1", "other.ts")).stdout).toMatch(new RegExp(`^run ${otherRun}: other `))
    // Without a file, the folder's last run, whichever workflow it was.
    expect((await weft(dir, "report")).stdout).toMatch(new RegExp(`^run ${otherRun}: other `))
  })

  it("say which runs exist when the run named is unknown, ambiguous or out of range (exit 2)", async () => {
    const dir = project()
    const ids = [runIdOf(await runIn(dir)), runIdOf(await runIn(dir))]
    const unknown = await weft(dir, "report", "nope")
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe(`weft: no run "nope". recent runs: ${ids[1]}, ${ids[0]} (\`weft history\` lists more)\n`)
    const far = await weft(dir, "report", "-3")
    expect(far.code).toBe(2)
    expect(far.stderr).toMatch(/^weft: there is no run -3: 2 runs are recorded\. recent runs: /)
  })

  it("resolve a run by id, unique prefix or -N among the records", () => {
    const records = ["20261125-101010-aaaa", "20261125-101010-aabb", "20261126-090000-cccc"].map((id) => ({ id }) as HistoryRecord)
    const idOf = (ref: string) => {
      const found = resolveRun(records, ref)
      return typeof found === "string" ? found : found.id
    }
    expect(idOf("-1")).toBe("20261126-090000-cccc")
    expect(idOf("-3")).toBe("20261125-101010-aaaa")
    expect(idOf("20261126")).toBe("20261126-090000-cccc")
    expect(idOf("20261125-101010-aab")).toBe("20261125-101010-aabb")
    expect(idOf("20261125-101010-aaaa")).toBe("20261125-101010-aaaa")
    expect(idOf("20261125")).toBe("\"20261125\" names 2 runs: 20261125-101010-aaaa, 20261125-101010-aabb. Give more of the id.")
    expect(idOf("-4")).toMatch(/^there is no run -4: 3 runs are recorded\. recent runs: 20261126-090000-cccc, /)
  })

  it("in a folder with no runs: history says so, report exits 2; bad options are usage errors", async () => {
    const dir = project()
    const list = await weft(dir, "history")
    expect(list).toMatchObject({ code: 0, stderr: "" })
    expect(list.stdout).toMatch(/^no runs recorded in .*history yet/)
    const report = await weft(dir, "report")
    expect(report).toMatchObject({ code: 2, stderr: "weft: no runs are recorded here yet: `weft run` records each run\n" })
    expect((await weft(dir, "history", "--last", "0")).stderr).toMatch(/^weft: --last must be a whole number of at least 1, not "0"/)
    expect((await weft(dir, "history", "missing.ts")).stderr).toMatch(/^weft: no such file or folder: missing\.ts/)
    mkdirSync(path.join(dir, "out"))
    const trace = await weft(dir, "run", "--trace", "out")
    expect(trace.code).toBe(2)
    expect(trace.stderr).toMatch(/^weft: --trace needs a file to write the trace to, like --trace trace.json; out is a folder/)
  })
})

describe("weft run's log files and --trace", () => {
  it("writes each step's lines to .weft/logs/<run>/<step>.log, and the run as a trace", async () => {
    const dir = project()
    const events = await runIn(dir, "--trace", "out/trace.json")
    const run = runIdOf(events)
    const folder = path.join(dir, ".weft", "logs", run)
    const index = JSON.parse(readFileSync(path.join(folder, "index.json"), "utf8")) as { steps: Record<string, string> }
    expect(Object.keys(index.steps).sort()).toEqual(["fetch", "lint:js"])
    expect(readFileSync(path.join(folder, "fetch.log"), "utf8")).toMatch(/^ +\d+\.\d{3} log     fetched 3 rows\n$/)
    expect(readFileSync(path.join(folder, index.steps["lint:js"]!), "utf8")).toMatch(/ stdout  no problems\n$/)

    const trace = JSON.parse(readFileSync(path.join(dir, "out", "trace.json"), "utf8")) as Trace
    expect(trace.traceEvents.filter((e) => e.ph === "X").map((e) => e.name).sort()).toEqual(["check", "fetch", "lint:js"])
    expect(readdirSync(path.join(dir, ".weft")).sort()).toEqual(["cache", "history", "logs", "runs"].filter((f) => existsSync(path.join(dir, ".weft", f))))
    expect(existsSync(path.join(dir, ".weft", "history", `${run}.json`))).toBe(true)
  })
})
