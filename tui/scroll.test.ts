import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { visibleRows, type VisibleLine } from "./scroll.ts"

const rowsOf = (lines: ReadonlyArray<VisibleLine>) => lines.filter((l): l is number => typeof l === "number")

describe("visibleRows", () => {
  it("shows every row when they fit", () => {
    expect(visibleRows(4, 10, 2, [1])).toEqual([0, 1, 2, 3])
  })

  it("centres a window on the selection, with a 'more' line for each hidden run", () => {
    expect(visibleRows(100, 5, 50, [])).toEqual([{ more: 49 }, 49, 50, 51, { more: 48 }])
  })

  it("at the top, the hidden rows are all below", () => {
    expect(visibleRows(100, 5, 0, [])).toEqual([0, 1, 2, 3, { more: 96 }])
  })

  it("keeps running rows on screen even far from the selection", () => {
    const lines = visibleRows(500, 10, 0, [250, 499])
    expect(rowsOf(lines)).toEqual(expect.arrayContaining([0, 250, 499]))
    expect(lines.length).toBeLessThanOrEqual(10)
  })

  it("never takes more lines than given, keeps the selection, and accounts for every row (property)", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 600 }),
      fc.integer({ min: 1, max: 30 }),
      fc.nat(),
      fc.array(fc.nat(), { maxLength: 12 }),
      (count, height, pick, busy) => {
        const selected = pick % count
        const running = busy.map((b) => b % count)
        const lines = visibleRows(count, height, selected, running)
        expect(lines.length).toBeLessThanOrEqual(height)
        const rows = rowsOf(lines)
        // A lone line has no room for a row and its "more" lines: then it is one or the other.
        if (height >= 3) expect(rows).toContain(selected)
        // In order, no repeats, and rows plus hidden ones make the whole list.
        expect(rows).toEqual([...new Set(rows)].sort((a, b) => a - b))
        const hidden = lines.reduce<number>((sum, l) => sum + (typeof l === "number" ? 0 : l.more), 0)
        expect(rows.length + hidden).toBe(count)
        // The space is used: a list longer than the screen fills it.
        if (count > height && height >= 3) expect(lines.length).toBe(height)
      }
    ), { numRuns: 300 })
  })
})
