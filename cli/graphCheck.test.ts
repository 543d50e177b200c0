/** `weft graph --check`: the race check's conflicts, and its exit code, through `main`. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { main } from "./main.ts"

const dslIndex = path.join(import.meta.dirname, "../dsl/index.ts")
const dirs: Array<string> = []
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** A folder with `weft.ts` made of these step lines. */
const folder = (...steps: ReadonlyArray<string>) => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-graph-check-"))
  dirs.push(dir)
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { workflow } from ${JSON.stringify(dslIndex)}`,
    `export default workflow("site")`,
    ...steps.map((line) => `  ${line}`),
    ""
  ].join("\n"))
  return dir
}

const graph = async (dir: string, args: ReadonlyArray<string>) => {
  let stdout = ""
  let stderr = ""
  const code = await main(["graph", ...args], {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    cwd: dir,
    isTTY: false,
    env: { ...process.env, CI: "" }
  })
  return { code, stdout, stderr }
}

describe("weft graph --check", () => {
  it("prints each conflict and exits 1", async () => {
    const dir = folder(
      `.step("a", { permissions: { write: ["dist/**"] } }, () => 1)`,
      `.step("b", { cache: { outputs: ["dist/app.js"] } }, () => 2)`,
      `.step("c", { permissions: { read: ["dist/app.js"] } }, () => 3)`
    )
    const r = await graph(dir, ["--check"])
    expect(r).toEqual({
      code: 1,
      stdout: [
        `✗ steps "a" and "b" may run at the same time and both write dist/ (a: dist/**, b: dist/app.js); add needs/after between them or write to separate paths`,
        `✗ steps "a" and "c" may run at the same time and "a" writes dist/, which "c" reads (a: dist/**, c: dist/app.js); add needs/after between them or write to separate paths`,
        `✗ steps "b" and "c" may run at the same time and "b" writes dist/app.js, which "c" reads (b: dist/app.js, c: dist/app.js); add needs/after between them or write to separate paths`,
        ""
      ].join("\n"),
      stderr: ""
    })
  })

  it("says there are no conflicts and exits 0 when writers are ordered, with the file given", async () => {
    const dir = folder(
      `.step("a", { permissions: { write: ["dist/**"] } }, () => 1)`,
      `.step("b", { after: ["a"], permissions: { write: ["dist/app.js"] } }, () => 2)`
    )
    expect(await graph(dir, ["--check", "weft.ts"])).toEqual({ code: 0, stdout: "site: no conflicts\n", stderr: "" })
  })
})
