import { expect, it } from "vitest"
import { describeWatchEvent } from "./describeWatchEvent.ts"

it("says each watch event in a short line or two", () => {
  const time = 0
  expect(describeWatchEvent({ type: "watch:ready", time, files: 1, polling: true })).toBe("weft: watching 1 file (polling)\n")
  expect(describeWatchEvent({ type: "watch:change", time, files: ["a", "b", "c", "d", "e", "f", "g"], steps: ["x"], interrupted: ["x"] })).toBe(
    "weft: changed a, b, c, d, e and 2 more: rerunning x (interrupting x)\n"
  )
  expect(describeWatchEvent({ type: "watch:change", time, files: ["a"], steps: [], interrupted: [] })).toBe("weft: changed a: nothing to rerun\n")
  expect(describeWatchEvent({ type: "watch:reload", time, file: "weft.ts", added: ["n"], removed: [], changed: ["c", "d"] })).toBe(
    "weft: reloaded weft.ts: added n; changed c, d\n"
  )
  expect(describeWatchEvent({ type: "watch:reload", time, file: "weft.ts", added: [], removed: [], changed: [] })).toBe("weft: reloaded weft.ts: no step changed\n")
  expect(describeWatchEvent({ type: "watch:error", time, file: "weft.ts", message: "weft.ts: has a syntax error at line 3, column 1: Unexpected }" })).toBe(
    "weft: weft.ts: has a syntax error at line 3, column 1: Unexpected }\nweft: still watching, with the last good definition; fix weft.ts to go on\n"
  )
  expect(describeWatchEvent({ type: "watch:warning", time, message: "polling" })).toBe("weft: warning: polling\n")
  expect(describeWatchEvent({ type: "watch:idle", time })).toBe("weft: waiting for changes (r rerun all, f rerun failed, c clear, q quit)\n")
})
