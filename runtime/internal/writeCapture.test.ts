/**
 * Direct writes to `process.stdout` / `process.stderr` from a function step
 * are its log lines, masked and attributed like its `console` output, while
 * weft's own reporters write past the capture to the real stream.
 */
import * as Effect from "effect/Effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { sh } from "../../dsl/Command.ts"
import { secret } from "../../dsl/Permissions.ts"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { json } from "../reporters/json.ts"
import { run } from "../Run.ts"

const token = `wr'it"e-\\token-value`
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Whatever reaches the real streams during a test, which is what the terminal would show. */
let reached: { stdout: Array<string>; stderr: Array<string> }
let restore: () => void
beforeEach(() => {
  process.env.WEFT_W_TOKEN = token
  reached = { stdout: [], stderr: [] }
  const { stdout, stderr } = process
  const writes = { stdout: stdout.write, stderr: stderr.write }
  stdout.write = ((chunk: unknown) => reached.stdout.push(String(chunk)) > 0) as typeof stdout.write
  stderr.write = ((chunk: unknown) => reached.stderr.push(String(chunk)) > 0) as typeof stderr.write
  restore = () => {
    stdout.write = writes.stdout
    stderr.write = writes.stderr
  }
})
afterEach(() => {
  restore()
  delete process.env.WEFT_W_TOKEN
})

const logsOf = (events: ReadonlyArray<Event>) =>
  events.flatMap((e) => (e.type === "step:log" ? [`${e.step} ${e.stream}: ${e.text}`] : []))

describe("a step's direct writes to process.stdout and process.stderr", () => {
  it("are its log lines, masked, whole lines even when written in pieces while another step writes; the JSON reporter's stdout holds only events", async () => {
    const wf = workflow("direct", { permissions: { env: [secret("WEFT_W_TOKEN")] } })
      .step("a", async (_, ctx) => {
        process.stdout.write(`a1 ${ctx.env.WEFT_W_TOKEN!.slice(0, 5)}`)
        await pause(30)
        process.stdout.write(`${ctx.env.WEFT_W_TOKEN!.slice(5)} a2\nsecond\n`)
        process.stderr.write(Buffer.from(`a err ${ctx.env.WEFT_W_TOKEN}\n`), () => {})
        process.stdout.write("unfinished at the end")
        return 1
      })
      .step("b", async () => {
        await pause(10)
        process.stdout.write("b1\n", "utf8")
        return 2
      })
      .step("sync", () => {
        process.stdout.write(`sync ${process.env.WEFT_W_TOKEN}`)
        return 3
      })
    const events: Array<Event> = []
    const result = await run(wf, { cache: { mode: "off" }, reporter: json(), onEvent: (e) => events.push(e) })
    expect(result.status).toBe("succeeded")
    const logs = logsOf(events)
    expect(logs.filter((line) => line.startsWith("a "))).toEqual([
      "a stdout: a1 *** a2",
      "a stdout: second",
      "a stderr: a err ***",
      "a stdout: unfinished at the end"
    ])
    expect(logs.filter((line) => !line.startsWith("a ")).sort()).toEqual(["b stdout: b1", "sync stdout: sync ***"])
    // The reporter's lines reached stdout past the capture, and nothing else did.
    const lines = reached.stdout.join("").split("\n").filter((line) => line !== "")
    expect(lines.length).toBe(events.length)
    expect(lines.map((line) => (JSON.parse(line) as Event).type)).toEqual(events.map((e) => e.type))
    expect(reached.stderr).toEqual([])
    expect(reached.stdout.join("")).not.toContain("wr'it")
  })

  it("in an Effect step, where AsyncLocalStorage does not follow the fiber, are its log lines too", async () => {
    const wf = workflow("effects", { permissions: { env: [secret("WEFT_W_TOKEN")] } }).step("e", (_, ctx) =>
      Effect.gen(function*() {
        yield* Effect.sync(() => process.stdout.write(`e1 ${ctx.env.WEFT_W_TOKEN}\n`))
        yield* Effect.sleep(5)
        yield* Effect.sync(() => process.stderr.write("e2 after a sleep\n"))
        return 1
      }))
    const events: Array<Event> = []
    const result = await run(wf, { cache: { mode: "off" }, onEvent: (e) => events.push(e) })
    expect(result.status).toBe("succeeded")
    expect(logsOf(events)).toEqual(["e stdout: e1 ***", "e stderr: e2 after a sleep"])
    expect(reached).toEqual({ stdout: [], stderr: [] })
  })

  it("a line left unfinished by a function that returns a command comes before the command's output", async () => {
    const wf = workflow("then").step("f", () => {
      process.stdout.write("from the function")
      return sh`echo from the command`
    })
    const events: Array<Event> = []
    await run(wf, { cache: { mode: "off" }, onEvent: (e) => events.push(e) })
    expect(logsOf(events)).toEqual(["f stdout: from the function", "f stdout: from the command"])
  })

  it("outside any step go out as written, and once the run is over the streams are as they were", async () => {
    const patched = process.stdout.write
    let during: typeof process.stdout.write | undefined
    const wf = workflow("outside").step("a", async () => {
      during = process.stdout.write
      await pause(5)
      return 1
    })
    const running = run(wf, { cache: { mode: "off" } })
    await pause(1)
    process.stdout.write("not a step's\n")
    await running
    expect(during).not.toBe(patched)
    expect(process.stdout.write).toBe(patched)
    expect(reached.stdout).toContain("not a step's\n")
  })
})
