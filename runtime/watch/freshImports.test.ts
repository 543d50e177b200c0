/**
 * On a Node without `module.registerHooks` (before 22.15) a reload cannot
 * re-import the workflow's local modules; watch must say so rather than rerun
 * steps on stale helpers. Simulated in a child Node with the hook removed.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { dslIndex, folder, removeFolders, repoRoot, write } from "../../test/fixtures/watch/harness.ts"

afterAll(removeFolders)

/** Loads `weft.ts` in `dir` as watch reloads it, in a child whose Node lacks `registerHooks` unless `keep`. */
const reloadIn = (dir: string, keep: boolean): string => {
  const script = `
    import { createRequire } from "node:module"
    const nodeModule = createRequire(import.meta.url)("node:module")
    if (${!keep}) { delete nodeModule.registerHooks; nodeModule.syncBuiltinESMExports() }
    const { defaultLoad } = await import(${JSON.stringify(path.join(repoRoot, "runtime/watch/Session.ts"))})
    try {
      const wf = await defaultLoad(process.argv[1])("weft.ts")
      process.stdout.write("loaded " + wf.name)
    } catch (error) {
      process.stdout.write("error " + error.message)
    }`
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, dir], { encoding: "utf8" })
  return child.stdout + child.stderr
}

describe("reloading without module.registerHooks", () => {
  it("refuses a workflow with local modules, naming them and the fix; loads one without", () => {
    const withHelper = folder()
    write(withHelper, {
      "helper.ts": `export const n = 1\n`,
      "weft.ts": `import { workflow } from ${JSON.stringify(dslIndex)}\nimport { n } from "./helper.ts"\nexport default workflow("helped").step("a", () => n)\n`
    })
    expect(reloadIn(withHelper, false)).toMatch(/^error this Node \(v[\d.]+\) cannot re-import the modules weft\.ts imports \(helper\.ts\); restart weft watch/)
    expect(reloadIn(withHelper, true)).toBe("loaded helped")
    const alone = folder()
    write(alone, { "weft.ts": `import { workflow } from ${JSON.stringify(dslIndex)}\nexport default workflow("alone").step("a", () => 1)\n` })
    expect(reloadIn(alone, false)).toBe("loaded alone")
  })
})
