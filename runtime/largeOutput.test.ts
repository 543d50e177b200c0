/**
 * Output bigger than weft keeps in memory (issue 10, item 9): the cache and
 * the run journal keep it in a file rather than in one string, and a hit or
 * a resume replays every line of it. The bound is lowered to 64 KiB here
 * (`WEFT_OUTPUT_MEMORY_BYTES`; 1 MiB by default) so a few MiB show it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import { makeFileStore } from "./cache/FileStore.ts"
import type { Event } from "./Event.ts"
import { parseJournal } from "./journal/Journal.ts"
import { logFiles } from "./logs/LogFiles.ts"
import { run, type RunOptions } from "./Run.ts"

const memoryBytes = 64 * 1024

/**
 * 20,000 numbered lines (3.4 MiB, on stdout and, every 7th, stderr) and a
 * few of 100 KiB, which weft delivers in 64 KiB pieces: more lines than weft
 * ever kept before (10,000), and 50 times the bound.
 */
const printer = `
let out = "", err = ""
for (let i = 0; i < 20000; i++) {
  const line = "line " + i + " " + "x".repeat(170) + "\\n"
  if (i % 7 === 0) err += line
  else out += line
  if (i % 5000 === 4999) out += String(i).repeat(100 * 1024 / String(i).length) + "\\n"
}
process.stderr.write(err)
process.stdout.write(out)
`
const printing = cmd([process.execPath, "-e", printer])

let root: string
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "weft-large-output-"))
  vi.stubEnv("WEFT_OUTPUT_MEMORY_BYTES", String(memoryBytes))
})
afterEach(() => {
  vi.unstubAllEnvs()
  rmSync(root, { recursive: true, force: true })
})

const cacheDir = () => path.join(root, ".weft", "cache")

const runIn = async (wf: Parameters<typeof run>[0], options: RunOptions = {}) => {
  const events: Array<Event> = []
  const result = await run(wf, { cwd: root, cache: { dir: cacheDir() }, onEvent: (e) => events.push(e), ...options })
  return { result, events }
}

/** What the step printed, as `stream text`, in order (weft's own lines left out). */
const printed = (events: ReadonlyArray<Event>, replayed: boolean) =>
  events.flatMap((e) =>
    e.type === "step:log" && e.step === "print" && (e.replayed === true) === replayed && !e.text.startsWith("weft:") ? [`${e.stream} ${e.text}`] : []
  )

const flipByteIn = (file: string) => {
  const bytes = readFileSync(file)
  bytes[bytes.length >> 1] ^= 1
  writeFileSync(file, bytes)
}

describe("output bigger than weft keeps in memory", () => {
  it("is stored as a blob of the cache entry, not inline, and a hit replays every line to the events and the log file", async () => {
    const wf = workflow("large").step("print", { cache: true }, printing)
    const first = await runIn(wf)
    expect(first.result.steps.print!.status).toBe("succeeded")
    const original = printed(first.events, false)
    expect(original.length).toBeGreaterThan(20_000)

    const store = makeFileStore(cacheDir())
    const [info] = await store.list()
    const entry = (await store.get(info!.key))!
    expect(entry.logs).toEqual([])
    expect(entry.output!.size).toBeGreaterThan(50 * memoryBytes)
    // The file it was captured in was copied into the store and removed.
    expect(readdirSync(path.join(cacheDir(), "output"))).toEqual([])

    const logs = path.join(root, ".weft", "logs")
    const second = await runIn(wf, { reporter: logFiles({ dir: logs }) })
    expect(second.result.steps.print!.status).toBe("cached")
    expect(printed(second.events, true)).toEqual(original)
    const [folder] = readdirSync(logs).filter((name) => !name.startsWith("."))
    const logLines = readFileSync(path.join(logs, folder!, "print.log"), "utf8").split("\n").filter((line) => / (stdout|stderr)\* /.test(line))
    expect(logLines).toHaveLength(original.length)
  })

  it("is kept beside the run journal, and --resume replays every line", async () => {
    const flag = path.join(root, "fail")
    writeFileSync(flag, "")
    const wf = workflow("large").step("print", printing).step("then", { needs: ["print"] }, () => {
      if (existsSync(flag)) throw new Error("failing once, to be resumed")
      return 1
    })
    const first = await runIn(wf, { journal: true, cache: { mode: "off", dir: cacheDir() } })
    expect(first.result.status).toBe("failed")
    const original = printed(first.events, false)
    expect(original.length).toBeGreaterThan(20_000)

    const runs = path.join(root, ".weft", "runs")
    const [runId] = readdirSync(runs)
    const record = parseJournal(readFileSync(path.join(runs, runId!, "journal.ndjson"), "utf8"))!.records.get("print")!
    expect(record.logs).toBeUndefined()
    expect(record.output!.file).toMatch(new RegExp(`^${runId}/output/print\\.[0-9a-f]+\\.out$`))
    expect(record.output!.bytes).toBeGreaterThan(50 * memoryBytes)

    rmSync(flag)
    const second = await runIn(wf, { resume: true, cache: { mode: "off", dir: cacheDir() } })
    expect(second.result.status).toBe("succeeded")
    expect(second.result.steps.print!.status).toBe("cached")
    expect(printed(second.events, true)).toEqual(original)
    // The resumed run's record refers to a copy in its own folder, which outlives the first run's.
    const resumedRun = readdirSync(runs).find((name) => name !== runId)!
    const again = parseJournal(readFileSync(path.join(runs, resumedRun, "journal.ndjson"), "utf8"))!.records.get("print")!
    expect(again.output).toEqual({ ...record.output, file: record.output!.file.replace(runId!, resumedRun) })
    rmSync(path.join(runs, runId!), { recursive: true })
    expect(readFileSync(path.join(runs, ...again.output!.file.split("/"))).length).toBe(record.output!.bytes)
  })

  it("is checked against its digest before a replay: a changed byte makes the step run again", async () => {
    const wf = workflow("large").step("print", { cache: true }, printing)
    await runIn(wf)
    const store = makeFileStore(cacheDir())
    const entry = (await store.get((await store.list())[0]!.key))!
    const digest = entry.output!.digest
    flipByteIn(path.join(cacheDir(), "blobs", digest.slice(0, 2), digest))
    const again = await runIn(wf)
    expect(again.result.steps.print!.status).toBe("succeeded")
    expect(printed(again.events, true)).toEqual([])
    expect(again.events).toContainEqual(expect.objectContaining({ type: "step:log", text: expect.stringContaining(`cache blob ${digest} does not match its digest`) }))

    // And in the journal: the step is run again, not replayed from a damaged file.
    const failing = workflow("large").step("print", printing).step("then", { needs: ["print"] }, () => {
      throw new Error("failing, to be resumed")
    })
    await runIn(failing, { journal: true, cache: { mode: "off", dir: cacheDir() } })
    const runs = path.join(root, ".weft", "runs")
    const [runId] = readdirSync(runs)
    const record = parseJournal(readFileSync(path.join(runs, runId!, "journal.ndjson"), "utf8"))!.records.get("print")!
    flipByteIn(path.join(runs, ...record.output!.file.split("/")))
    const resumed = await runIn(failing, { resume: true, cache: { mode: "off", dir: cacheDir() } })
    expect(resumed.result.steps.print!.status).toBe("succeeded")
    expect(resumed.events).toContainEqual(expect.objectContaining({ type: "step:log", step: "print", text: expect.stringMatching(/cannot replay the output recorded for print \(.* does not match its digest\); running it again/) }))
  })
})
