/**
 * `weft run --output STEP`: the step's value alone on stdout (the reporter on
 * stderr), secrets masked; a bad step name is a usage error before anything
 * runs. Without it, the plain summary shows a small final value on a line.
 */
import { existsSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import { repoRoot, removeTempDirs, stackFrames, tempDir, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"
import { oneLine, showValue } from "./output.ts"

afterAll(removeTempDirs)

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
const token = "tok-3f9a-very-secret"

const project = (): string => {
  const dir = tempDir("weft-output-")
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { writeFileSync } from "node:fs"`,
    `import { secret, workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}`,
    `export default workflow("reporting", { permissions: { env: [secret("WEFT_OUT_TOKEN")] } })`,
    `  .step("data", (_, ctx) => { ctx.log("gathering"); return { files: 3, names: ["a", "b"], auth: ctx.env.WEFT_OUT_TOKEN } })`,
    `  .step("ran", () => { writeFileSync("ran", "yes") })`,
    `  .step("report", { needs: ["data"], after: ["ran"] }, ({ data }) => ({ total: data.files }))`,
    ""
  ].join("\n"))
  return dir
}

const env = { WEFT_OUT_TOKEN: token }

describe("weft run --output", () => {
  it("prints the step's value as JSON to stdout and nothing else; the reporter goes to stderr; secrets masked", async ({ expect }) => {
    const dir = project()
    const r = await weft(["run", "--output", "data", "--reporter", "plain"], { cwd: dir, env })
    expect(r.code, shown(r)).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ files: 3, names: ["a", "b"], auth: "***" })
    expect(r.stdout).not.toContain(token)
    expect(r.stderr).toMatch(/^data +│ gathering$/m)
    expect(r.stderr).toMatch(/^✓ reporting succeeded/m)
  })

  it("--reporter json keeps its events off stdout too", async ({ expect }) => {
    const r = await weft(["run", "--output", "report", "--reporter", "json"], { cwd: project(), env })
    expect(r.code, shown(r)).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ total: 3 })
    expect(r.stderr).toContain(`"type":"run:end"`)
  })

  it("a step name that is not in the workflow: did-you-mean, exit 2, nothing runs", async ({ expect }) => {
    const dir = project()
    const r = await weft(["run", "--output", "reprot"], { cwd: dir, env })
    expect(r.code, shown(r)).toBe(2)
    expect(r.stderr).toMatch(/^weft: --output names no step of reporting: "reprot"\. Did you mean "report"\?/m)
    expect(stackFrames(r.stderr)).toEqual([])
    expect(r.stdout).toBe("")
    expect(existsSync(path.join(dir, "ran"))).toBe(false)
  })

  it("the plain summary shows a small final value on a line", async ({ expect }) => {
    const r = await weft(["run", "--reporter", "plain"], { cwd: project(), env })
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toMatch(/^  report returned \{"total":3\}$/m)
  })
})

describe("how a value is shown", () => {
  it("text as it is, plain data as JSON, anything else inspected; one line only when small", ({ expect }) => {
    expect(showValue("# Report\nall good")).toBe("# Report\nall good")
    expect(JSON.parse(showValue({ a: [1, null, "x"] }))).toEqual({ a: [1, null, "x"] })
    expect(showValue(new Map([["k", 1]]))).toBe("Map(1) { 'k' => 1 }")
    expect(showValue(undefined)).toBe("undefined")
    expect(oneLine("shipped")).toBe(`"shipped"`)
    expect(oneLine({ n: 1 })).toBe(`{"n":1}`)
    expect(oneLine("x".repeat(300))).toBeUndefined()
    expect(oneLine("two\nlines")).toBe(`"two\\nlines"`)
  })
})
