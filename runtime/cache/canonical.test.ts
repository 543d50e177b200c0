import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canonicalHash, isUnhashableValueError, UnhashableValueError } from "./canonical.ts"

const refusal = (value: unknown): UnhashableValueError => {
  try {
    canonicalHash(value, { root: "inputs" })
  } catch (error) {
    expect(isUnhashableValueError(error)).toBe(true)
    return error as UnhashableValueError
  }
  throw new Error("expected canonicalHash to refuse the value")
}

/** The same data with every object's keys inserted in reverse order. */
const reversedKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reversedKeys)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]))
}

/** Primitives that differ from `leaf`. */
const otherLeaves = (leaf: unknown): Array<unknown> => {
  const others: Array<unknown> = [null, undefined, "x", 1, true, { "": leaf }, [leaf]]
  if (typeof leaf === "string") others.push(`${leaf}x`, leaf.slice(1))
  if (typeof leaf === "number") others.push(leaf + 1, -leaf, String(leaf))
  if (typeof leaf === "boolean") others.push(!leaf)
  return others.filter((other) => !Object.is(other, leaf) && !(typeof leaf === "string" && other === leaf))
}

/** Every value that differs from `value` by one change: a leaf replaced, a key or element added or removed. */
const singleChanges = (value: unknown): Array<unknown> => {
  if (Array.isArray(value)) {
    return [
      [...value, null],
      ...value.flatMap((item, i) => [
        value.filter((_, j) => j !== i),
        ...singleChanges(item).map((changed) => value.map((old, j) => (j === i ? changed : old)))
      ])
    ]
  }
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>
    return [
      { ...record, "\u0000new": 0 },
      ...Object.keys(record).flatMap((key) => [
        Object.fromEntries(Object.entries(record).filter(([k]) => k !== key)),
        { ...Object.fromEntries(Object.entries(record).filter(([k]) => k !== key)), [`${key}_`]: record[key] },
        ...singleChanges(record[key]).map((changed) => ({ ...record, [key]: changed }))
      ])
    ]
  }
  return otherLeaves(value)
}

const smallJson = fc.jsonValue({ maxDepth: 3, depthSize: "small" })

describe("canonicalHash", () => {
  it("is SHA-256 hex and pinned for a few values (changing the encoding changes every key)", () => {
    expect(canonicalHash({})).toMatch(/^[0-9a-f]{64}$/)
    expect({
      empty: canonicalHash({}),
      object: canonicalHash({ b: [1, "two", null], a: true }),
      nested: canonicalHash({ m: new Map<unknown, unknown>([["k", 1], [2, new Set(["x", 3])]]), when: new Date(0), bytes: new Uint8Array([1, 2]) })
    }).toMatchInlineSnapshot(`
      {
        "empty": "0df3e9ea564782dadc35d5f6e54494ef745600b2d6db53654de14ae4b79df165",
        "nested": "5bbef9a6a179177ca89406a383fb82c3c290b5e28a4fb61f0e28c3314c647226",
        "object": "772844542ed6d2b0ce494831980136a0346d36cbebe27935c8c7be7e2df62851",
      }
    `)
  })

  it("does not depend on the order of object keys (property)", () => {
    fc.assert(fc.property(smallJson, (value) => {
      expect(canonicalHash(reversedKeys(value))).toBe(canonicalHash(value))
    }), { numRuns: 100 })
  })

  it("changes with any single change to the data (property)", () => {
    fc.assert(fc.property(smallJson, (value) => {
      const hash = canonicalHash(value)
      for (const changed of singleChanges(value)) expect(canonicalHash(changed), JSON.stringify(changed)).not.toBe(hash)
    }), { numRuns: 100 })
  })

  it("does not depend on Map or Set insertion order", () => {
    expect(canonicalHash(new Map<unknown, unknown>([["a", 1], [2, { x: 1 }]]))).toBe(
      canonicalHash(new Map<unknown, unknown>([[2, { x: 1 }], ["a", 1]]))
    )
    expect(canonicalHash(new Set([1, "1", [1]]))).toBe(canonicalHash(new Set([[1], "1", 1])))
    expect(canonicalHash(new Map([["a", 1]]))).not.toBe(canonicalHash(new Map([["a", 2]])))
    expect(canonicalHash(new Map([["a", 1]]))).not.toBe(canonicalHash({ a: 1 }))
    expect(canonicalHash(new Set([1]))).not.toBe(canonicalHash([1]))
  })

  it("tells apart what JSON would confuse", () => {
    const distinct: ReadonlyArray<unknown> = [
      {}, { a: undefined }, [], [undefined], new Array(1), [null], "1", 1, 1n, -0, 0, "", null, undefined,
      ["ab"], ["a", "b"], new Date(0), new Date(1), "1970-01-01T00:00:00.000Z", new Uint8Array([1]), new Int8Array([1]),
      new Uint8Array([1, 0]), /a/g, /a/, "\ud800", "\ud801", true, "true"
    ]
    const hashes = distinct.map((value) => canonicalHash(value))
    expect(new Set(hashes).size).toBe(distinct.length)
  })

  it("treats equal data as equal", () => {
    expect(canonicalHash(Number.NaN)).toBe(canonicalHash(0 / 0))
    expect(canonicalHash(Buffer.from([1, 2]))).toBe(canonicalHash(new Uint8Array([1, 2])))
    expect(canonicalHash(new Date("2024-01-01T00:00:00Z"))).toBe(canonicalHash(new Date(Date.UTC(2024, 0, 1))))
    expect(canonicalHash(Object.assign(Object.create(null), { a: 1 }))).toBe(canonicalHash({ a: 1 }))
    expect(canonicalHash(new URL("https://example.com/a/../b"))).toBe(canonicalHash(new URL("https://example.com/b")))
    const shared = { x: 1 }
    expect(canonicalHash([shared, shared])).toBe(canonicalHash([{ x: 1 }, { x: 1 }]))
    expect(canonicalHash(new Uint8Array([9, 1, 2, 9]).subarray(1, 3))).toBe(canonicalHash(new Uint8Array([1, 2])))
  })

  it("refuses functions, symbols, promises and class instances, naming the path", () => {
    expect(refusal({ client: { connect: () => {} } }).message).toBe("cannot compute a cache key: inputs.client.connect is a function")
    expect(refusal([1, Symbol("s")]).path).toBe("inputs[1]")
    expect(refusal({ p: Promise.resolve(1) }).reason).toMatch(/Promise/)
    expect(refusal(new Map([["k", { f: () => 1 }]])).path).toBe(`inputs.get("k").f`)
    expect(refusal({ at: new (class Client {})() }).reason).toMatch(/instance of Client/)
    expect(refusal({ n: new Number(1) }).reason).toMatch(/instance of Number/)
  })

  it("refuses cycles, naming where they close", () => {
    const value: { a: { b: { back?: unknown } } } = { a: { b: {} } }
    value.a.b.back = value.a
    expect(refusal(value).message).toBe("cannot compute a cache key: inputs.a.b.back refers back to inputs.a (a cycle)")
    const inMap = new Map<string, unknown>()
    inMap.set("self", inMap)
    expect(refusal(inMap).reason).toMatch(/cycle/)
  })
})
