/**
 * Several `weft run` processes started together on one workspace and one
 * cache (issue 10, items 4 and 5). Each step and memoized function records
 * every real execution in a log appended with O_APPEND, so the tests count
 * executions across processes, and each execution leaves a random token in
 * its value and its output file, so the stored entry shows whether both came
 * from one execution.
 */
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeFileStore } from "../runtime/cache/FileStore.ts"
import { deserializeValue } from "../runtime/cache/serialize.ts"
import { removeTempDirs, repoRoot, startWeft, tempDir, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter((l) => l !== "")

/** Starts `count` `weft run weft.ts` in `dir` at once; all must succeed. */
const runTogether = async (dir: string, count: number) => {
  const runs = Array.from({ length: count }, () => startWeft(["run", "weft.ts", "--reporter", "json"], { cwd: dir }).exited)
  const results = await Promise.all(runs)
  for (const r of results) if (r.code !== 0) throw new Error(shown(r))
  return results
}

const header = `import { randomUUID } from "node:crypto"
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { memo, workflow } from ${JSON.stringify(path.join(repoRoot, "index.ts"))}

const here = (name: string) => path.join(import.meta.dirname, name)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
`

describe("weft run processes sharing one workspace and cache", () => {
  it("store one execution's value and output file together, and run the step once across processes", async () => {
    const dir = tempDir("weft-concurrent-")
    writeFileSync(path.join(dir, "weft.ts"), `${header}
export default workflow("concurrent")
  .step("gen", { cache: { outputs: ["out/**"] } }, async () => {
    const token = randomUUID()
    appendFileSync(here("ran.log"), token + "\\n")
    mkdirSync(here("out"), { recursive: true })
    writeFileSync(here("out/token.txt"), token)
    // Long enough that processes started together overlap, even on a loaded machine.
    await sleep(1500)
    return token
  })
  .step("show", { needs: ["gen"] }, ({ gen }) => appendFileSync(here("seen.log"), gen + "\\n"))
`)
    writeFileSync(path.join(dir, "ran.log"), "")
    writeFileSync(path.join(dir, "seen.log"), "")
    await runTogether(dir, 4)
    const ran = lines(path.join(dir, "ran.log"))
    expect(ran).toHaveLength(1)
    const token = ran[0]!
    // Every process got that execution's value, and the file on disk is its file.
    expect(lines(path.join(dir, "seen.log"))).toEqual([token, token, token, token])
    expect(readFileSync(path.join(dir, "out/token.txt"), "utf8")).toBe(token)
    const store = makeFileStore(path.join(dir, ".weft/cache"))
    const steps = (await store.list()).filter((e) => e.kind === "step" && e.name === "gen")
    expect(steps).toHaveLength(1)
    const entry = (await store.get(steps[0]!.key))!
    expect(deserializeValue(entry.value)).toBe(token)
    expect(entry.files.map((f) => f.path)).toEqual(["out/token.txt"])
    expect(Buffer.from((await store.readBlob(entry.files[0]!.digest))!).toString()).toBe(token)
  })

  it("make one real call per memoized key across processes", async () => {
    const dir = tempDir("weft-concurrent-memo-")
    writeFileSync(path.join(dir, "weft.ts"), `${header}
const tool = (name: string) => memo(name, async (ticker: string) => {
  appendFileSync(here("calls.log"), name + "\\n")
  await sleep(1000)
  return name + ":" + ticker
}, { ttl: "1 hour" })
const tools = ["get_profile", "get_financials", "get_news", "get_price"].map(tool)

export default workflow("sessions")
  .step("agent", async () => {
    const answers = await Promise.all(tools.map((ask) => ask("ACME")))
    appendFileSync(here("answers.log"), answers.join(",") + "\\n")
  })
`)
    writeFileSync(path.join(dir, "calls.log"), "")
    writeFileSync(path.join(dir, "answers.log"), "")
    await runTogether(dir, 3)
    expect(lines(path.join(dir, "calls.log")).sort()).toEqual(["get_financials", "get_news", "get_price", "get_profile"])
    expect(lines(path.join(dir, "answers.log"))).toEqual(Array(3).fill("get_profile:ACME,get_financials:ACME,get_news:ACME,get_price:ACME"))
  })
})
