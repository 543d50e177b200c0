import { describe, expect, it } from "vitest"
import type { Event } from "./Event.ts"
import { tee, type Reporter } from "./Reporter.ts"
import type { RunResult } from "./RunState.ts"
import type { WatchEvent } from "./watch/WatchEvent.ts"

const result: RunResult = { status: "succeeded", outputs: {}, steps: {}, durationMs: 1 }

/** A reporter that writes down every call, after `delayMs` for the asynchronous ones. */
const recorder = (name: string, calls: Array<string>, options: { readonly failEnd?: boolean; readonly delayMs?: number } = {}): Reporter => {
  const later = (what: string) => new Promise<void>((resolve, reject) => setTimeout(() => {
    calls.push(`${name} ${what}`)
    if (options.failEnd && what === "end") reject(new Error(`${name} could not flush`))
    else resolve()
  }, options.delayMs ?? 0))
  return {
    onEvent: (e) => void calls.push(`${name} ${e.type}`),
    onEnd: () => later("end"),
    onWatch: (e) => void calls.push(`${name} ${e.type}`),
    close: () => later("close")
  }
}

describe("tee", () => {
  it("hands every event, end, watch event and close to each reporter, in order, waiting for all", async () => {
    const calls: Array<string> = []
    const both = tee(recorder("a", calls, { delayMs: 20 }), recorder("b", calls), { onEvent: (e) => void calls.push(`c ${e.type}`) })
    both.onEvent({ type: "run:warning", time: 0, message: "m" } satisfies Event)
    both.onWatch!({ type: "watch:idle", time: 0 } satisfies WatchEvent)
    await both.onEnd!(result)
    expect(calls).toEqual(["a run:warning", "b run:warning", "c run:warning", "a watch:idle", "b watch:idle", "b end", "a end"])
    await both.close!()
    expect(calls.slice(-2)).toEqual(["b close", "a close"])
  })

  it("lets every reporter flush when one fails, then fails with its error", async () => {
    const calls: Array<string> = []
    const both = tee(recorder("a", calls, { failEnd: true }), recorder("b", calls, { delayMs: 20 }))
    await expect(both.onEnd!(result)).rejects.toThrow("a could not flush")
    expect(calls).toEqual(["a end", "b end"])
  })
})
