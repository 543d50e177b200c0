/**
 * What `weft run --resume` checks before it replays a step (issue 10, items
 * 1–3), through the real CLI after a real SIGKILL:
 * - a finished step's declared output files are compared with what its
 *   record says (digest): deleted or edited, they are restored from the
 *   cache, or else the step runs again, and a warning says which;
 * - a journal record that was damaged (a byte changed) or torn (cut short)
 *   is "not finished": the step runs again, with a warning naming it, and
 *   never replays a wrong value;
 * - the run id `--resume` prints is the run's id everywhere: `weft report`
 *   accepts it, and `weft history` lists the same id.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { deserializeValue, serializeValue } from "../runtime/cache/serialize.ts"
import { counted, eventsOf, removeTempDirs, startWeft, waitFor, weft, workspaceWith } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

/**
 * `a` writes its declared output `out/a.txt` and returns "ALICE"; `b` waits
 * for the file `release` (so a run can be killed while it waits), then fails
 * while `fail` exists, else writes what it got, and what `out/a.txt` holds,
 * to `b.txt`. Each start is counted.
 */
const fixture = `
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { workflow } from "weft"

const here = import.meta.dirname
const count = (id: string) => appendFileSync(path.join(here, "counter"), id + "\\n")

export default workflow("resume-verify")
  .step("a", { cache: { outputs: ["out/a.txt"] } }, async () => {
    count("a")
    mkdirSync(path.join(here, "out"), { recursive: true })
    writeFileSync(path.join(here, "out", "a.txt"), "made by a\\n")
    return "ALICE"
  })
  .step("b", { needs: ["a"] }, async ({ a }) => {
    count("b")
    while (!existsSync(path.join(here, "release"))) await new Promise((resolve) => setTimeout(resolve, 20))
    if (existsSync(path.join(here, "fail"))) throw new Error("failing on purpose")
    writeFileSync(path.join(here, "b.txt"), "account=" + a + " file=" + readFileSync(path.join(here, "out", "a.txt"), "utf8"))
    return "account=" + a
  })
`

const makeDir = () => workspaceWith(fixture, "weft-resume-verify-")


/** The journal files under `.weft/runs`, by run id. */
const journals = (dir: string): Map<string, string> => {
  const runs = path.join(dir, ".weft", "runs")
  if (!existsSync(runs)) return new Map()
  return new Map(readdirSync(runs).filter((run) => !run.startsWith(".")).map((run) => [run, path.join(runs, run, "journal.ndjson")]))
}

/** Starts a run, waits until `a` is durably journaled and `b` runs, SIGKILLs it, and returns its run id. */
const runKilledDuringB = async (dir: string, args: ReadonlyArray<string> = []): Promise<string> => {
  const running = startWeft(["run", "weft.ts", "--resume", "--reporter", "json", ...args], { cwd: dir })
  const journaled = () => [...journals(dir).values()].some((file) => readFileSync(file, "utf8").includes(`"step":"a"`))
  await waitFor(() => counted(dir).includes("b") && journaled(), 20_000, "step a journaled and b started").catch((error) => {
    throw new Error(`${error.message}\n${running.stdout()}\n${running.stderr()}`)
  })
  running.child.kill("SIGKILL")
  const result = await running.exited
  expect(result.signal).toBe("SIGKILL")
  const start = eventsOf(result.stdout.split("\n").filter((line) => line.endsWith("}")).join("\n")).find((e) => e.type === "run:start")
  return (start as { run: string }).run
}

/** Resumes with `b` released, to the end. */
const resume = async (dir: string, args: ReadonlyArray<string> = []) => {
  writeFileSync(path.join(dir, "release"), "")
  const result = await weft(["run", "weft.ts", "--resume", ...args], { cwd: dir })
  return { ...result, output: result.stdout + result.stderr }
}

const bFile = (dir: string) => readFileSync(path.join(dir, "b.txt"), "utf8")
const good = "account=ALICE file=made by a\n"

describe("--resume checks a replayed step's declared outputs", () => {
  it("deleted since the run was killed: restored from the cache, the step not run again", async () => {
    const dir = makeDir()
    await runKilledDuringB(dir)
    rmSync(path.join(dir, "out", "a.txt"))
    const resumed = await resume(dir)
    expect(resumed.code, resumed.output).toBe(0)
    expect(counted(dir)).toEqual(["a", "b", "b"])
    expect(readFileSync(path.join(dir, "out", "a.txt"), "utf8")).toBe("made by a\n")
    expect(bFile(dir)).toBe(good)
    expect(resumed.output).toMatch(/out\/a\.txt was deleted.*restored it from the cache/)
  }, 60_000)

  it("edited, with nothing in the cache: the step runs again, saying why, and b never sees the edited bytes", async () => {
    const dir = makeDir()
    await runKilledDuringB(dir, ["--no-cache"])
    writeFileSync(path.join(dir, "out", "a.txt"), "tampered\n")
    const resumed = await resume(dir, ["--no-cache"])
    expect(resumed.code, resumed.output).toBe(0)
    expect(counted(dir)).toEqual(["a", "b", "a", "b"])
    expect(bFile(dir)).toBe(good)
    expect(resumed.output).toMatch(/out\/a\.txt was changed since run .* recorded a; running a again/)
  }, 60_000)

  it("edited, with the cache: restored from it", async () => {
    const dir = makeDir()
    await runKilledDuringB(dir)
    writeFileSync(path.join(dir, "out", "a.txt"), "tampered\n")
    const resumed = await resume(dir)
    expect(resumed.code, resumed.output).toBe(0)
    expect(counted(dir)).toEqual(["a", "b", "b"])
    expect(bFile(dir)).toBe(good)
  }, 60_000)
})

describe("--resume verifies each journal record", () => {
  // Without the cache, so that a step that runs again is seen running (the cache would answer it).
  const noCache = ["--no-cache"]

  it("a changed byte in a recorded value: the step runs again, with a warning naming it, never the changed value", async () => {
    const dir = makeDir()
    await runKilledDuringB(dir, noCache)
    const [file, ...others] = journals(dir).values()
    expect(others).toEqual([])
    const lines = readFileSync(file, "utf8").split("\n")
    const at = lines.findIndex((line) => line.includes(`"step":"a"`))
    const value = /"value":"([^"]*)"/.exec(lines[at]!)![1]!
    const bytes = Buffer.from(value, "base64")
    expect(deserializeValue(bytes)).toBe("ALICE")
    // One byte of the value changed (as a bad disk would), the line otherwise as written.
    const damaged = Buffer.from(serializeValue("MLICE", { step: "a" }))
    expect(damaged.length).toBe(bytes.length)
    expect(damaged.filter((byte, i) => byte !== bytes[i]).length).toBe(1)
    lines[at] = lines[at]!.replace(value, damaged.toString("base64"))
    writeFileSync(file, lines.join("\n"))

    const resumed = await resume(dir, noCache)
    expect(resumed.code, resumed.output).toBe(0)
    expect(counted(dir)).toEqual(["a", "b", "a", "b"])
    expect(bFile(dir)).toBe(good)
    expect(resumed.output).toMatch(/record of step a .*is damaged.*a runs again/)
  }, 60_000)

  it("a torn last record (the kill cut its write short): the step runs again, with a warning naming it", async () => {
    const dir = makeDir()
    await runKilledDuringB(dir, noCache)
    const [file, ...others] = journals(dir).values()
    expect(others).toEqual([])
    const text = readFileSync(file, "utf8")
    const start = text.indexOf(`{"step":"a"`)
    expect(text.indexOf("\n", start)).toBe(text.length - 1) // a's record is the last line
    writeFileSync(file, text.slice(0, start + Math.floor((text.length - start) / 2)))

    const resumed = await resume(dir, noCache)
    expect(resumed.code, resumed.output).toBe(0)
    expect(counted(dir)).toEqual(["a", "b", "a", "b"])
    expect(bFile(dir)).toBe(good)
    expect(resumed.output).toMatch(/record of step a .*was cut short.*a runs again/)
  }, 60_000)
})

describe("one run id everywhere", () => {
  it("the id --resume prints is accepted by weft report, and weft history lists the same ids", async () => {
    const dir = makeDir()
    const killed = await runKilledDuringB(dir)
    writeFileSync(path.join(dir, "fail"), "")
    const failed = await resume(dir, ["--reporter", "json"])
    expect(failed.code, failed.output).toBe(1)
    const events = eventsOf(failed.stdout)
    expect(events.some((e) => e.type === "step:log" && e.text === `weft: resumed from run ${killed}`)).toBe(true)
    // The killed run has no history record (it never ended): its report comes from its journal.
    const reportKilled = await weft(["report", killed], { cwd: dir })
    expect(reportKilled.code, reportKilled.stderr).toBe(0)
    expect(reportKilled.stdout).toContain(killed)
    expect(reportKilled.stdout).toMatch(/did not finish/)
    expect(reportKilled.stdout).toMatch(/\ba\b/)

    // The failed run is in the history under the id the next --resume names.
    const failedId = (events.find((e) => e.type === "run:start") as { run: string }).run
    rmSync(path.join(dir, "fail"))
    const again = await resume(dir)
    expect(again.code, again.output).toBe(0)
    expect(again.output).toContain(`resumed from run ${failedId}`)
    const report = await weft(["report", failedId], { cwd: dir })
    expect(report.code, report.stderr).toBe(0)
    expect(report.stdout).toContain(failedId)
    const history = await weft(["history", "--json"], { cwd: dir })
    const ids = (JSON.parse(history.stdout) as Array<{ id: string }>).map((r) => r.id)
    expect(ids).toContain(failedId)
    expect(new Set(journals(dir).keys())).toEqual(new Set([killed, ...ids]))
  }, 60_000)
})
