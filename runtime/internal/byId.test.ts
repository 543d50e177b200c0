import { describe, expect, it } from "vitest"
import { viewById } from "./byId.ts"

describe("viewById", () => {
  const ids = ["b", "__proto__", "toString", "a"]
  const make = () => {
    const values = ["x", "y", "z", "w"]
    return { values, view: viewById(ids, new Map(ids.map((id, i) => [id, i])), values) }
  }

  it("reads each id's value as it is now, lists the ids in order, and is plain data to JSON, spreads and for-in", () => {
    const { values, view } = make()
    expect(view.a).toBe("w")
    values[3] = "v"
    expect(view.a).toBe("v")
    expect(Object.keys(view)).toEqual(ids)
    expect(JSON.parse(JSON.stringify(view))).toEqual({ b: "x", ["__proto__"]: "y", toString: "z", a: "v" })
    expect(Object.hasOwn({ ...view }, "__proto__")).toBe(true)
    const seen: Array<string> = []
    for (const key in view) seen.push(key)
    expect(seen).toEqual(ids)
    expect("a" in view && Object.hasOwn(view, "toString") && !Object.hasOwn(view, "c")).toBe(true)
  })

  it("reads names that are not ids as any object does, and refuses writes", () => {
    const { view } = make()
    expect(view.c).toBeUndefined()
    expect(Object.getPrototypeOf(view)).toBe(Object.prototype)
    expect(view.hasOwnProperty).toBe(Object.prototype.hasOwnProperty)
    expect(() => {
      ;(view as Record<string, string>).a = "no"
    }).toThrow(TypeError)
    expect(() => delete (view as Record<string, string>).a).toThrow(TypeError)
    expect(view.a).toBe("w")
  })
})
