/**
 * Runs every benchmark, each against its in-run baseline: `npm run bench`.
 *
 *   node bench/index.ts [--quick]
 *
 * `--quick` runs fewer repeats, and prints 64 MiB rather than 1 GiB in the
 * output benchmark (a smoke test of the benchmarks themselves).
 */
import { parseArgs } from "node:util"
import * as cache from "./cache.ts"
import * as cold from "./cold.ts"
import * as history from "./history.ts"
import * as limits from "./limits.ts"
import * as makespan from "./makespan.ts"
import * as output from "./output.ts"
import * as processes from "./processes.ts"
import * as remoteCache from "./remoteCache.ts"
import * as spec from "./spec.ts"
import * as startup from "./startup.ts"
import * as steps from "./steps.ts"
import * as tui from "./tui.ts"
import * as watch from "./watch.ts"
import * as verify from "./verify.ts"
import * as workers from "./workers.ts"

const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } })
const quick = values.quick === true

await steps.main(quick ? { repeats: 3, memRepeats: 1 } : {})
process.stdout.write("\n")
await processes.main(quick ? { repeats: 3 } : {})
process.stdout.write("\n")
await startup.main(quick ? { repeats: 3 } : {})
process.stdout.write("\n")
await makespan.main(quick ? { repeats: 2 } : {})
process.stdout.write("\n")
await cold.main(quick ? { steps: 20_000, repeats: 1 } : {})
process.stdout.write("\n")
await output.main(quick ? { mib: 64 } : {})
process.stdout.write("\n")
await cache.main(quick ? { files: 2000, repeats: 3 } : {})
process.stdout.write("\n")
await history.main(quick ? { repeats: 3 } : {})
process.stdout.write("\n")
await remoteCache.main(quick ? { repeats: 2 } : {})
process.stdout.write("\n")
await watch.main(quick ? { writes: 10 } : {})
process.stdout.write("\n")
await tui.main(quick ? { repeats: 3 } : {})
process.stdout.write("\n")
await limits.main(quick ? limits.quick : {})
process.stdout.write("\n")
await spec.main(quick ? { steps: 20_000, repeats: 3 } : {})
process.stdout.write("\n")
await workers.main(quick ? { chain: 20 } : {})
process.stdout.write("\n")
await verify.main(quick ? { repeats: 1, seeds: 3, examples: false } : {})
