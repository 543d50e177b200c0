import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["{dsl,runtime,tui,properties,examples,bench}/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000
  }
})
