import { describe, expect, it } from "vitest"
import type { Event } from "../Event.ts"
import { json } from "./json.ts"

const warning = (i: number) => ({ type: "run:warning", time: i, message: `w${i}` }) as unknown as Event

describe("json reporter", () => {
  it("writes the lines of one turn in one write, in order, by the end of the turn", async () => {
    const writes: Array<string> = []
    const reporter = json({ write: (text) => void writes.push(text) })
    for (let i = 0; i < 5; i++) reporter.onEvent(warning(i))
    await Promise.resolve()
    expect(writes).toHaveLength(1)
    expect(writes[0]!.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).message)).toEqual(["w0", "w1", "w2", "w3", "w4"])
    reporter.onEvent(warning(5))
    await Promise.resolve()
    expect(writes).toHaveLength(2)
    expect(JSON.parse(writes[1]!).message).toBe("w5")
  })

  it("writes what waits at once on onEnd and close, and bounds what waits", async () => {
    const writes: Array<string> = []
    const reporter = json({ write: (text) => void writes.push(text) })
    reporter.onEvent(warning(0))
    await reporter.onEnd?.({} as never)
    expect(writes.join("")).toContain(`"w0"`)
    reporter.onWatch?.({ type: "watch:start" } as never)
    await reporter.close?.()
    expect(writes.join("")).toContain(`"watch:start"`)
    const big = { type: "run:warning", time: 0, message: "x".repeat(1 << 20) } as unknown as Event
    reporter.onEvent(big)
    expect(writes.at(-1)).toContain("xxxx")
  })
})
