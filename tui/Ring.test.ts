import { describe, expect, it } from "vitest"
import { Ring } from "./Ring.ts"

const texts = (ring: Ring, count: number, skip = 0) => ring.window(count, skip).map((l) => l.text)

describe("Ring", () => {
  it("keeps the newest lines in order once it wraps around", () => {
    const ring = new Ring(3)
    for (let i = 0; i < 7; i++) ring.push({ kind: "log", text: `l${i}` })
    expect([ring.size, ring.dropped]).toEqual([3, 4])
    expect(texts(ring, 10)).toEqual(["l4", "l5", "l6"])
    expect(ring.last()?.text).toBe("l6")
  })

  it("reads a window ending some lines back from the newest", () => {
    const ring = new Ring(100)
    for (let i = 0; i < 10; i++) ring.push({ kind: "log", text: `l${i}` })
    expect(texts(ring, 3)).toEqual(["l7", "l8", "l9"])
    expect(texts(ring, 3, 4)).toEqual(["l3", "l4", "l5"])
    expect(texts(ring, 3, 9)).toEqual(["l0"])
    expect(texts(ring, 3, 20)).toEqual([])
  })
})
