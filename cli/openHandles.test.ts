import { describe, expect, it } from "vitest"
import { describeOpened, leftOpen, openedSince } from "./openHandles.ts"

describe("what a run left open", () => {
  it("counts handles beyond those open before, not requests nor weft's own stdio", () => {
    const before = ["PipeWrap", "PipeWrap", "Timeout", "FSReqPromise"]
    const after = ["PipeWrap", "PipeWrap", "PipeWrap", "TTYWrap", "Timeout", "Timeout", "Timeout", "FSReqCallback", "TCPSocketWrap", "GetAddrInfoReqWrap"]
    expect(openedSince(before, after)).toEqual(new Map([["Timeout", 2], ["TCPSocketWrap", 1]]))
  })

  it("says it in words, in one line", () => {
    expect(describeOpened(new Map())).toBeUndefined()
    expect(describeOpened(new Map([["Timeout", 1]]))).toBe("1 timer that a step started was still open when the run ended; exiting anyway")
    expect(describeOpened(new Map([["Timeout", 2], ["TCPWrap", 1], ["TCPSocketWrap", 1], ["Mystery", 1]]))).toBe(
      "2 timers, 2 sockets and 1 Mystery handle that steps started were still open when the run ended; exiting anyway"
    )
  })

  it("gives what closes by itself a moment, and no wait when nothing was left", async () => {
    let now = ["Timeout"]
    setTimeout(() => (now = []), 20)
    expect(await leftOpen([], () => now, 5_000)).toEqual(new Map())
    const from = performance.now()
    expect(await leftOpen(["Timeout"], () => ["Timeout"], 5_000)).toEqual(new Map())
    expect(performance.now() - from).toBeLessThan(1_000)
  })
})
