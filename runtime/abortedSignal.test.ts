/**
 * A run given a signal that is aborted before the run could start anything
 * (already aborted, or aborted while the run opens its journal) starts
 * nothing: every step ends `cancelled`, the run `cancelled`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { run } from "./Run.ts"

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-aborted-"))
  dirs.push(dir)
  return dir
}

/** A workflow whose steps record that they ran: roots (sync and async), a dependent, and a command. */
const recording = () => {
  const ran: Array<string> = []
  const wf = workflow("aborted", { concurrency: 4 })
    .step("sync", () => {
      ran.push("sync")
      return 1
    })
    .step("async", async () => {
      ran.push("async")
      return 2
    })
    .step("dependent", { needs: ["sync"] }, () => {
      ran.push("dependent")
      return 3
    })
    .step("command", cmd([process.execPath, "-e", ""]))
  return { ran, wf }
}

const expectNothingStarted = (ran: ReadonlyArray<string>, events: ReadonlyArray<Event>, result: Awaited<ReturnType<typeof run>>) => {
  expect(ran).toEqual([])
  expect(events.filter((e) => e.type === "step:start")).toEqual([])
  expect(result.status).toBe("cancelled")
  expect(Object.fromEntries(Object.entries(result.steps).map(([id, s]) => [id, s.status]))).toEqual({
    sync: "cancelled",
    async: "cancelled",
    dependent: "cancelled",
    command: "cancelled"
  })
  expect(result.outputs).toEqual({})
  expect(events.at(-1)).toMatchObject({ type: "run:end", status: "cancelled" })
}

describe("a run whose signal is aborted before it starts anything", () => {
  it("already aborted: starts no step, every step ends cancelled", async () => {
    const { ran, wf } = recording()
    const controller = new AbortController()
    controller.abort()
    const events: Array<Event> = []
    const result = await run(wf, { signal: controller.signal, onEvent: (e) => events.push(e), cache: { mode: "off" } })
    expectNothingStarted(ran, events, result)
  })

  it("aborted while the run opens its journal (start-up is asynchronous): starts no step", async () => {
    const { ran, wf } = recording()
    const dir = tempDir()
    const controller = new AbortController()
    const events: Array<Event> = []
    const running = run(wf, { signal: controller.signal, onEvent: (e) => events.push(e), cwd: dir, journal: true, resume: true })
    controller.abort()
    expectNothingStarted(ran, events, await running)
  })

  it("aborted while the journal opens, with the run's first events already asked for: still nothing starts", async () => {
    const { ran, wf } = recording()
    const dir = tempDir()
    const controller = new AbortController()
    const events: Array<Event> = []
    const running = run(wf, { signal: controller.signal, onEvent: (e) => events.push(e), cwd: dir, journal: true })
    // A turn later: the journal's folder is being made, the machine not yet started.
    await Promise.resolve()
    controller.abort()
    expectNothingStarted(ran, events, await running)
  })

  it("aborted as the run starts (on run:start, the first steps already chosen): starts no step", async () => {
    const { ran, wf } = recording()
    const controller = new AbortController()
    const events: Array<Event> = []
    const onEvent = (e: Event) => {
      events.push(e)
      if (e.type === "run:start") controller.abort()
    }
    const result = await run(wf, { signal: controller.signal, onEvent, cache: { mode: "off" } })
    expectNothingStarted(ran, events, result)
  })
})

describe("a signal aborted by a step", () => {
  it("starts nothing after the abort, not even steps chosen in the same batch", async () => {
    const ran: Array<string> = []
    const controller = new AbortController()
    const wf = workflow("self-abort", { concurrency: 3 })
      .step("aborts", () => {
        ran.push("aborts")
        controller.abort()
        return 0
      })
      .step("b", () => void ran.push("b"))
      .step("c", () => void ran.push("c"))
    const result = await run(wf, { signal: controller.signal, cache: { mode: "off" } })
    expect(ran).toEqual(["aborts"])
    expect(result.status).toBe("cancelled")
    expect(result.steps.b!.status).toBe("cancelled")
    expect(result.steps.c!.status).toBe("cancelled")
  })
})
