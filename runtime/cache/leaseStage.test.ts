/**
 * The cache stage holding a step's key (issue 10, item 4) seen from one
 * process: a second run of the same step waits for the first and takes its
 * hit, says whom it waits for, and stops waiting when it is cancelled.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { run } from "../Run.ts"
import { makeFileStore } from "./FileStore.ts"

const deferred = () => {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/** A cached step held on a gate, counting its executions. */
const gated = () => {
  const gate = deferred()
  const started = deferred()
  let executions = 0
  const wf = workflow("leased").step("slow", { cache: true }, async () => {
    executions++
    started.resolve()
    await gate.promise
    return "made once"
  })
  return { wf, gate, started: started.promise, executions: () => executions }
}

/** Starts a run, resolving `waiting` once its step says it waits for another run. */
const start = (wf: Parameters<typeof run>[0], root: string, signal?: AbortSignal) => {
  const waiting = deferred()
  const events: Array<Event> = []
  const result = run(wf, {
    cwd: root,
    ...(signal === undefined ? {} : { signal }),
    onEvent: (e) => {
      events.push(e)
      if (e.type === "step:log" && /waiting for another run in this process/.test(e.text)) waiting.resolve()
    }
  })
  return { result, waiting: waiting.promise, events }
}

describe("the cache stage's lease", () => {
  it("makes a second run of the same step wait for the first and take its hit", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-lease-stage-"))
    const { wf, gate, started, executions } = gated()
    const first = start(wf, root)
    await started // the first holds the key
    const second = start(wf, root)
    await second.waiting
    gate.resolve()
    const [a, b] = await Promise.all([first.result, second.result])
    expect([a.steps.slow!.status, b.steps.slow!.status]).toEqual(["succeeded", "cached"])
    expect(b.outputs).toEqual({ slow: "made once" })
    expect(executions()).toBe(1)
  })

  it("stops waiting when the waiting run is cancelled, and runs nothing", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-lease-stage-"))
    const { wf, gate, started, executions } = gated()
    const first = start(wf, root)
    await started
    const controller = new AbortController()
    const second = start(wf, root, controller.signal)
    await second.waiting
    controller.abort()
    const cancelled = await second.result
    expect(cancelled.status).toBe("cancelled")
    expect(cancelled.steps.slow!.status).toBe("cancelled")
    gate.resolve()
    expect((await first.result).steps.slow!.status).toBe("succeeded")
    expect(executions()).toBe(1)
    // The cancelled waiter holds nothing, now or later (an abandoned wait would take the key once it is free).
    expect((await start(wf, root).result).steps.slow!.status).toBe("cached")
    await new Promise((resolve) => setTimeout(resolve, 400))
    const store = makeFileStore(path.join(root, ".weft/cache"))
    const [entry] = await store.list()
    const controller2 = new AbortController()
    const timer = setTimeout(() => controller2.abort(new Error("the key is still held by the cancelled run")), 3000)
    await (await store.lease(entry!.key, { signal: controller2.signal })).release()
    clearTimeout(timer)
  })
})
