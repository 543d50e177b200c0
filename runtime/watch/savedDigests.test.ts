/**
 * Saved step digests: found only for the exact texts they were computed
 * from, never parsed again when found, and anything wrong with the saved
 * file is a recomputation, never an error or a wrong digest.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { dslIndex, folder, removeFolders, write } from "../../test/fixtures/watch/harness.ts"
import { loadWorkflow } from "../loadWorkflow.ts"
import { parses } from "./internal/syntax.ts"
import { stepDigestsDirIn as digestsDirIn } from "../weftDir.ts"
import { digestsKey, savedStepDigests } from "./savedDigests.ts"
import { loadWithTexts, makeStepDigest } from "./stepSources.ts"

afterAll(removeFolders)

const weft = `import { workflow } from ${JSON.stringify(dslIndex)}`
const module = (b = "2") =>
  [weft, `const one = () => 1`, `export default workflow("w")`, `  .step("a", () => one())`, `  .step("b", () => ${b})`, ``].join("\n")

/** Loads `text` as `weft.ts` in `dir`; each step's digest through `savedStepDigests`, and how many modules it parsed. */
const digestsOf = async (dir: string, text: string) => {
  write(dir, { "weft.ts": text })
  const file = path.join(dir, "weft.ts")
  const { value: { workflow }, texts } = await loadWithTexts(file, () => loadWorkflow("weft.ts", dir))
  const before = parses.count
  const digest = await savedStepDigests(workflow, file, texts!, digestsDirIn(path.join(dir, ".weft"))).digests()
  const parsed = parses.count - before
  const fresh = makeStepDigest(workflow, file, texts)
  return { workflow, file, texts: texts!, parsed, a: digest(workflow.steps[0]!), b: digest(workflow.steps[1]!), fresh: [fresh(workflow.steps[0]!), fresh(workflow.steps[1]!)] }
}

const entries = (dir: string) => readdirSync(digestsDirIn(path.join(dir, ".weft"))).filter((name) => name.endsWith(".json"))

describe("saved step digests", () => {
  it("are reused for equal texts, with no parse", async () => {
    const dir = folder()
    const first = await digestsOf(dir, module())
    expect(first.parsed).toBeGreaterThan(0)
    expect(first.a).toBeDefined()
    expect([first.a, first.b]).toEqual(first.fresh)
    const second = await digestsOf(dir, module())
    expect(second.parsed).toBe(0)
    expect([second.a, second.b]).toEqual([first.a, first.b])
  })

  it("are recomputed after a one-character edit, and the edited step's digest changes", async () => {
    const dir = folder()
    const first = await digestsOf(dir, module("2"))
    const edited = await digestsOf(dir, module("3"))
    expect(edited.parsed).toBeGreaterThan(0)
    expect(edited.a).toBe(first.a)
    expect(edited.b).not.toBe(first.b)
    expect([edited.a, edited.b]).toEqual(edited.fresh)
    expect(entries(dir)).toHaveLength(2)
  })

  it("ignore an entry saved for another text, even one copied under this text's name", async () => {
    const dir = folder()
    const other = await digestsOf(dir, module("2"))
    const saved = digestsDirIn(path.join(dir, ".weft"))
    const [name] = entries(dir)
    // Forged: the other text's entry with a wrong digest, put where this text's entry goes.
    const forged = JSON.parse(readFileSync(path.join(saved, name!), "utf8")) as { digests: Record<string, string> }
    forged.digests.b = "0".repeat(64)
    write(dir, { "weft.ts": module("3") })
    const { value: { workflow }, texts } = await loadWithTexts(path.join(dir, "weft.ts"), () => loadWorkflow("weft.ts", dir))
    const key = digestsKey(workflow, path.join(dir, "weft.ts"), texts!)
    expect(key).not.toBe(name!.replace(/\.json$/, ""))
    writeFileSync(path.join(saved, `${key}.json`), JSON.stringify(forged))
    const now = await digestsOf(dir, module("3"))
    expect(now.parsed).toBeGreaterThan(0)
    expect(now.b).not.toBe("0".repeat(64))
    expect(now.b).not.toBe(other.b)
    expect([now.a, now.b]).toEqual(now.fresh)
  })

  it("recompute, with no error, when the saved file is corrupt", async () => {
    const damages: ReadonlyArray<(text: string) => string> = [
      () => "{ not json",
      () => "",
      () => "null",
      () => JSON.stringify({ format: 1, key: "x", digests: [], packages: 3 }),
      (text) => text.slice(0, text.length / 2),
      // One digest's character changed: still JSON, still the right key.
      (text) => text.replace(/"a":"(.)/, (_, c: string) => `"a":"${c === "0" ? "1" : "0"}`)
    ]
    for (const damage of damages) {
      const dir = folder()
      const first = await digestsOf(dir, module())
      const saved = digestsDirIn(path.join(dir, ".weft"))
      for (const name of entries(dir)) writeFileSync(path.join(saved, name), damage(readFileSync(path.join(saved, name), "utf8")))
      const again = await digestsOf(dir, module())
      expect(again.parsed).toBeGreaterThan(0)
      expect([again.a, again.b]).toEqual([first.a, first.b])
      // Rewritten whole: the run after is spared the parse again.
      expect((await digestsOf(dir, module())).parsed).toBe(0)
    }
  })

  it("recompute when a package the module imports has another version than when saved", async () => {
    const dir = folder()
    const pkg = path.join(dir, "node_modules", "leftpad")
    mkdirSync(pkg, { recursive: true })
    write(pkg, { "package.json": JSON.stringify({ name: "leftpad", version: "1.0.0", type: "module", main: "index.js" }), "index.js": "export const version = 1\n" })
    // (A constant, not a call: under vitest's loader a runner's source is rewritten where it names an import.)
    const text = module().replace(weft, `${weft}\nimport { version } from "leftpad"\nconst v = version`).replace("() => one()", "() => v")
    const first = await digestsOf(dir, text)
    expect(first.a).toBeDefined()
    expect((await digestsOf(dir, text)).parsed).toBe(0)
    write(pkg, { "package.json": JSON.stringify({ name: "leftpad", version: "1.0.1", type: "module", main: "index.js" }) })
    const upgraded = await digestsOf(dir, text)
    expect(upgraded.parsed).toBeGreaterThan(0)
    expect(upgraded.a).not.toBe(first.a)
  })
})
