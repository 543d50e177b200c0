/**
 * The order test files start in. vitest runs the files it has timings for
 * longest first, but a clean clone (CI) has none, and then it goes by file
 * size: a 50-second file that happens to be short started last and ran on
 * alone while the other worker sat idle (examples/verify.test.ts ended a
 * 350 s run 24 s after the one before it). So the files known to be slow
 * start first, in this order; the rest follow in vitest's own order. A stale
 * list costs nothing but the gain.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node"

/** The slowest files of a clean-clone CI run (2026-12-07), slowest first. */
const slowFirst = [
  "runtime/workers/faults.test.ts", // 53 s, mostly waiting on Redis and workers
  "runtime/permissions/isolate.test.ts", // 29 s
  "examples/verify.test.ts", // 24 s
  "properties/faults.test.ts", // 24 s
  "cli/cli.test.ts", // 22 s
  "cli/cacheEdits.test.ts", // 21 s
  "runtime/workers/workers.test.ts", // 20 s
  "properties/verify.test.ts", // 19 s
  "cli/snapshot/snapshot.test.ts", // 18 s
  "properties/scheduler.property.test.ts", // 15 s
  "cli/resume.test.ts", // 14 s
  "cli/exit.test.ts", // 13 s
  "runtime/workers/lease.test.ts", // 13 s
  "cli/resumeVerify.test.ts" // 11 s
]

const rankOf = (spec: TestSpecification): number => {
  const rank = slowFirst.findIndex((file) => spec.moduleId.endsWith(`/${file}`))
  return rank === -1 ? slowFirst.length : rank
}

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const sorted = await super.sort(files)
    // Array.prototype.sort is stable: files not listed keep vitest's order.
    return sorted.sort((a, b) => rankOf(a) - rankOf(b))
  }
}
