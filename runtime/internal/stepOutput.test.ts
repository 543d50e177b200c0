import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { StepRun } from "../Pipeline.ts"
import { captureOutput, replayOutput, replaySpilled, type StepOutput } from "./stepOutput.ts"

type Reported = Parameters<StepRun["report"]>[0]

/** A step whose `report` feeds its taps, as the executor's does, and keeps what it was told. */
const fakeStep = () => {
  const reported: Array<Reported> = []
  const step = {
    id: "a",
    features: {},
    report: (update: Reported) => {
      if (update.type === "step:log") step.features.logTap?.(update.stream, update.text)
      if (update.type === "step:logs") for (const text of update.texts) step.features.logTap?.(update.stream, text)
      if (update.type === "step:partial") step.features.partialTap?.(update.index, update.text)
      reported.push(update)
    }
  } as unknown as StepRun
  return { step, reported }
}

/** What a step was told, one entry per line or part: `log stdout one`, `part 0 p`. */
const flat = (reported: ReadonlyArray<Reported>) =>
  reported.flatMap((u) =>
    u.type === "step:log" ? [`log ${u.stream} ${u.text}`] : u.type === "step:logs" ? u.texts.map((t) => `log ${u.stream} ${t}`) : u.type === "step:partial" ? [`part ${u.index} ${u.text}`] : []
  )

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "weft-step-output-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** Logs 3,000 lines on two streams, and streams parts in two attempts: the second attempt's are the result's. */
const chatter = (step: StepRun) => {
  for (let i = 0; i < 1000; i++) step.report({ type: "step:log", stream: "stdout", text: `first ${i}` })
  step.report({ type: "step:partial", index: 0, text: "attempt 1 part 0" })
  step.report({ type: "step:log", stream: "stderr", text: "retrying" })
  for (let i = 0; i < 3; i++) {
    step.report({ type: "step:partial", index: i, text: `attempt 2 part ${i}` })
    for (let j = 0; j < 666; j++) step.report({ type: "step:log", stream: j % 2 === 0 ? "stdout" : "log", text: `then ${i}.${j} ${"é".repeat(j % 40)}` })
  }
}

const replayAll = async (output: StepOutput) => {
  const { step, reported } = fakeStep()
  if (output.spilled === undefined) replayOutput(step, output)
  else await replaySpilled(step, createReadStream(output.spilled.file, { highWaterMark: 1000 }), output.spilled.skipParts)
  return flat(reported)
}

describe("captureOutput", () => {
  it("keeps what outgrows its memory bound in a file, every line and the last attempt's parts in order, and replays them all", async () => {
    const kept = fakeStep()
    const inMemory = captureOutput(kept.step, { memoryBytes: 1_000_000 })
    chatter(kept.step)
    const all = inMemory.stop("the cache")
    expect(all.spilled).toBeUndefined()

    const { step, reported } = fakeStep()
    const capture = captureOutput(step, { memoryBytes: 4096, spillTo: () => path.join(dir, "sub", "out.bin") })
    chatter(step)
    const output = capture.stop("the cache")
    expect(output.logs).toEqual([])
    expect(output.spilled).toMatchObject({ file: path.join(dir, "sub", "out.bin"), skipParts: 1 })
    // Both replay what the step reported, less the first attempt's part.
    const expected = flat(reported).filter((line) => line !== "part 0 attempt 1 part 0")
    expect(await replayAll(all)).toEqual(expected)
    expect(await replayAll(output)).toEqual(expected)

    capture.discard()
    expect(existsSync(output.spilled!.file)).toBe(false)
  })

  it("without anywhere to spill, keeps what fits and says what it did not keep", () => {
    const { step } = fakeStep()
    const capture = captureOutput(step, { memoryBytes: 100 * (32 + 10) })
    for (let i = 0; i < 150; i++) step.report({ type: "step:log", stream: "stdout", text: `line ${String(i).padStart(5, "0")}` })
    const output = capture.stop("the cache")
    expect(output.logs).toHaveLength(101)
    expect(output.logs.at(-1)).toEqual({ stream: "stderr", text: "weft: … 50 more log lines (0.0 MiB) were not kept in the cache" })
  })

  it("a spill that cannot be written keeps a line saying so, not a part of the output", () => {
    const { step } = fakeStep()
    // A file where the folder should be: the spill cannot start.
    writeFileSync(path.join(dir, "file"), "")
    const capture = captureOutput(step, { memoryBytes: 100, spillTo: () => path.join(dir, "file", "out.bin") })
    for (let i = 0; i < 20; i++) step.report({ type: "step:log", stream: "stdout", text: `line ${i}` })
    const output = capture.stop("the cache")
    expect(output.spilled).toBeUndefined()
    expect(output.logs).toHaveLength(1)
    expect(output.logs[0]!.text).toMatch(/^weft: … the step's 20 log lines \(0\.0 MiB\) could not be kept in the cache \(/)
  })
})

describe("replaySpilled", () => {
  it("stops reading when its signal is aborted (the step was interrupted mid-replay)", async () => {
    const writing = fakeStep()
    const capture = captureOutput(writing.step, { memoryBytes: 0, spillTo: () => path.join(dir, "out.bin") })
    for (let i = 0; i < 100_000; i++) writing.step.report({ type: "step:log", stream: "stdout", text: `line ${i}` })
    const { spilled } = capture.stop("the cache")
    const controller = new AbortController()
    const { step, reported } = fakeStep()
    const aborting = { ...step, report: (update: Reported) => {
      step.report(update)
      controller.abort()
    } } as StepRun
    await replaySpilled(aborting, createReadStream(spilled!.file), 0, controller.signal)
    expect(reported).toHaveLength(1)
    expect(flat(reported).length).toBeLessThan(100_000)
  })

  it("replays a file cut short up to the cut, then says the rest could not be replayed", async () => {
    const { step } = fakeStep()
    const capture = captureOutput(step, { memoryBytes: 0, spillTo: () => path.join(dir, "out.bin") })
    for (let i = 0; i < 100; i++) step.report({ type: "step:log", stream: "stdout", text: `line ${i}` })
    const { spilled } = capture.stop("the cache")
    truncateSync(spilled!.file, spilled!.bytes - 3)
    const lines = await replayAll({ logs: [], partials: [], spilled })
    expect(lines.slice(0, 99)).toEqual(Array.from({ length: 99 }, (_, i) => `log stdout line ${i}`))
    expect(lines[99]).toMatch(/^log stderr weft: … the rest of the output could not be replayed \(cut short\)/)
    expect(readdirSync(dir)).toEqual(["out.bin"])
  })
})
