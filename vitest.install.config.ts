import { defineConfig } from "vitest/config"

// The install test (npm run test:install): weft packed and installed into a
// fresh project on Node 22 and 24. Minutes of npm installs, so apart from
// `npm test`; .ci/run runs it after the suite and counts it in.
export default defineConfig({
  test: {
    include: ["test/install/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 600_000
  }
})
