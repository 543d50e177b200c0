/**
 * Watch mode hands each run the texts its workflow was loaded from, so that
 * `r` (rerun everything, keeping nothing) after an edit finds in the cache
 * the function steps the edit did not touch.
 */
import { afterAll, describe, expect, it } from "vitest"
import { dslIndex, endsOf, folder, removeFolders, watching, write, type Seen } from "../../test/fixtures/watch/harness.ts"

afterAll(removeFolders)

const module = (aBody: string) => `import { workflow } from ${JSON.stringify(dslIndex)}
const shout = (s: string): string => s.toUpperCase()

export default workflow("watched-functions", { cache: true })
  .step("a", () => ${aBody})
  .step("b", () => shout("b"))
`

/** Whether `step` really ran in the run that started at event `from`. */
const startedSince = (events: ReadonlyArray<Seen>, from: number, step: string) =>
  events.slice(from).some((e) => e.type === "step:start" && e.step === step)

describe("r after an edit", () => {
  it("reruns the edited function step and takes the untouched one from the cache", async () => {
    const dir = folder()
    write(dir, { "weft.ts": module(`shout("a")`) })
    const w = await watching(dir, "weft.ts")
    await w.idle(1)
    write(dir, { "weft.ts": module(`shout("a2")`) })
    await w.until((events) => events.some((e) => e.type === "watch:reload"), "the reload")
    await w.idle(2)
    const from = w.events.length
    w.session.controls.rerunAll()
    await w.idle(3)
    try {
      // a: stored by the run after the edit; b: stored by the first run, before the edit.
      expect(startedSince(w.events, from, "a")).toBe(false)
      expect(startedSince(w.events, from, "b")).toBe(false)
      expect(endsOf(w.events.slice(from), "b")).toEqual(["cached"])
    } finally {
      await w.session.close()
    }
  })
})
