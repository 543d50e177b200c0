import * as fs from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { journalFile, latestResumable, openJournal, parseJournal, readJournal, recordsOf, type JournalHeader } from "./Journal.ts"
import { sealLine } from "./seal.ts"

const dirs: Array<string> = []
const tempDir = async () => {
  const dir = await fs.mkdtemp(path.join(tmpdir(), "weft-journal-"))
  dirs.push(dir)
  return dir
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true })
})

/** Runs named `<n>-…` started at `n`. */
const header = (run: string, workflow = "wf", resumes?: string, startedAt = Number.parseInt(run) || 0): JournalHeader => ({ run, workflow, file: "weft.ts", startedAt, resumes })
/** Journal text as the writer writes it: each line sealed with its checksum. */
const text = (lines: Array<object>) => lines.map((line) => sealLine(line) + "\n").join("")
const record = (step: string, key = `k-${step}`) => ({ step, key, value: Buffer.from(step).toString("base64"), durationMs: 5 })
const noError = (message: string) => {
  throw new Error(`unexpected journal error: ${message}`)
}

describe("sealLine", () => {
  it("seals as it always has (a journal written by an earlier weft still resumes)", () => {
    expect(sealLine({ end: "succeeded", note: "é✓" })).toBe(`{"end":"succeeded","note":"é✓","sum":"a4350ef89b731f0b1617e4eba50423495bf53f454887fab9602713ee00929010"}`)
  })
})

describe("parseJournal", () => {
  it("reads the records before a torn or garbage last line, and lists that line as torn", () => {
    const whole = text([header("r1"), record("a"), record("b")])
    for (const tail of [`{"step":"c","key":"k-c","val`, "\u0000\u0000\u0000", "{", "null", "[1,2", sealLine(record("c")).slice(0, -3)]) {
      const journal = parseJournal(whole + tail)!
      expect([...journal.records.keys()]).toEqual(["a", "b"])
      expect(journal.end).toBeUndefined()
      expect(journal.damaged).toEqual([{ line: 4, step: tail.startsWith(`{"step":"c"`) ? "c" : undefined, torn: true }])
    }
  })

  it("never reads a line whose bytes changed: the record is damaged, naming its step", () => {
    const lines = text([header("r1"), { ...record("a"), value: Buffer.from("ALICE").toString("base64") }, record("b"), { end: "failed" }]).split("\n")
    const value = Buffer.from("ALICE").toString("base64")
    for (let at = 0; at < lines[1]!.length; at++) {
      // Every single-byte change of a's line, anywhere in it (its checksum included), is caught.
      const flipped = [...lines]
      flipped[1] = lines[1]!.slice(0, at) + String.fromCharCode(lines[1]!.charCodeAt(at) ^ 1) + lines[1]!.slice(at + 1)
      const journal = parseJournal(flipped.join("\n"))!
      expect([...journal.records.keys()], `byte ${at}`).toEqual(["b"])
      expect(journal.damaged.map(({ line, torn }) => ({ line, torn })), `byte ${at}`).toEqual([{ line: 2, torn: false }])
      // Past `{"step":"a"` the step it names is still a; a change inside that names another, or none.
      if (at >= `{"step":"a"`.length) expect(journal.damaged[0]!.step).toBe("a")
      expect(journal.end).toBe("failed")
    }
    expect(lines[1]).toContain(value)
  })

  it("has no header for a journal whose lines carry no checksum (written by an older weft) or whose header is damaged", () => {
    const plain = [header("r1"), record("a")].map((line) => JSON.stringify(line)).join("\n") + "\n"
    expect(parseJournal(plain)).toBeUndefined()
    const sealed = text([header("r1"), record("a")])
    expect(parseJournal(sealed.replace(`"workflow":"wf"`, `"workflow":"wg"`))).toBeUndefined()
  })

  it("has no header for a file torn inside its first line", () => {
    expect(parseJournal(`{"run":"r1","work`)).toBeUndefined()
    expect(parseJournal("")).toBeUndefined()
  })

  it("keeps the last record of a step, and the end line", () => {
    const journal = parseJournal(text([header("r1"), record("a", "old"), record("a", "new"), { end: "failed" }]))!
    expect(journal.records.get("a")!.key).toBe("new")
    expect(journal.end).toBe("failed")
  })

  it("reads a record's logs and parts; without them (an older journal), or unreadable, the record still counts", () => {
    const logs = [{ stream: "stdout", text: "hello" }, { stream: "log", text: "token ***" }]
    const partials = [{ text: "part", afterLogs: 1 }]
    const journal = parseJournal(text([
      header("r1"),
      { ...record("new"), logs, partials },
      record("old"),
      { ...record("odd"), logs: [{ stream: "nowhere", text: "x" }], partials: "nope" },
      { ...record("half"), logs: "nope", partials }
    ]))!
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

  it("never prunes its own run, even one whose id sorts before the others (old runs go while it runs)", async () => {
    const dir = await tempDir()
    for (const run of ["5", "6", "7"]) await fs.mkdir(path.join(dir, run))
    const writer = await openJournal(dir, header("0-mine"), { onError: noError, keep: 2 })
    writer.record(record("a"))
    await writer.close("succeeded")
    expect((await fs.readdir(dir)).sort()).toEqual(["0-mine", "7"])
    expect((await readJournal(dir, "0-mine"))!.records.size).toBe(1)
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
    await fs.writeFile(journalFile(dir, run), text(lines as Array<object>))
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

  it("is the newest by start time, also among runs whose ids (to the second) do not sort", async () => {
    const dir = await tempDir()
    await write(dir, "20261206-101010-ffff", [header("20261206-101010-ffff", "wf", undefined, 1_000), record("x")])
    await write(dir, "20261206-101010-0000", [header("20261206-101010-0000", "wf", undefined, 1_500), record("y")])
    expect((await latestResumable(dir, "wf"))!.header.run).toBe("20261206-101010-0000")
  })
})
