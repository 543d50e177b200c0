/**
 * Editing a memoized function between two `weft run`s within its TTL (issue
 * 10, item 6): the stored result of the old body must not be served to the
 * new one, while a rerun with no edit is still a hit.
 */
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, repoRoot, tempDir, weft } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const module = (body: string) => `import { appendFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { memo, workflow } from ${JSON.stringify(path.join(repoRoot, "index.ts"))}

const here = (name: string) => path.join(import.meta.dirname, name)
const getFinancials = memo("get_financials", async (ticker: string) => {
  appendFileSync(here("calls.log"), ticker + "\\n")
  return ${body}
}, { ttl: "1 hour" })

export default workflow("memo-edits")
  .step("report", async () => {
    writeFileSync(here("value.txt"), String(await getFinancials("ACME")))
  })
`

const runIn = async (dir: string) => {
  const r = await weft(["run", "weft.ts"], { cwd: dir })
  if (r.code !== 0) throw new Error(`exit ${r.code}\n${r.stdout}\n${r.stderr}`)
  const calls = readFileSync(path.join(dir, "calls.log"), "utf8").split("\n").filter((l) => l !== "").length
  return { value: readFileSync(path.join(dir, "value.txt"), "utf8"), calls }
}

describe("a memoized function edited between runs", () => {
  it("is called again, not answered with the old body's stored result; unedited, it is a hit", async () => {
    const dir = tempDir("weft-memo-edits-")
    writeFileSync(path.join(dir, "calls.log"), "")
    writeFileSync(path.join(dir, "weft.ts"), module("100"))
    expect(await runIn(dir)).toEqual({ value: "100", calls: 1 })
    expect(await runIn(dir)).toEqual({ value: "100", calls: 1 })
    writeFileSync(path.join(dir, "weft.ts"), module("999"))
    expect(await runIn(dir)).toEqual({ value: "999", calls: 2 })
    expect(await runIn(dir)).toEqual({ value: "999", calls: 2 })
  })
})
