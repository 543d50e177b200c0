/**
 * "The plain and JSON reporters show the same truth." One run feeds both
 * reporters; the JSON lines, folded with `SummaryBuilder`, must say exactly
 * what the plain text says about every step (status, attempts, duration,
 * error), and the plain text must keep each step's lines its own even when
 * steps print at the same time (reliability plan, test 16, stream mode).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { cmd } from "../../dsl/Command.ts"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event, EventOf } from "../Event.ts"
import type { Reporter } from "../Reporter.ts"
import { run } from "../Run.ts"
import type { RunResult } from "../RunState.ts"
import { formatDuration, showsParallelism, SummaryBuilder, type Summary } from "../Summary.ts"
import { json } from "./json.ts"
import { plain } from "./plain.ts"

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))
const lines = 40

/** A child process printing numbered lines, each in two writes with a pause between: partial lines on the pipe. */
const printer = (name: string) =>
  cmd([process.execPath, "-e", `
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
    ;(async () => {
      for (let i = 0; i < ${lines}; i++) {
        process.stdout.write("${name} line " + i)
        await sleep(1)
        process.stdout.write(" end\\n")
      }
    })()
  `])

/** Succeeds, fails, is skipped, retries, times out, streams parts, and logs concurrently from functions and commands. */
const contract = workflow("contract", { concurrency: 12 })
  .step("ok", (_, ctx) => {
    ctx.log("all good")
    return 1
  })
  .step("flaky", { retry: 2 }, (_, ctx) => {
    if (ctx.attempt === 1) throw new Error("first attempt fails\nwith a second line")
    return ctx.attempt
  })
  .step("broken", { retry: 1 }, () => {
    throw new Error("always broken:\n  detail one\n  detail two")
  })
  .step("dependent", { needs: ["broken"] }, ({ broken }) => broken)
  .step("optional", { optional: true }, () => {
    throw new Error("optional failure")
  })
  .step("after-optional", { needs: ["optional"] }, ({ optional }) => optional ?? "none")
  .step("slowpoke", { timeout: 30 }, (_, ctx) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 5000)
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer)
        reject(ctx.signal.reason)
      })
    }))
  .each("chatty", ["a", "b"], (name) => async (_, ctx) => {
    for (let i = 0; i < lines; i++) {
      ctx.log(`chatty ${name} line ${i}`)
      if (i % 5 === 0) console.log(`chatty ${name} console ${i}\nchatty ${name} console ${i} continued`)
      await tick()
    }
  })
  .step("print-x", printer("x"))
  .step("print-y", printer("y"))
  // Streams its result in parts, between log lines, while the chatty steps log.
  .step("stream", async function*(_, ctx) {
    ctx.log("writing the report")
    yield "## Part one\nits second line"
    await tick()
    ctx.emit({ part: 2, words: ["a", "b"] })
    yield "## Part three"
    ctx.log("report written")
  })
  .step("join", { after: ["ok", "flaky", "chatty", "print-x", "print-y", "stream"] }, () => "joined")

interface Captured {
  readonly plainText: string
  readonly jsonText: string
  readonly events: ReadonlyArray<Event>
  readonly result: RunResult
}

let captured: Captured

beforeAll(async () => {
  let plainText = ""
  let jsonText = ""
  const events: Array<Event> = []
  const reporters = [plain({ write: (text) => void (plainText += text) }), json({ write: (text) => void (jsonText += text) })]
  const both: Reporter = { onEvent: (event) => reporters.forEach((r) => r.onEvent(event)) }
  const result = await run(contract, { failFast: false, reporter: both, onEvent: (event) => void events.push(event) })
  captured = { plainText, jsonText, events, result }
})

const fromJson = (): { events: Array<Event>; summary: Summary } => {
  const events = captured.jsonText.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Event)
  const builder = new SummaryBuilder()
  events.forEach((event) => builder.add(event))
  return { events, summary: builder.summary() }
}

const ids = () => (captured.events[0] as EventOf<"run:start">).steps.map((s) => s.id)

/** The plain output cut into its parts: lines before the summary table, the table rows, the lines after. */
const plainParts = () => {
  const all = captured.plainText.split("\n")
  const header = all.findIndex((line) => /^  step +status +duration$/.test(line))
  const blank = all.indexOf("", header)
  return { stream: all.slice(0, header - 1), rows: all.slice(header + 1, blank), footer: all.slice(blank + 1) }
}

const prefixed = /^(\S+) +│ (.*)$/
const startLine = /^▸ (\S+) started(?: \(attempt (\d+)\))?(?: · ETA ~\S+)?$/
const statusLine = /^([✓✗○-]) (\S+) (succeeded|failed|skipped|cancelled)(?: \(optional\))?(?: in \S+ \S+)?(?:: (.*))?$/

describe("plain and JSON reporters: the same truth", () => {
  it("the workflow covers every outcome (else the contract proves little)", () => {
    const statuses = new Map(Object.entries(captured.result.steps).map(([id, s]) => [id, s.status]))
    expect(statuses.get("ok")).toBe("succeeded")
    expect(statuses.get("flaky")).toBe("succeeded")
    expect(statuses.get("broken")).toBe("failed")
    expect(statuses.get("dependent")).toBe("skipped")
    expect(statuses.get("optional")).toBe("failed")
    expect(statuses.get("slowpoke")).toBe("failed")
    expect(captured.result.status).toBe("failed")
    // The chatty steps really logged at the same time.
    const chatty = captured.events.filter((e): e is EventOf<"step:log"> => e.type === "step:log" && e.step.startsWith("chatty:"))
    const switches = chatty.filter((e, i) => i > 0 && e.step !== chatty[i - 1]!.step).length
    expect(switches).toBeGreaterThan(10)
    const parts = captured.events.filter((e): e is EventOf<"step:partial"> => e.type === "step:partial")
    expect(parts.map((e) => [e.step, e.index, e.text])).toEqual([
      ["stream", 0, "## Part one\nits second line"],
      ["stream", 1, "{ part: 2, words: [ 'a', 'b' ] }"],
      ["stream", 2, "## Part three"]
    ])
    expect(captured.result.outputs.stream).toEqual(["## Part one\nits second line", "## Part three"])
  })

  it("JSON is lossless: one parseable object per line, equal to the events emitted", () => {
    expect(captured.jsonText.endsWith("\n")).toBe(true)
    expect(fromJson().events).toEqual(captured.events)
    expect(fromJson().events.filter((e) => e.type === "step:partial")).toHaveLength(3)
  })

  it("the plain summary table shows each step's status, duration and attempts as the JSON events fold to", () => {
    const { summary } = fromJson()
    const rows = new Map(plainParts().rows.map((row) => {
      const m = /^  (\S+) +(\S+) +(\d+(?:\.\d+)? (?:ms|s|min \d+ s))(?:  (\d+) attempts)?(?:  optional)?$/.exec(row)
      expect(m, `an unreadable table row: ${JSON.stringify(row)}`).not.toBeNull()
      return [m![1]!, { status: m![2]!, duration: m![3]!, attempts: m![4] === undefined ? undefined : Number(m![4]) }]
    }))
    expect([...rows.keys()]).toEqual(summary.steps.map((s) => s.id))
    for (const step of summary.steps) {
      expect(rows.get(step.id), step.id).toEqual({
        status: step.status,
        duration: formatDuration(step.durationMs),
        attempts: step.attempts > 1 ? step.attempts : undefined
      })
    }
    expect(summary.steps.find((s) => s.id === "flaky")?.attempts).toBe(2)
    expect(summary.steps.find((s) => s.id === "broken")?.attempts).toBe(2)
  })

  it("the plain footer shows the run's status, critical path and parallelism as JSON folds to", () => {
    const { summary } = fromJson()
    expect(plainParts().footer.slice(0, 3)).toEqual([
      `✗ contract ${summary.status} in ${formatDuration(summary.durationMs)}`,
      `  critical path: ${summary.criticalPath.join(" → ")} (${formatDuration(summary.criticalPathMs)})`,
      ...(showsParallelism(summary) ? [`  parallelism: ${summary.parallelism.toFixed(2)}× (busy step time / wall time)`] : [plainParts().footer[2]])
    ])
    // Skipped steps never ran: they decided nothing.
    expect(summary.criticalPath).not.toContain("dependent")
  })

  it("an optional step that failed says so, in JSON, on its status line and in the table", () => {
    const end = fromJson().events.find((e): e is EventOf<"step:end"> => e.type === "step:end" && e.step === "optional")
    expect(end).toMatchObject({ status: "failed", optional: true })
    expect(fromJson().events.find((e) => e.type === "step:end" && e.step === "broken")).not.toHaveProperty("optional")
    expect(plainParts().stream).toContain("✗ optional failed (optional) in " + formatDuration(end!.durationMs) + ": optional failure")
    expect(plainParts().rows.find((r) => r.startsWith("  optional "))).toMatch(/  optional$/)
  })

  it("each step's start (each attempt) appears once in plain, as JSON has it", () => {
    const starts = fromJson().events.flatMap((e) => (e.type === "step:start" ? [`${e.step} ${e.attempt}`] : []))
    const shown = plainParts().stream.flatMap((line) => {
      const m = startLine.exec(line)
      return m === null ? [] : [`${m[1]} ${m[2] ?? 1}`]
    })
    expect(shown.sort()).toEqual(starts.sort())
    expect(shown).toContain("flaky 2")
  })

  it("each step's end appears once in plain, with the JSON status and the first line of its error", () => {
    const { events } = fromJson()
    const shown = plainParts().stream.flatMap((line) => {
      const m = statusLine.exec(line)
      return m === null ? [] : [{ step: m[2]!, status: m[3]!, error: m[4] }]
    })
    const ends = events.filter((e): e is EventOf<"step:end"> => e.type === "step:end")
    expect(shown.map((s) => s.step).sort()).toEqual(ends.map((e) => e.step).sort())
    for (const end of ends) {
      expect(shown.find((s) => s.step === end.step)).toEqual({ step: end.step, status: end.status, error: end.error?.split("\n")[0] })
    }
  })
})

describe("plain: each line belongs to exactly one step", () => {
  it("every line before the summary is the header, a status line, or one step's prefixed line", () => {
    const known = new Set(ids())
    const [header, ...rest] = plainParts().stream
    expect(header).toMatch(/^weft ▸ contract: \d+ steps, concurrency 12$/)
    for (const line of rest) {
      const m = prefixed.exec(line)
      if (m !== null) {
        expect(known.has(m[1]!), `unknown prefix in ${JSON.stringify(line)}`).toBe(true)
        // No second prefix: another step's text never continues on this line.
        expect(m[2], JSON.stringify(line)).not.toMatch(/│/)
        continue
      }
      const started = startLine.exec(line)
      if (started !== null) {
        expect(known.has(started[1]!), `unknown step in ${JSON.stringify(line)}`).toBe(true)
        continue
      }
      expect(line, "a line that belongs to no step").toMatch(statusLine)
    }
  })

  it("every logged line and streamed part shows once, whole, in order, under its own step's prefix", () => {
    const { events } = fromJson()
    const shownBy = new Map<string, Array<string>>()
    for (const line of plainParts().stream) {
      const m = prefixed.exec(line)
      if (m !== null) shownBy.set(m[1]!, [...(shownBy.get(m[1]!) ?? []), m[2]!])
    }
    // What JSON says each step printed, as checks on plain's lines in order.
    const expectedBy = new Map<string, Array<(text: string) => boolean>>()
    const expectLine = (step: string, check: (text: string) => boolean) => expectedBy.set(step, [...(expectedBy.get(step) ?? []), check])
    for (const event of events) {
      if (event.type === "step:log" || event.type === "step:partial") {
        for (const text of event.text.split("\n")) expectLine(event.step, (shown) => shown === text)
      }
      if (event.type === "step:retry") {
        event.error.split("\n").forEach((text, i) =>
          expectLine(event.step, (shown) => shown.includes(text) && (i > 0 || shown.startsWith(`attempt ${event.attempt} failed`))))
      }
      if (event.type === "step:end" && event.error !== undefined) {
        for (const text of event.error.split("\n").slice(1)) expectLine(event.step, (shown) => shown === text)
      }
    }
    expect([...shownBy.keys()].sort()).toEqual([...expectedBy.keys()].sort())
    for (const [step, checks] of expectedBy) {
      const shown = shownBy.get(step) ?? []
      expect(shown.length, `${step}: ${JSON.stringify(shown)}`).toBe(checks.length)
      checks.forEach((check, i) => expect(check(shown[i]!), `${step} line ${i}: ${JSON.stringify(shown[i])}`).toBe(true))
    }
    // The commands' lines arrived in two writes each and still show whole.
    expect(shownBy.get("print-x")).toEqual(Array.from({ length: lines }, (_, i) => `x line ${i} end`))
    expect(shownBy.get("print-y")).toEqual(Array.from({ length: lines }, (_, i) => `y line ${i} end`))
    // The parts show among the step's log lines, as they arrived, each of their lines prefixed.
    expect(shownBy.get("stream")).toEqual([
      "writing the report",
      "## Part one",
      "its second line",
      "{ part: 2, words: [ 'a', 'b' ] }",
      "## Part three",
      "report written"
    ])
  })
})
