import { createSecretKey, webcrypto } from "node:crypto"
import { EventEmitter } from "node:events"
import { createServer } from "node:net"
import { Readable } from "node:stream"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { deserializeValue, isUnstorableValueError, serializeValue, UnstorableValueError } from "./serialize.ts"

const roundTrip = (value: unknown) => deserializeValue(serializeValue(value, { step: "s" }))

const refusal = (value: unknown, root?: string): UnstorableValueError => {
  try {
    serializeValue(value, root === undefined ? { step: "fetch" } : { step: "fetch", root })
  } catch (error) {
    expect(isUnstorableValueError(error)).toBe(true)
    return error as UnstorableValueError
  }
  throw new Error("expected serializeValue to refuse the value")
}

describe("serializeValue", () => {
  it("round-trips structured-clone data", () => {
    const shared = { id: 1 }
    const value = {
      text: "héllo ✓",
      numbers: [0, -0, 1.5, Number.NaN, Infinity],
      big: 123n,
      nothing: null,
      missing: undefined,
      when: new Date("2024-05-06T07:08:09.010Z"),
      pattern: /a+b/gi,
      map: new Map<unknown, unknown>([["a", 1], [2, new Set(["x"])]]),
      set: new Set([1, "two"]),
      bytes: new Uint8Array([1, 2, 3]),
      floats: new Float64Array([0.5]),
      buffer: Buffer.from("buf"),
      nested: { deeper: [{ shared }, { shared }] }
    }
    const back = roundTrip(value) as typeof value
    expect(back).toEqual(value)
    expect(Object.is(back.numbers[1], -0)).toBe(true)
    expect(back.nested.deeper[0]!.shared).toBe(back.nested.deeper[1]!.shared)
    expect(Buffer.isBuffer(back.buffer)).toBe(true)
  })

  it("keeps cycles", () => {
    const value: { self?: unknown } = {}
    value.self = value
    const back = roundTrip(value) as { self: unknown }
    expect(back.self).toBe(back)
  })

  it("stores a class instance as plain data: prototype and methods are lost", () => {
    class Point {
      readonly x: number
      readonly y: number
      constructor(x: number, y: number) {
        this.x = x
        this.y = y
      }
      norm() {
        return Math.hypot(this.x, this.y)
      }
    }
    const back = roundTrip(new Point(3, 4)) as Record<string, unknown>
    expect(back).toEqual({ x: 3, y: 4 })
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(back.norm).toBeUndefined()
  })

  it("keeps an Error's message", () => {
    const back = roundTrip(new TypeError("boom")) as Error
    expect(back).toBeInstanceOf(TypeError)
    expect(back.message).toBe("boom")
  })

  it("names the step and the path of a function", () => {
    const error = refusal({ client: { socket: () => {} } })
    expect(error).toBeInstanceOf(UnstorableValueError)
    expect(error.message).toBe(`step "fetch": cannot cache its output: outputs.client.socket is a function`)
    expect(error.path).toBe("outputs.client.socket")
  })

  it("names paths through arrays, odd keys, maps and sets", () => {
    expect(refusal({ items: [1, { run: () => 1 }] }).path).toBe("outputs.items[1].run")
    expect(refusal({ "a-b": Symbol("s") }).path).toBe(`outputs["a-b"]`)
    expect(refusal(new Map([["k", Promise.resolve(1)]])).path).toBe(`outputs.get("k")`)
    expect(refusal(new Set([new WeakMap()])).path).toBe("a member of outputs")
    expect(refusal({ x: () => 1 }, "result").path).toBe("result.x")
  })

  it("refuses what would not come back as it was", () => {
    const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
      [Promise.resolve(1), /Promise/],
      [new WeakMap(), /weak/],
      [new WeakRef({}), /weak/],
      [new Proxy({}, {}), /Proxy/],
      [new Readable(), /event emitter/],
      [new EventEmitter(), /event emitter/],
      [createServer(), /event emitter/],
      [new AbortController().signal, /event target/],
      [new ReadableStream(), /stream/],
      [new URL("https://example.com"), /URL/],
      [new Map([[1, 2]]).entries(), /iterator/],
      [(function* () {})(), /iterator/],
      [new SharedArrayBuffer(4), /shared memory/],
      [Symbol("x"), /symbol/]
    ]
    for (const [value, reason] of cases) expect(refusal({ out: value }).reason).toMatch(reason)
  })

  it("refuses crypto keys, even one dressed as a plain object (plain objects skip the key checks)", async () => {
    const secret = createSecretKey(Buffer.from("k"))
    const webKey = await webcrypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"])
    expect(refusal({ out: secret }).reason).toMatch(/crypto key/)
    expect(refusal([webKey]).reason).toMatch(/crypto key/)
    // Its private slots would not survive a clone: node:v8 refuses it, and the path is still found.
    const dressed = Object.setPrototypeOf(createSecretKey(Buffer.from("k")), Object.prototype)
    expect(refusal({ out: { key: dressed } }).path).toBe("outputs.out.key")
  })

  it("round-trips generated JSON-like values (property)", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(roundTrip(value)).toEqual(value)
    }), { numRuns: 100 })
  })
})
