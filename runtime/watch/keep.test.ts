import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { workflow } from "../../dsl/index.ts"
import type { Event } from "../Event.ts"
import { run } from "../Run.ts"

const dir = mkdtempSync(path.join(tmpdir(), "weft-keep-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("RunOptions.keep", () => {
  it("ends a kept step cached with the kept value and its savedMs, without running it, starting it or logging; its dependents get the value", async () => {
    const ran: Array<string> = []
    const wf = workflow("kept", { cache: true })
      .step("a", () => {
        ran.push("a")
        return 1
      })
      .step("b", { needs: ["a"] }, ({ a }) => {
        ran.push("b")
        return a + 1
      })
    const events: Array<Event> = []
    const result = await run(wf, { cwd: dir, keep: new Map([["a", { value: 41, durationMs: 1200 }]]), onEvent: (e) => events.push(e) })
    expect(ran).toEqual(["b"])
    expect(result.outputs).toEqual({ a: 41, b: 42 })
    expect(result.steps.a?.status).toBe("cached")
    expect(events.filter((e) => "step" in e && e.step === "a" && e.type !== "step:ready" && e.type !== "step:end")).toEqual([])
    expect(events.find((e) => e.type === "step:end" && e.step === "a")).toMatchObject({ status: "cached", savedMs: 1200 })
  })

  it("goes before the cache: a kept step is not looked up, and an empty map changes nothing", async () => {
    let calls = 0
    const wf = workflow("kept-first").step("a", { cache: true }, () => ++calls)
    expect((await run(wf, { cwd: dir })).outputs.a).toBe(1)
    expect((await run(wf, { cwd: dir, keep: new Map([["a", { value: "kept", durationMs: 5 }]]) })).outputs.a).toBe("kept")
    const third = await run(wf, { cwd: dir, keep: new Map() })
    expect(third.outputs.a).toBe(1)
    expect(third.steps.a?.status).toBe("cached")
    expect(calls).toBe(1)
  })
})
