import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { headerLines, screen, type ScreenInput } from "./screen.ts"

const base: ScreenInput = { rows: 24, steps: 15, keep: 1, banner: 0, summary: 0, footer: 1, expanded: false }
const total = (input: ScreenInput) => {
  const s = screen(input)
  return headerLines + s.banner + s.list + (s.pane > 0 ? s.pane + 1 : 0) + s.summary + s.footer
}

describe("screen: sharing the rows out", () => {
  it("80×24, 15 steps: every row, a 4-line log pane, the keys; one row to spare", () => {
    expect(screen(base)).toEqual({ banner: 0, list: 15, pane: 4, summary: 0, footer: 1 })
    expect(total(base)).toBe(23)
  })

  it("few steps: the log pane takes the room the rows do not need", () => {
    expect(screen({ ...base, steps: 3 })).toMatchObject({ list: 3, pane: 16 })
  })

  it("expanded: the pane takes all but a few rows of the list", () => {
    expect(screen({ ...base, expanded: true })).toMatchObject({ list: 3, pane: 16 })
  })

  it("many running steps take the rows they need, down to a log pane of two lines", () => {
    expect(screen({ ...base, rows: 16, steps: 20, keep: 6 })).toMatchObject({ list: 8, pane: 3 })
    expect(screen({ ...base, rows: 14, steps: 20, keep: 6 })).toMatchObject({ list: 7, pane: 2 })
    expect(screen({ ...base, rows: 24, steps: 500, keep: 17 })).toMatchObject({ list: 17, pane: 2 })
  })

  it("never draws more than the terminal's rows less one, whatever it holds (property)", () => {
    fc.assert(fc.property(
      fc.record({
        rows: fc.integer({ min: 4, max: 80 }),
        steps: fc.integer({ min: 0, max: 600 }),
        keep: fc.integer({ min: 1, max: 20 }),
        banner: fc.integer({ min: 0, max: 10 }),
        summary: fc.integer({ min: 0, max: 8 }),
        footer: fc.integer({ min: 0, max: 1 }),
        expanded: fc.boolean()
      }),
      (input) => {
        expect(total(input)).toBeLessThanOrEqual(input.rows - 1)
        const s = screen(input)
        for (const n of Object.values(s)) expect(n).toBeGreaterThanOrEqual(0)
      }
    ), { numRuns: 300 })
  })
})
