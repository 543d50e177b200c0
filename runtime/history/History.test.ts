import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { appendHistory, historyFile, readHistory, type HistoryRecord } from "./History.ts"
import { hitRates } from "./hitRates.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
const fileIn = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-history-"))
  dirs.push(dir)
  return historyFile(path.join(dir, ".weft"))
}

const record = (id: string, cached = 1, ran = 1): HistoryRecord => ({
  id, workflow: "w", status: "succeeded", startedAt: 0, durationMs: 1, steps: { ran, cached, succeeded: ran }, savedMs: 5,
  memo: { fetch: { calls: 4, hits: 2, coalesced: 1, misses: 1, made: 1, savedMs: 5 } }
})

describe("run history", () => {
  it("lives in weft's folder and keeps the newest records", async () => {
    const file = fileIn()
    expect(path.relative(path.dirname(path.dirname(file)), file)).toBe(path.join("history", "runs.ndjson"))
    expect(path.basename(path.dirname(path.dirname(file)))).toBe(".weft")
    for (let i = 0; i < 8; i++) await appendHistory(file, record(`r${i}`), { keep: 5 })
    expect((await readHistory(file)).map((r) => r.id)).toEqual(["r3", "r4", "r5", "r6", "r7"])
    expect((await readHistory(file, { last: 2 })).map((r) => r.id)).toEqual(["r6", "r7"])
  })

  it("loses no record to concurrent appends, and skips damaged lines", async () => {
    const file = fileIn()
    await Promise.all(Array.from({ length: 30 }, (_, i) => appendHistory(file, record(`r${i}`), { keep: 25 })))
    expect(await readHistory(file)).toHaveLength(25)
    appendFileSync(file, "{not json\n")
    await appendHistory(file, record("last"), { keep: 25 })
    expect((await readHistory(file)).at(-1)!.id).toBe("last")
    expect(await readHistory(`${file}.missing`)).toEqual([])
    writeFileSync(file, "")
    expect(await readHistory(file)).toEqual([])
  })

  it("hit rates: cached / (cached + ran), memo (hits + coalesced) / calls", () => {
    expect(hitRates([record("a", 3, 1), record("b", 0, 4)])).toEqual({
      runs: 2, steps: { cached: 3, ran: 5, rate: 3 / 8 }, memo: { fetch: { calls: 8, answered: 6, rate: 6 / 8 } }, savedMs: 10
    })
    expect(hitRates([]).steps.rate).toBeUndefined()
  })
})
