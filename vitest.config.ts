import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

export default defineConfig({
  // Tests import `weft` from its sources (package.json's `weft-source` export), never a build in dist/.
  ssr: { resolve: { conditions: ["weft-source", ...defaultServerConditions] } },
  test: {
    globalSetup: ["test/globalSetup.ts"],
    include: ["{dsl,runtime,tui,properties,examples,bench,docs}/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000
  }
})
