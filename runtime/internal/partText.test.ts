import { describe, expect, it } from "vitest"
import { partText } from "./partText.ts"

describe("partText", () => {
  it("keeps strings as they are, newlines included", () => {
    expect(partText("## Section\nline two")).toBe("## Section\nline two")
  })

  it("shows other values on one line, however wide", () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ id: i, name: `row ${i}` }))
    const text = partText({ rows, note: "a\nb" })
    expect(text).not.toContain("\n")
    expect(text).toContain("{ id: 29, name: 'row 29' }")
    expect(partText(undefined)).toBe("undefined")
  })

  it("cuts a long text, saying how much was left out, and never halves a surrogate pair", () => {
    expect(partText("abcdefghij", 4)).toBe("abcd… (6 more characters)")
    // "😀" is two UTF-16 units: a cut after 5 units would split the third one.
    expect(partText("😀😀😀😀", 5)).toBe("😀😀… (4 more characters)")
    expect(partText({ long: "y".repeat(100) }, 20)).toMatch(/^\{ long: 'y+… \(\d+ more characters\)$/)
  })
})
