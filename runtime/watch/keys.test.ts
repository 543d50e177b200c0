import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { keyOfLine, keysOf, readKeys, type WatchKey } from "./keys.ts"

describe("keys", () => {
  it("picks watch keys out of what a raw terminal sends; Ctrl-C is a byte", () => {
    expect(keysOf("rFx\x03q")).toEqual(["r", "f", "ctrl-c", "q"])
    expect(keyOfLine(" Q ")).toBe("q")
    expect(keyOfLine("quit")).toBeUndefined()
  })

  it("reads a raw terminal key by key and gives it back cooked", async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, raw: [] as Array<boolean>, setRawMode(mode: boolean) {
      this.raw.push(mode)
    } })
    const keys: Array<WatchKey> = []
    const stop = readKeys(input, (key) => keys.push(key))
    input.write("rc\x03")
    await new Promise((resolve) => setImmediate(resolve))
    stop()
    expect(keys).toEqual(["r", "c", "ctrl-c"])
    expect(input.raw).toEqual([true, false])
  })

  it("reads lines from a pipe, and end of input is not quitting", async () => {
    const input = new PassThrough()
    const keys: Array<WatchKey> = []
    const stop = readKeys(input, (key) => keys.push(key))
    input.end("f\nhello\nq\n")
    await new Promise((resolve) => setTimeout(resolve, 10))
    stop()
    expect(keys).toEqual(["f", "q"])
  })
})
