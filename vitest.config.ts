import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    globalSetup: ["test/globalSetup.ts"],
    include: ["{dsl,runtime,tui,properties,examples,bench}/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000
  }
})
