import { availableParallelism } from "node:os"
import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"
import SlowFirstSequencer from "./test/sequencer.ts"

export default defineConfig({
  // Tests import `weft` from its sources (package.json's `weft-source` export), never a build in dist/.
  ssr: { resolve: { conditions: ["weft-source", ...defaultServerConditions] } },
  test: {
    globalSetup: ["test/globalSetup.ts"],
    // Known-slow files first: a clean clone has no timings to order by (test/sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    include: ["{dsl,runtime,tui,cli,properties,examples,bench,docs}/**/*.test.ts", "test/*.test.ts"],
    // Most files wait on the processes they start (weft itself, commands), not
    // on the CPU: one worker per core, not vitest's default of one less (a
    // single worker on a 2-core machine), took the suite from ~250 s to ~175 s.
    maxWorkers: availableParallelism(),
    // Bounds for a hung test, not for speed: wide enough for a loaded machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // bin/weft.js makes a start-up snapshot on a second `weft run` (cli/snapshot/):
    // not in the tests' weft runs, which would each pay for one; its own tests ask for it.
    env: { WEFT_SNAPSHOT: "0" }
  }
})
