/**
 * No example depends on luck: `verify` finds no order dependence in any of
 * them, traced or under drawn schedules. Each gets as many schedules as fit
 * in about a second of its runs (50 for the quickest), so the suite stays
 * fast; `npm run bench` verifies them with the default 50 runs (the two slow
 ones below with 5).
 */
import { readdirSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { verify } from "../properties/index.ts"

/**
 * Milliseconds a drawn schedule's run takes here, measured once: a copy of
 * the folder, and a run at a concurrency drawn from 1 up (slower than a plain
 * run when its steps wait). What each example's runs are sized by.
 */
const runMs: Readonly<Record<string, number>> = {
  "ci-pipeline.ts": 415,
  "data-flow.ts": 80,
  "deploy.ts": 150,
  "docs-site.ts": 140,
  "prices.ts": 355,
  "release.ts": 240,
  "research.ts": 330,
  "research-api.ts": 1100,
  "view-switch.ts": 145
}
/**
 * Left to the bench: their steps wait seconds on purpose (rate limits, a
 * database held for 2-3 s per suite), 3 and 14 s a run.
 */
const slow = ["integration-tests.ts", "rate-limited.ts"]

const examples = readdirSync(import.meta.dirname).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "sleep.ts")

describe("verify finds nothing in the examples", () => {
  it("covers every example", () => {
    expect(examples.filter((f) => !(f in runMs) && !slow.includes(f))).toEqual([])
  })

  for (const file of Object.keys(runMs)) {
    it(file, async () => {
      const wf = (await import(path.join(import.meta.dirname, file))).default
      const runs = Math.max(2, Math.min(50, Math.floor(1000 / runMs[file]!)))
      expect(await verify(wf, { cwd: import.meta.dirname, runs, seed: 16 })).toEqual([])
    })
  }
})
