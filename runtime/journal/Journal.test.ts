import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { journalFile, latestResumable, makeRunId, openJournal, parseJournal, readJournal, recordsOf, type JournalHeader } from "./Journal.ts"

const dirs: Array<string> = []
const tempDir = async () => {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "weft-journal-"))
  dirs.push(dir)
  return dir
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true })
})

const header = (run: string, workflow = "wf", resumes?: string): JournalHeader => ({ run, workflow, file: "weft.ts", startedAt: 0, resumes })
const record = (step: string, key = `k-${step}`) => ({ step, key, value: Buffer.from(step).toString("base64"), durationMs: 5 })
const noError = (message: string) => {
  throw new Error(`unexpected journal error: ${message}`)
}

describe("parseJournal", () => {
  it("reads the records before a torn or garbage last line", () => {
    const whole = [header("r1"), record("a"), record("b")].map((line) => JSON.stringify(line)).join("\n") + "\n"
    for (const tail of [`{"step":"c","key":"k-c","val`, "\u0000\u0000\u0000", "{", "null", "[1,2"]) {
      const journal = parseJournal(whole + tail)!
      expect([...journal.records.keys()]).toEqual(["a", "b"])
      expect(journal.end).toBeUndefined()
    }
  })

  it("has no header for a file torn inside its first line", () => {
    expect(parseJournal(`{"run":"r1","work`)).toBeUndefined()
    expect(parseJournal("")).toBeUndefined()
  })

  it("keeps the last record of a step, and the end line", () => {
    const text = [header("r1"), record("a", "old"), record("a", "new"), { end: "failed" }].map((l) => JSON.stringify(l)).join("\n")
    const journal = parseJournal(text)!
    expect(journal.records.get("a")!.key).toBe("new")
    expect(journal.end).toBe("failed")
  })

  it("reads a record's logs and parts; without them (an older journal), or unreadable, the record still counts", () => {
    const logs = [{ stream: "stdout", text: "hello" }, { stream: "log", text: "token ***" }]
    const partials = [{ text: "part", afterLogs: 1 }]
    const text = [
      header("r1"),
      { ...record("new"), logs, partials },
      record("old"),
      { ...record("odd"), logs: [{ stream: "nowhere", text: "x" }], partials: "nope" },
      { ...record("half"), logs: "nope", partials }
    ].map((l) => JSON.stringify(l)).join("\n")
    const journal = parseJournal(text)!
    expect(journal.records.get("new")).toEqual({ ...record("new"), logs, partials })
    expect(journal.records.get("old")).toEqual(record("old"))
    expect(journal.records.get("odd")).toEqual(record("odd"))
    expect(journal.records.get("half")).toEqual({ ...record("half"), partials })
  })
})

describe("openJournal", () => {
  it("appends records in batches and the end line on close", async () => {
    const dir = await tempDir()
    const writer = await openJournal(dir, header("r1"), { onError: noError })
    for (let i = 0; i < 100; i++) writer.record(record(`s${i}`))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const midway = (await readJournal(dir, "r1"))!
    expect(midway.records.size).toBe(100)
    expect(midway.end).toBeUndefined()
    writer.record(record("last"))
    await writer.close("succeeded")
    const done = (await readJournal(dir, "r1"))!
    expect(done.records.size).toBe(101)
    expect(done.end).toBe("succeeded")
    expect(done.header).toMatchObject({ run: "r1", workflow: "wf" })
  })

  it("keeps only the newest runs", async () => {
    const dir = await tempDir()
    for (let i = 0; i < 5; i++) await (await openJournal(dir, header(`r${i}`), { onError: noError, keep: 3 })).close("failed")
    expect((await fs.readdir(dir)).sort()).toEqual(["r2", "r3", "r4"])
  })

  it("discard removes the run", async () => {
    const dir = await tempDir()
    await (await openJournal(dir, header("r1"), { onError: noError })).discard()
    expect(await readJournal(dir, "r1")).toBeUndefined()
  })
})

describe("latestResumable", () => {
  const write = async (dir: string, run: string, lines: Array<unknown>) => {
    await fs.mkdir(path.join(dir, run), { recursive: true })
    await fs.writeFile(journalFile(dir, run), lines.map((l) => JSON.stringify(l)).join("\n") + "\n")
  }

  it("is the newest run of the workflow, unless that one succeeded", async () => {
    const dir = await tempDir()
    expect(await latestResumable(dir, "wf")).toBeUndefined()
    await write(dir, "1-a", [header("1-a"), record("x"), { end: "failed" }])
    await write(dir, "2-b", [header("2-b", "other"), record("y")])
    expect((await latestResumable(dir, "wf"))!.header.run).toBe("1-a")
    await write(dir, "3-c", [header("3-c"), record("x")])
    expect((await latestResumable(dir, "wf"))!.header.run).toBe("3-c")
    await write(dir, "4-d", [header("4-d"), { end: "succeeded" }])
    expect(await latestResumable(dir, "wf")).toBeUndefined()
    expect((await latestResumable(dir, "other"))!.header.run).toBe("2-b")
  })

  it("offers what the runs a resumed run resumed recorded, the newest winning", async () => {
    const dir = await tempDir()
    await write(dir, "1-a", [header("1-a"), record("x", "old"), record("y")])
    await write(dir, "2-b", [header("2-b", "wf", "1-a"), record("x", "new")])
    const records = await recordsOf(dir, (await latestResumable(dir, "wf"))!)
    expect(Object.fromEntries([...records].map(([step, r]) => [step, r.key]))).toEqual({ x: "new", y: "k-y" })
  })

  it("run ids sort by start time", () => {
    expect(makeRunId(1_000) < makeRunId(2_000)).toBe(true)
  })
})
