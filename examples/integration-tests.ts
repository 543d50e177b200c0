/**
 * Resources: six integration suites share one test database, two of them
 * also a GPU runner; unit tests and the build need neither. With
 * `resources: { db: 1, gpu: 1 }` the suites take the database one at a time
 * (the GPU suites holding both at once, never one while waiting for the
 * other), while everything else runs beside them on the free slots. Each
 * suite takes 1 to 3 seconds (`Effect.sleep`, so a test can run it on virtual
 * time).
 *
 *   npx weft run examples/integration-tests.ts
 */
import * as Effect from "effect/Effect"
import { workflow } from "weft"

export const SUITES = ["users", "billing", "search", "exports", "render", "inference"] as const

/** The suites that also need the GPU runner. */
export const GPU_SUITES: ReadonlyArray<string> = ["render", "inference"]

const seconds = (s: number) => () => Effect.sleep(s * 1000)

export default workflow("integration-tests", { concurrency: 4, resources: { db: 1, gpu: 1 } })
  .step("build", { estimate: 2000 }, seconds(2))
  .step("unit", { after: ["build"] }, seconds(3))
  .step("gpu-warmup", { after: ["build"], resources: { gpu: 1 } }, seconds(1))
  .each("integration", SUITES.filter((s) => !GPU_SUITES.includes(s)), { after: ["build"], resources: { db: 1 } }, (suite) => seconds(suite.length % 3 + 1))
  .each("gpu-integration", GPU_SUITES, { after: ["build"], resources: { db: 1, gpu: 1 } }, () => seconds(2))
  .step("report", { after: ["unit", "integration", "gpu-integration"] }, () => "all suites passed")
