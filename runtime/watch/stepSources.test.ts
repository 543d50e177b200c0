/**
 * Step digests of real workflow modules, loaded as watch mode loads them:
 * two versions of a module, and which function steps' digests differ (or
 * are missing: unprovable), which is what `diffWorkflows` calls changed.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { dslIndex, folder, removeFolders, repoRoot, write } from "../../test/fixtures/watch/harness.ts"
import { loadWorkflow } from "../loadWorkflow.ts"
import { loadWithTexts, makeStepDigest, readModuleTexts } from "./stepSources.ts"

afterAll(removeFolders)

type Files = Readonly<Record<string, string>>

/** Each step's digest (`undefined`: unprovable) for the workflow `weft.ts` among `files`. */
const digestsOf = async (files: Files): Promise<Map<string, string | undefined>> => {
  const dir = folder()
  for (const name of Object.keys(files)) mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
  write(dir, files)
  const file = path.join(dir, "weft.ts")
  const { value: { workflow }, texts } = await loadWithTexts(file, () => loadWorkflow("weft.ts", dir))
  const digest = makeStepDigest(workflow, file, texts)
  return new Map(workflow.steps.map((def) => [def.id, digest(def)]))
}

/** The steps of `after` also in `before` whose digests differ or are missing: what an edit from one to the other changed. */
const changed = async (before: Files, after: Files): Promise<Array<string>> => {
  const [a, b] = [await digestsOf(before), await digestsOf(after)]
  return [...b.keys()].filter((id) => a.has(id) && (a.get(id) === undefined || a.get(id) !== b.get(id)))
}

/** Every step of `module()`. */
const all = ["a", "b", "c", "d", "e", "f", "g:x", "g:y", "g", "h", "s"]

const weft = `import { sh, workflow } from ${JSON.stringify(dslIndex)}`

const lib = {
  "lib.ts": `import { punct } from "./punct.ts"\nexport const greet = (name: string): string => "hi " + name + punct\nexport const runner = () => 42\n`,
  "punct.ts": `export const punct: string = "!"\n`
}

/** One module with a step per kind of dependency; `edit` replaces one piece of it. */
const module = (edit: Readonly<Record<string, string>> = {}): Files => {
  const part = (name: string, text: string) => edit[name] ?? text
  return {
    ...lib,
    "weft.ts": [
      weft,
      `import { greet } from "./lib.ts"`,
      ``,
      `// Helpers.`,
      part("twice", `const twice = (n: number): number => n * 2`),
      part("quad", `const quad = (n: number): number => twice(twice(n))`),
      part("other", `const other = (n: number): number => n + 1`),
      part("limit", `const limit = 10`),
      part("config", `const config = "fast"`),
      `const makeRunner = (mode: string) => () => mode`,
      `const hello = (name: string): string => greet(name)`,
      part("top", ``),
      ``,
      `export default workflow("w")`,
      part("a", `  .step("a", () => quad(1))`),
      `  .step("b", () => { const n = other(2); return n })`,
      `  .step("c", () => limit)`,
      `  .step("d", () => hello("d"))`,
      `  .step("e", makeRunner(config))`,
      part("f", `  .step("f", makeRunner("slow"))`),
      part("g", `  .each("g", ["x", "y"], (item) => () => item)`),
      `  .step("h", { needs: ["a"] }, ({ a }) => a + 1)`,
      `  .step("s", sh\`echo s\`)`,
      part("extra", ``),
      ``
    ].join("\n")
  }
}

describe("a function step's digest changes with the source it depends on", () => {
  it("its own body", async () => {
    expect(await changed(module(), module({ a: `  .step("a", () => quad(2))` }))).toEqual(["a"])
  })

  it("a helper it calls, directly or through another helper", async () => {
    expect(await changed(module(), module({ quad: `const quad = (n: number): number => twice(n) * 2` }))).toEqual(["a"])
    expect(await changed(module(), module({ twice: `const twice = (n: number): number => n + n` }))).toEqual(["a"])
  })

  it("a top-level constant it reads", async () => {
    expect(await changed(module(), module({ limit: `const limit = 11` }))).toEqual(["c"])
  })

  it("a local module it imports, and one that module imports", async () => {
    const edited = (name: keyof typeof lib, text: string) => ({ ...module(), [name]: text })
    expect(await changed(module(), edited("lib.ts", lib["lib.ts"].replace(`"hi "`, `"hello "`)))).toEqual(["d"])
    expect(await changed(module(), edited("punct.ts", `export const punct: string = "?"\n`))).toEqual(["d"])
  })

  it("a runner made by a factory: the factory's argument in the chain, or a constant passed to it", async () => {
    expect(await changed(module(), module({ f: `  .step("f", makeRunner("slower"))` }))).toEqual(["f"])
    expect(await changed(module(), module({ config: `const config = "faster"` }))).toEqual(["e"])
  })

  it("an .each's items or item maker: every item step and the gather step", async () => {
    expect(await changed(module(), module({ g: `  .each("g", ["x", "y", "z"], (item) => () => item)` }))).toEqual(["g:x", "g:y", "g"])
    expect(await changed(module(), module({ g: `  .each("g", ["x", "y"], (item) => () => item + "!")` }))).toEqual(["g:x", "g:y", "g"])
  })

  it("a top-level statement that may change shared state: every step", async () => {
    const before = module({ top: `;(globalThis as { mode?: string }).mode = "slow"` })
    expect(await changed(before, module({ top: `;(globalThis as { mode?: string }).mode = "slower"` }))).toEqual(all)
    // Unchanged, it is in every digest without making any unprovable.
    expect(await changed(before, { ...before })).toEqual([])
  })

  it("a call that writes while the module loads, in another step's arguments or a declaration, reaches steps that never name it", async () => {
    const registry = (p: string, extra = "") => module({
      top: [`const registry: Array<string> = []`, `const register = (name: string) => { registry.push(name); return () => name }`, extra].join("\n"),
      f: `  .step("f", register(${JSON.stringify(p)}))`,
      extra: `  .step("list", () => registry.join(","))`
    })
    expect(await changed(registry("p"), registry("q"))).toContain("list")
    // A declaration's initializer that writes what a step reads.
    const bumped = (times: string) => module({
      top: [`const counter = { n: 1 }`, `const bump = (c: { n: number }) => { c.n += 1; return c.n }`, `const bumped = ${times}`].join("\n"),
      extra: `  .step("k", () => counter.n)`
    })
    expect(await changed(bumped("bump(counter)"), bumped("bump(counter) + bump(counter)"))).toContain("k")
  })

  it("a local module whose top level may write: an edit there reaches every step", async () => {
    const setup = (mode: string) => ({ ...module({ top: `import "./setup.ts"` }), "setup.ts": `(globalThis as { mode?: string }).mode = ${JSON.stringify(mode)}\n` })
    expect(await changed(setup("a"), setup("b"))).toEqual(all)
    expect(await changed(setup("a"), setup("a"))).toEqual([])
  })

  it("a package a local module starts to import (its top level runs then): every step; an installed package's exports can be pinned", async () => {
    const polyfill = {
      "node_modules/polyfill/package.json": JSON.stringify({ name: "polyfill", version: "1.0.0", type: "module", main: "index.js" }),
      "node_modules/polyfill/index.js": `globalThis.polyfilled = true\nexport const version = "1"\n`
    }
    const before: Files = { ...module({ extra: `  .step("p", () => (globalThis as { polyfilled?: boolean }).polyfilled === true)` }), ...polyfill }
    const after = { ...before, "punct.ts": `import "polyfill"\n${before["punct.ts"]}` }
    expect(await changed(before, after)).toEqual([...all, "p"])
    const pinned = { ...module({ top: `import { version } from "polyfill"\nconst v = version`, extra: `  .step("v", () => v)` }), ...polyfill }
    expect(await changed(pinned, pinned)).toEqual([])
  })

  it("state another step may change as it runs makes the steps that reach it unprovable; constants and functions do not", async () => {
    const digests = await digestsOf(module({
      top: [
        `const collected: Array<string> = []`,
        `const byName = new Map<string, number>()`,
        `const settings = { retries: 3 }`,
        `const client = makeClient()`,
        `function makeClient() { return { calls: 0 } }`,
        `const remember = (s: string) => collected.push(s)`,
        `const label = "v" + limit`,
        `const count = Number("3")`,
        `const alias = settings.retries`
      ].join("\n"),
      extra: [
        `  .step("push", () => remember("x"))`,
        `  .step("map", () => byName.size)`,
        `  .step("object", () => settings.retries)`,
        `  .step("made", () => client.calls)`,
        `  .step("primitive", () => label + count)`,
        `  .step("alias", () => alias)`
      ].join("\n")
    }))
    for (const id of ["push", "map", "object", "made", "alias"]) expect(digests.get(id), id).toBeUndefined()
    expect(digests.get("primitive")).toBeDefined()
    // The rest of the module's steps keep their digests.
    expect(digests.get("a")).toBeDefined()
  })

  it("a local module with state behind its functions: everything imported from it", async () => {
    const files = {
      // Through local helpers: under vitest's loader a runner naming an import prints differently (see the test that spawns node below).
      ...module({
        top: `import { remember, recall } from "./store.ts"\nconst put = (k: string) => remember(k)\nconst get = () => recall()`,
        extra: `  .step("put", () => put("k"))\n  .step("get", () => get())`
      }),
      "store.ts": `const items: Array<string> = []\nexport const remember = (s: string) => { items.push(s) }\nexport const recall = () => items.join(",")\n`
    }
    const digests = await digestsOf(files)
    // Without the state, the same steps have digests: the state is what makes them unprovable.
    const stateless = await digestsOf({ ...files, "store.ts": `export const remember = (s: string) => s\nexport const recall = () => ""\n` })
    expect(stateless.get("put")).toBeDefined()
    expect(stateless.get("get")).toBeDefined()
    expect(digests.get("put")).toBeUndefined()
    expect(digests.get("get")).toBeUndefined()
    // lib.ts (greet) has no state: d keeps its digest.
    expect(digests.get("d")).toBeDefined()
  })

  it("a let or a function that the module assigns anywhere makes the steps that name it unprovable", async () => {
    const withLet = (value: string) => module({ top: `let level = ${value}`, extra: `  .step("lvl", () => level)` })
    // Never assigned, a let is as good as a const.
    expect(await changed(withLet("1"), withLet("2"))).toEqual(["lvl"])
    const assigned = module({ top: `let level = 1`, extra: `  .step("lvl", () => level)\n  .step("up", () => { level++; return level })` })
    expect(await changed(assigned, assigned)).toEqual(["lvl", "up"])
  })

  it("a runner that comes from another module is unprovable", async () => {
    const imported = module({ top: `import { runner } from "./lib.ts"`, extra: `  .step("r", runner)` })
    expect(await changed(imported, imported)).toEqual(["r"])
  })

  it("import.meta, which changes with every reload, makes the steps that use it unprovable, in the module or a local module", async () => {
    const meta = {
      ...module({ top: `import { where } from "./where.ts"\nconst here = import.meta.url\nconst there = where`, extra: `  .step("m", () => here)\n  .step("n", () => there())` }),
      "where.ts": `export const where = (): string => import.meta.url\n`
    }
    expect(await changed(meta, meta)).toEqual(["m", "n"])
  })

  it("a module Node's type stripping cannot read (an enum), or a chain it cannot follow: every step", async () => {
    const withEnum = module({ top: `enum Mode { Fast, Slow }` })
    expect(await changed(withEnum, withEnum)).toEqual(all)
    // A step id that is not a literal: which call made which step is unknown.
    const computed = module({ extra: `  .step(["x", "y"].join(""), () => 1)` })
    expect(await changed(computed, computed)).toEqual([...all, "xy"])
  })

  it("texts that changed while the module loaded are not the texts it was loaded from", async () => {
    const dir = folder()
    write(dir, module())
    const file = path.join(dir, "weft.ts")
    const { texts } = await loadWithTexts(file, async () => writeFileSync(path.join(dir, "punct.ts"), `export const punct = "?"\n`))
    expect(texts).toBeUndefined()
    const { texts: steady } = await loadWithTexts(file, async () => undefined)
    expect(steady).toEqual(readModuleTexts(file))
  })
})

describe("a function step's digest stays when the edit is elsewhere", () => {
  it("another step's body, or a helper only another step uses", async () => {
    expect(await changed(module(), module({ a: `  .step("a", () => quad(3))` }))).not.toContain("b")
    expect(await changed(module(), module({ other: `const other = (n: number): number => n - 1` }))).toEqual(["b"])
  })

  it("a new step: the others keep theirs", async () => {
    expect(await changed(module(), module({ extra: `  .step("new", () => 0)` }))).toEqual([])
  })

  it("the same module again, and a comment between top-level statements (a comment inside one changes the steps that depend on it)", async () => {
    expect(await changed(module(), module())).toEqual([])
    expect(await changed(module(), module({ top: `// a note\n/* another */` }))).toEqual([])
    expect(await changed(module(), module({ limit: `const limit = /* the most */ 10` }))).toEqual(["c"])
    // After a statement's end, a comment is between statements.
    expect(await changed(module(), module({ limit: `const limit = 10 // the most` }))).toEqual([])
  })
})

/**
 * Each step's digest (null: unprovable) for each folder's `weft.ts`, computed
 * in a child under Node's own loader: Node strips the types itself, so
 * `fn.toString()` is the module's own text (blanks for types), which a test
 * runner's transform is not; it leaves `import.meta` as written too.
 */
const nativeDigests = (dirs: ReadonlyArray<string>): { readonly stderr: string; readonly digests: Array<Record<string, string | null>> } => {
  const script = `
    import * as path from "node:path"
    import { loadWorkflow } from ${JSON.stringify(path.join(repoRoot, "runtime/loadWorkflow.ts"))}
    import { loadWithTexts, makeStepDigest } from ${JSON.stringify(path.join(repoRoot, "runtime/watch/stepSources.ts"))}
    const out = []
    for (const dir of process.argv.slice(1)) {
      const file = path.join(dir, "weft.ts")
      const { value: { workflow }, texts } = await loadWithTexts(file, () => loadWorkflow("weft.ts", dir))
      const digest = makeStepDigest(workflow, file, texts)
      out.push(Object.fromEntries(workflow.steps.map((def) => [def.id, digest(def) ?? null])))
    }
    process.stdout.write(JSON.stringify(out))`
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, ...dirs], { encoding: "utf8" })
  return { stderr: child.stderr, digests: JSON.parse(child.stdout) as Array<Record<string, string | null>> }
}

const folderWith = (files: Files): string => {
  const dir = folder()
  write(dir, files)
  return dir
}

describe("under Node's own loader", () => {
  it("a runner's source is found as written, imported names and all, and nothing is printed", () => {
    const files = module({ extra: `  .step("i", () => greet("i"))` })
    const { stderr, digests: [a, b] } = nativeDigests([folderWith(files), folderWith({ ...files, "punct.ts": `export const punct: string = "?"\n` })])
    expect(stderr).toBe("")
    expect(a!["i"]).toEqual(expect.any(String))
    expect(Object.keys(b!).filter((id) => a![id] === null || a![id] !== b![id])).toEqual(["d", "i"])
  })

  it("import.meta's folder and file name, and a relative path resolved against its URL, are the same in every load; the URL itself is not", () => {
    const located = (body: string) =>
      module({
        top: `import { readFileSync } from "node:fs"\nconst page = (name: string) => () => readFileSync(new URL(\`./\${name}.md\`, import.meta.url), "utf8") + import.meta.dirname`,
        extra: `  .step("p", page("intro"))\n  .step("q", () => import.meta.filename)\n  .step("u", () => new URL(String(1), import.meta.url).href)\n  .step("o", () => ${body})`
      })
    const { digests: [a, b] } = nativeDigests([folderWith(located("1")), folderWith(located("2"))])
    expect(a!["p"]).toEqual(expect.any(String))
    expect(a!["q"]).toEqual(expect.any(String))
    // The URL carries the reload's query, and a path that is not relative may keep it: unprovable.
    expect(a!["u"]).toBeNull()
    expect(Object.keys(b!).filter((id) => a![id] === null || a![id] !== b![id])).toEqual(["u", "o"])
  })
})
