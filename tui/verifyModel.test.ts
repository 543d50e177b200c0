/**
 * `weft verify`'s live view: the view model folded from progress reports
 * (no Ink), and one frame drawn by Ink on the fake terminal.
 */
import { describe, expect, it } from "vitest"
import type { Finding, VerifyProgress } from "../properties/index.ts"
import { FakeStdout } from "./fakeTerminal.ts"
import { verifyDashboard } from "./verifyDashboard.ts"
import { applyProgress, finishView, fractionDone, initialVerifyView } from "./verifyModel.ts"

const finding: Finding = {
  kind: "hazard",
  pair: ["a", "b"],
  access: "write/write",
  path: "log.txt",
  message: `steps "a" and "b" both write log.txt`,
  fix: `add after: ["a"] to step "b"`
}
const report = (schedules: number, extra: Partial<VerifyProgress> = {}): VerifyProgress =>
  ({ runs: schedules + 1, schedules, schedulesTotal: 50, findings: 0, etaMs: 4000, ...extra })

describe("the verify view model", () => {
  it("counts schedules, keeps the ETA once there is a pace, and lists findings as they come", () => {
    let view = applyProgress(initialVerifyView("ci", 50), report(0))
    expect(view.etaMs).toBeUndefined()
    view = applyProgress(view, report(20))
    expect(view).toMatchObject({ schedules: 20, etaMs: 4000, findings: [] })
    expect(fractionDone(view)).toBe(0.4)
    view = applyProgress(view, report(21, { findings: 1, finding }))
    view = applyProgress(view, report(22, { findings: 1 }))
    expect(view.findings).toEqual([{ kind: "hazard", steps: ["a", "b"], message: finding.message }])
  })

  it("done fills the bar even when the search stopped early; interrupted does not", () => {
    const view = applyProgress(initialVerifyView("ci", 50), report(10))
    expect(fractionDone(finishView(view, false))).toBe(1)
    expect(finishView(view, true)).toMatchObject({ phase: "interrupted", etaMs: undefined })
    expect(fractionDone(finishView(view, true))).toBe(0.2)
  })
})

describe("the verify dashboard", () => {
  it("draws the count, the ETA and the findings on the terminal, and its end", async () => {
    const stdout = new FakeStdout(80, 24)
    const d = verifyDashboard({ workflow: "ci", schedulesTotal: 50, stdout: stdout as unknown as NodeJS.WriteStream, color: false, debug: true })
    d.onProgress(report(20))
    d.onProgress(report(21, { findings: 1, finding }))
    await d.finish(false)
    const frame = stdout.lastFrame()
    expect(frame).toMatch(/^weft verify ▸ ci {2}✗ found$/m)
    expect(frame).toMatch(/█+ 21\/50 schedules · 1 finding$/m)
    expect(frame).toMatch(/^✗ a, b: steps "a" and "b" both write log\.txt$/m)
  })
})
