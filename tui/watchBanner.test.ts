import { describe, expect, it } from "vitest"
import type { WatchEvent } from "../runtime/watch/WatchEvent.ts"
import { applyWatch, bannerLines, emptyWatch, runStarted } from "./watchBanner.ts"

const fold = (...events: ReadonlyArray<WatchEvent>) => events.reduce(applyWatch, emptyWatch)

describe("watch banner", () => {
  it("puts a definition error first, until a good reload clears it", () => {
    const view = fold(
      { type: "watch:ready", time: 0, files: 3, polling: true },
      { type: "watch:error", time: 1, file: "weft.ts", message: "line one\n\nline two" }
    )
    expect(bannerLines(view).map((l) => [l.tone, l.text])).toEqual([
      ["error", "✗ weft.ts does not load: still watching, running the last good definition"],
      ["error", "  line one"],
      ["error", "  line two"],
      ["info", "watching 3 files (polling)"]
    ])
    expect(applyWatch(view, { type: "watch:reload", time: 2, file: "weft.ts", added: [], removed: [], changed: [] }).error).toBeUndefined()
    expect(runStarted(view).error).toBeUndefined()
  })

  it("a new change starts a new round: the last reload and warnings go", () => {
    const view = fold(
      { type: "watch:reload", time: 0, file: "weft.ts", added: ["a"], removed: [], changed: [] },
      { type: "watch:warning", time: 1, message: "w1" },
      { type: "watch:change", time: 2, files: ["x.ts"], steps: [], interrupted: [] }
    )
    expect(bannerLines(view).map((l) => l.text)).toEqual(["↻ changed x.ts → no step affected"])
  })

  it("keeps the two newest warnings, and says when it waits", () => {
    const view = fold(
      { type: "watch:ready", time: 0, files: 1, polling: false },
      { type: "watch:warning", time: 1, message: "w1" },
      { type: "watch:warning", time: 2, message: "w2" },
      { type: "watch:warning", time: 3, message: "w3" },
      { type: "watch:idle", time: 4 }
    )
    expect(bannerLines(view).map((l) => l.text)).toEqual(["⚠ w2", "⚠ w3", "watching 1 file · waiting for changes"])
  })

  it("lists long file and step lists briefly", () => {
    const view = fold({ type: "watch:change", time: 0, files: ["a", "b", "c", "d", "e", "f"], steps: ["s"], interrupted: [] })
    expect(bannerLines(view)[0]!.text).toBe("↻ changed a, b, c, d (+2 more) → rerunning 1 step: s")
  })
})
