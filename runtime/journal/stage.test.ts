import * as Effect from "effect/Effect"
import { describe, expect, it, vi } from "vitest"
import type { StepRun } from "../Pipeline.ts"
import { serializeValue } from "../cache/serialize.ts"
import { captureOutput } from "../internal/stepOutput.ts"
import type { JournalRecord } from "./Journal.ts"
import { journaling } from "./stage.ts"

type Reported = Parameters<StepRun["report"]>[0]

/** A step whose `report` feeds its taps, as the executor's does, and keeps what it was told. */
const fakeStep = () => {
  const reported: Array<Reported> = []
  const step = {
    id: "a",
    cached: undefined,
    features: {},
    report: (update: Reported) => {
      if (update.type === "step:log") step.features.logTap?.(update.stream, update.text)
      if (update.type === "step:partial") step.features.partialTap?.(update.index, update.text)
      reported.push(update)
    }
  } as unknown as StepRun
  return { step, reported }
}

const setup = (records: Array<JournalRecord>, resumed?: ReadonlyMap<string, JournalRecord>) => ({
  writer: { run: "r2", record: (r: JournalRecord) => void records.push(r), close: async () => {}, discard: async () => {} },
  resumed: resumed === undefined ? undefined : { run: "r1", records: resumed },
  listen: () => {},
  keyOf: async () => "k",
  now: () => 0
})

/** A body that logs, streams and logs again, as a step does. */
const body = (step: StepRun) =>
  Effect.sync(() => {
    step.report({ type: "step:log", stream: "stdout", text: "one" })
    step.report({ type: "step:partial", index: 0, text: "p0" })
    step.report({ type: "step:log", stream: "stderr", text: "two" })
    return 7
  })

describe("journaling", () => {
  it("records a step's log lines and parts, also when a stage inside it captures them too", async () => {
    const records: Array<JournalRecord> = []
    const { step } = fakeStep()
    let inner: unknown
    // As the cache stage does: captures inside the journal stage.
    const capturing = Effect.suspend(() => {
      const capture = captureOutput(step)
      return Effect.map(body(step), (value) => {
        inner = capture.stop("the cache")
        return value
      })
    })
    expect(await Effect.runPromise(journaling(setup(records))(step, capturing))).toBe(7)
    const output = { logs: [{ stream: "stdout", text: "one" }, { stream: "stderr", text: "two" }], partials: [{ text: "p0", afterLogs: 1 }] }
    expect(inner).toEqual(output)
    expect(records).toMatchObject([{ step: "a", key: "k", ...output }])
    expect(step.features.logTap).toBeUndefined()
  })

  it("without a runs folder to spill to, keeps what fits in memory, and says how much it did not", async () => {
    vi.stubEnv("WEFT_OUTPUT_MEMORY_BYTES", String(1000 * (32 + 8)))
    try {
      const records: Array<JournalRecord> = []
      const { step } = fakeStep()
      const chatty = Effect.sync(() => {
        for (let i = 0; i < 1002; i++) step.report({ type: "step:log", stream: "stdout", text: `line ${String(i).padStart(3, "0")}` })
        return 1
      })
      await Effect.runPromise(journaling(setup(records))(step, chatty))
      const logs = records[0]!.logs!
      expect(logs).toHaveLength(1001)
      expect(logs.at(-2)!.text).toBe("line 999")
      expect(logs.at(-1)).toEqual({ stream: "stderr", text: "weft: … 2 more log lines (0.0 MiB) were not kept in the run journal" })
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it("replays a recorded step's lines and parts, marked replayed, in the order they came; none for an older record", async () => {
    const value = Buffer.from(serializeValue(7, { step: "a" })).toString("base64")
    const recorded = { step: "a", key: "k", value, durationMs: 3, logs: [{ stream: "stdout" as const, text: "one" }, { stream: "stderr" as const, text: "two" }], partials: [{ text: "p0", afterLogs: 1 }] }
    for (const [record, expected] of [
      [recorded, [["step:log", "one"], ["step:partial", "p0"], ["step:log", "two"]]],
      [{ step: "a", key: "k", value, durationMs: 3 }, []]
    ] as const) {
      const records: Array<JournalRecord> = []
      const { step, reported } = fakeStep()
      const result = await Effect.runPromise(journaling(setup(records, new Map([["a", record]])))(step, Effect.die("must not run")))
      expect(result).toBe(7)
      expect(step.cached).toEqual({ savedMs: 3 })
      expect(reported[0]).toMatchObject({ type: "step:log", text: "weft: resumed from run r1", replayed: true })
      expect(reported.slice(1)).toEqual(expected.map(([kind, text]) =>
        kind === "step:log" ? expect.objectContaining({ type: kind, text, replayed: true }) : { type: kind, index: 0, text, replayed: true }
      ))
      expect(records).toEqual([record])
    }
  })
})
