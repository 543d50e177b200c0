/**
 * What a run leaves in `.weft/history/`: its record under its run id, its
 * report, its steps' durations (which feed the next run's priorities and
 * `run:start` estimates), and the run count; kept in bounds and safe between
 * writers.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { afterAll, describe, expect, it } from "vitest"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event, EventOf } from "../Event.ts"
import { compile } from "../Machine.ts"
import { run } from "../Run.ts"
import { forgetAfterRuns, nextRunNumber, readDurations } from "./durations.ts"
import { historyDir, historyFile, legacyHistoryFile, readRuns, type HistoryRecord } from "./History.ts"
import { recordRun } from "./recordRun.ts"
import { readRunDetail, type RunDetail, type StepDetail } from "./RunDetail.ts"
import { makeRunId } from "./runId.ts"
import { runVirtual } from "../../test/fixtures/virtual.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
/** A fresh weft folder (`.weft`), where runs told of it keep their history. */
const cacheDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-record-"))
  dirs.push(dir)
  return path.join(dir, ".weft")
}


const sleep = (ms: number) => () => Effect.sleep(ms)

describe("a run's history", () => {
  it("keeps a record and a report under the run id announced by run:start", async () => {
    const dir = cacheDir()
    let tries = 0
    const wf = workflow("shop", { concurrency: 2 })
      .step("fetch", sleep(30))
      .step("flaky", { retry: { times: 1, delay: 0 } }, () => Effect.andThen(Effect.sleep(10), ++tries === 1 ? Effect.fail(new Error("first\nsecond line")) : Effect.void))
      .step("bad", { after: ["fetch"] }, () => Effect.andThen(Effect.sleep(5), Effect.fail(new Error("disk full\nat somewhere"))))
      .step("after-bad", { after: ["bad"] }, sleep(1))
    const { start } = await runVirtual(wf, { weftDir: dir, cache: { mode: "off" }, failFast: false })
    expect(start.run).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/)
    const [record] = await readRuns(dir)
    expect(record).toMatchObject({ id: start.run, workflow: "shop", status: "failed", durationMs: 35, steps: { ran: 3, succeeded: 2, failed: 1, skipped: 1 } })
    const detail = (await readRunDetail(historyDir(dir), start.run))!
    expect(detail).toMatchObject({ id: start.run, status: "failed", durationMs: 35, concurrency: 2, criticalPathMs: 35 })
    // after-bad was skipped: it never ran, so it decided nothing.
    expect(detail.criticalPath).toEqual(["fetch", "bad"])
    const byId = Object.fromEntries(detail.steps.map((s) => [s.id, s]))
    expect(byId.fetch).toMatchObject({ status: "succeeded", startMs: 0, durationMs: 30, attempts: 1, cached: false })
    expect(byId.flaky).toMatchObject({ status: "succeeded", startMs: 0, durationMs: 20, attempts: 2 })
    expect(byId.bad).toMatchObject({ status: "failed", startMs: 30, durationMs: 5, error: "disk full" })
    expect(byId["after-bad"]).toMatchObject({ status: "skipped", attempts: 0 })
    expect(byId["after-bad"]!.startMs).toBeUndefined()
    // Busy 30 + 20 + 5 ms over 35 ms of wall time.
    expect(detail.parallelism).toBeCloseTo(55 / 35)
  })

  it("marks cache answers in the report, with what they saved, and keeps them out of the durations", async () => {
    const dir = cacheDir()
    const cache = { root: path.dirname(dir) }
    const wf = workflow("cached").step("a", { cache: true }, sleep(20))
    // Real time: storing the entry is real I/O, which virtual time would skip past.
    const events: Array<Event> = []
    const first = await run(wf, { cache, weftDir: dir, onEvent: (e) => events.push(e) })
    const second = await run(wf, { cache, weftDir: dir, onEvent: (e) => events.push(e) })
    expect([first.steps.a!.status, second.steps.a!.status]).toEqual(["succeeded", "cached"])
    const [ran, answered] = events.filter((e): e is EventOf<"step:end"> => e.type === "step:end")
    const id = (events.filter((e) => e.type === "run:start")[1] as EventOf<"run:start">).run
    const [a] = (await readRunDetail(historyDir(dir), id))!.steps
    expect(a).toMatchObject({ status: "cached", cached: true, savedMs: answered!.savedMs, attempts: 0, startMs: answered!.time })
    expect(Object.fromEntries(await readDurations(dir, "cached"))).toEqual({ a: ran!.durationMs })
    expect((await readRuns(dir)).map((r) => r.steps)).toEqual([{ ran: 1, succeeded: 1 }, { ran: 0, cached: 1 }])
  })

  it("a given runId names the run; one that could leave the history folder is refused", async () => {
    const dir = cacheDir()
    const { start } = await runVirtual(workflow("named").step("a", sleep(1)), { weftDir: dir, cache: { mode: "off" }, runId: "my-run.1" })
    expect(start.run).toBe("my-run.1")
    expect((await readRuns(dir)).map((r) => r.id)).toEqual(["my-run.1"])
    expect(() => compile(workflow("w").step("a", () => 1), { runId: "../../etc" })).toThrow(/runId must be letters/)
  })

  it("run ids read as the local start time and differ within a second", () => {
    const at = new Date(2026, 10, 25, 22, 54, 47).getTime()
    const ids = new Set(Array.from({ length: 50 }, () => makeRunId(at)))
    for (const id of ids) expect(id).toMatch(/^20261125-225447-[0-9a-f]{4}$/)
    expect(ids.size).toBeGreaterThan(45)
  })
})

describe("step durations from history", () => {
  it("count only bodies that ran and succeeded; the median feeds the next run's estimates and priorities", async () => {
    const dir = cacheDir()
    // With one slot, the scheduler starts first the step heading the longest known chain.
    const wf = (ms: Record<string, number>) => workflow("prio", { concurrency: 1 })
      .step("short", sleep(ms.short!))
      .step("long", sleep(ms.long!))
      .step("after-long", { after: ["long"] }, sleep(1))
      .step("guessed", { estimate: 7 }, sleep(1))
    const first = await runVirtual(wf({ short: 50, long: 10 }), { weftDir: dir, cache: { mode: "off" } })
    expect(first.start.steps.map((s) => s.estimateMs)).toEqual([undefined, undefined, undefined, 7])
    await runVirtual(wf({ short: 70, long: 12 }), { weftDir: dir, cache: { mode: "off" } })
    await runVirtual(wf({ short: 60, long: 11 }), { weftDir: dir, cache: { mode: "off" } })
    const durations = await readDurations(dir, "prio")
    expect(Object.fromEntries(durations)).toEqual({ short: 60, long: 11, "after-long": 1, guessed: 1 })
    expect(await nextRunNumber(dir, "prio")).toBe(4)

    const next = await runVirtual(wf({ short: 1, long: 1 }), { weftDir: dir, cache: { mode: "off" }, durations })
    // History supersedes an `estimate` once the step has run: "guessed" said 7 ms and took 1.
    expect(next.start.steps.map((s) => [s.id, s.estimateMs])).toEqual([["short", 60], ["long", 11], ["after-long", 1], ["guessed", 1]])
    const order = next.events.flatMap((e) => (e.type === "step:start" ? [e.step] : []))
    expect(order[0]).toBe("short")
    const plain = await runVirtual(wf({ short: 1, long: 1 }), { weftDir: dir, cache: { mode: "off" } })
    expect(plain.events.find((e) => e.type === "step:start")).toMatchObject({ step: "guessed" })
  })

  it("keeps the last five of each step, and ignores cached and failed steps", async () => {
    const dir = cacheDir()
    for (let i = 1; i <= 7; i++) {
      await recordRun(dir, runOf(`r${i}`, [step("a", i * 10), step("b", 999, { status: "cached", attempts: 0, cached: true }), step("c", 999, { status: "failed" })]))
    }
    // a's last five: 30, 40, 50, 60, 70.
    expect(Object.fromEntries(await readDurations(dir, "w"))).toEqual({ a: 50 })
    expect(await nextRunNumber(dir, "w")).toBe(8)
    expect(await readDurations(dir, "other")).toEqual(new Map())
    expect(await nextRunNumber(dir, "other")).toBe(1)
    // An even count takes the mean of the middle two.
    const even = cacheDir()
    for (const ms of [10, 20, 40, 1000]) await recordRun(even, runOf(`e${ms}`, [step("a", ms)]))
    expect((await readDurations(even, "w")).get("a")).toBe(30)
  })

  it(`forgets a step missing from ${forgetAfterRuns} runs, and survives a damaged file`, async () => {
    const dir = cacheDir()
    await recordRun(dir, runOf("old", [step("gone", 5), step("a", 1)]))
    for (let i = 1; i < forgetAfterRuns; i++) await recordRun(dir, runOf(`r${i}`, [step("a", 1)]), { keep: 3 })
    expect([...(await readDurations(dir, "w")).keys()].sort()).toEqual(["a", "gone"])
    await recordRun(dir, runOf("last", [step("a", 1)]), { keep: 3 })
    expect([...(await readDurations(dir, "w")).keys()]).toEqual(["a"])
    const file = path.join(historyDir(dir), "steps", "w.json")
    writeFileSync(file, "{\"runs\": 3, \"ste")
    expect(await readDurations(dir, "w")).toEqual(new Map())
  })
})

describe("the history folder", () => {
  it("keeps the newest runs' reports only, with their records", async () => {
    const dir = cacheDir()
    for (let i = 0; i < 6; i++) await recordRun(dir, runOf(`r${i}`, [step("a", 1)]), { keep: 4 })
    expect((await readRuns(dir)).map((r) => r.id)).toEqual(["r2", "r3", "r4", "r5"])
    expect(readdirSync(historyDir(dir)).filter((f) => f.endsWith(".json")).sort()).toEqual(["r2.json", "r3.json", "r4.json", "r5.json"])
  })

  it("reads the records of .weft/history.ndjson and moves them into the folder on the next run", async () => {
    const dir = cacheDir()
    mkdirSync(path.dirname(legacyHistoryFile(dir)), { recursive: true })
    writeFileSync(legacyHistoryFile(dir), [recordOf("old1"), recordOf("old2")].map((r) => `${JSON.stringify(r)}\n`).join(""))
    expect((await readRuns(dir)).map((r) => r.id)).toEqual(["old1", "old2"])
    expect(await nextRunNumber(dir, "w")).toBe(3)
    await recordRun(dir, runOf("new", [step("a", 1)]))
    expect(existsSync(legacyHistoryFile(dir))).toBe(false)
    expect((await readRuns(dir)).map((r) => r.id)).toEqual(["old1", "old2", "new"])
    expect(await nextRunNumber(dir, "w")).toBe(4)
    expect(existsSync(historyFile(dir))).toBe(true)
  })

  it("loses no run to writers recording at once", async () => {
    const dir = cacheDir()
    // Trimming rewrites the list: unlocked writers would drop each other's records.
    await Promise.all(Array.from({ length: 20 }, (_, i) => recordRun(dir, runOf(`p${i}`, [step(`s${i}`, i)]), { keep: 10 })))
    const kept = (await readRuns(dir)).map((r) => r.id)
    expect(kept).toHaveLength(10)
    expect(new Set(kept).size).toBe(10)
    expect(await nextRunNumber(dir, "w")).toBe(21)
    expect((await readDurations(dir, "w")).size).toBe(20)
    expect(readdirSync(historyDir(dir)).filter((f) => f.endsWith(".json")).sort()).toEqual(kept.map((id) => `${id}.json`).sort())
  })
})

const step = (id: string, durationMs: number, over: Partial<StepDetail> = {}): StepDetail => ({
  id, status: "succeeded", startMs: 0, durationMs, attempts: 1, cached: false, ...over
})

const recordOf = (id: string): HistoryRecord => ({
  id, workflow: "w", status: "succeeded", startedAt: 0, durationMs: 1, steps: { ran: 1, succeeded: 1 }, savedMs: 0, memo: {}
})

const runOf = (id: string, steps: ReadonlyArray<StepDetail>): { record: HistoryRecord; detail: RunDetail } => ({
  record: recordOf(id),
  detail: { id, workflow: "w", status: "succeeded", startedAt: 0, durationMs: 1, concurrency: 1, steps, criticalPath: [], criticalPathMs: 0, parallelism: 1, savedMs: 0 }
})
