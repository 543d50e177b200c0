/**
 * A 15-step CI pipeline that took 23 minutes because every step ran after the
 * previous one, though 7 of them are independent checks. Durations are scaled
 * from minutes to tens of milliseconds (1 min = 10 ms). weft runs the checks
 * together, then test generation → test execution, then code quality,
 * context, git operations and markdown lint in order: the run takes as long as
 * its critical path, not the sum.
 *
 *   npx weft run examples/ci-pipeline.ts
 */
import { cmd, workflow } from "weft"
import { sleep } from "./sleep.ts"

const minutes = (m: number) => async (_: unknown, ctx: { signal: AbortSignal; log: (...a: Array<unknown>) => void }) => {
  await sleep(m * 10, ctx.signal)
  ctx.log(`done (${m} min in the original pipeline)`)
}

const checks = ["typecheck", "lint", "format", "audit", "licenses", "spelling", "secrets"] as const

export default workflow("ci-pipeline", { concurrency: 8 })
  .step("checkout", cmd([process.execPath, "-e", "console.log('checked out ' + process.version)"]))
  .each("checks", checks, { after: ["checkout"], estimate: 20 }, (check) => minutes(check === "typecheck" ? 3 : 2))
  .step("generate-tests", { after: ["checkout"], estimate: 30 }, minutes(3))
  .step("run-tests", { after: ["generate-tests"], estimate: 50 }, minutes(5))
  .step("code-quality", { after: ["checks", "run-tests"] }, minutes(1))
  .step("context", { after: ["code-quality"] }, minutes(1))
  .step("git-operations", { after: ["context"] }, minutes(1))
  .step("markdown-lint", { after: ["git-operations"] }, minutes(1))
