/**
 * The README and docs/ as a contract: their code blocks compile against
 * weft's own types, the marked ones match or run real code, and every
 * relative link leads somewhere.
 *
 * What each ```ts block gets:
 * - every block is type-checked (strict, the repository's tsconfig) against
 *   weft's sources, as if it sat in examples/ (so `./release.ts` is
 *   examples/release.ts). Blocks are fragments: weft's exports they use
 *   without importing are imported for them, and the few helpers they call
 *   without defining (`publish`, `api`, …) are declared in `helpers` below,
 *   with the types the text implies. So a renamed option, a changed
 *   signature or a wrong type in a doc fails here; what a helper does is not
 *   checked.
 * - `<!-- example: weft init -->` above a block: the block is exactly what
 *   `weft init` writes, and it runs (`run()`), succeeding.
 * - `<!-- run -->` above a block: a complete module, written to a temporary
 *   file and run: its default export, if a workflow, must succeed; otherwise
 *   importing it (top-level `await run(...)`) must not throw.
 * ```yaml blocks are loaded as `weft run` loads a spec, with no problem.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import * as weft from "../index.ts"
import { starter } from "../cli/init.ts"
import { loadWorkflow, prepareYaml } from "../runtime/loadWorkflow.ts"

const root = path.resolve(import.meta.dirname, "..")
const pages = ["README.md", ...readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)]

interface Block {
  readonly page: string
  readonly line: number
  readonly lang: string
  readonly marker: string | undefined
  readonly code: string
}

/** Every fenced block of a page, with the HTML comment just above it, if any. */
const blocksOf = (page: string): Array<Block> => {
  const lines = readFileSync(path.join(root, page), "utf8").split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!)
    if (open === null) continue
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l))
    if (end === -1) throw new Error(`${page}:${i + 1}: a code block that never closes`)
    const above = lines[i - 1] ?? ""
    const marker = /^<!--\s*(.*?)\s*-->$/.exec(above)?.[1]
    blocks.push({ page, line: i + 1, lang: open[1]!, marker, code: lines.slice(i + 1, end).join("\n") + "\n" })
    i = end
  }
  return blocks
}

const blocks = pages.flatMap(blocksOf)
const tsBlocks = blocks.filter((b) => b.lang === "ts")
const where = (b: Block) => `${b.page}:${b.line}`

/**
 * What the docs call without defining: each stands for the user's own code.
 * Global, so a block that defines one of these names itself shadows it.
 */
const helpers = `
interface Page { readonly url: string; readonly text: string }
interface Quote { readonly ticker: string; readonly price: number }
declare function publish(notes: string, options: { signal: AbortSignal }): Promise<{ url: string }>
declare function announce(release: { url: string }): Promise<void>
declare function fetchQuote(ticker: string): Promise<Quote>
declare function writeSection(topic: string, signal: AbortSignal): Promise<string>
declare function fetchPage(page: number, signal: AbortSignal): Promise<Page>
declare function fetchPrices(): Promise<Record<string, number>>
declare function parse(csv: string): Array<Record<string, string>>
declare function summarize(article: string): Promise<string>
declare const api: {
  profile(ticker: string): Promise<{ name: string }>
  prices(tickers: ReadonlyArray<string>): Promise<Array<number>>
  search(topics: ReadonlyArray<string>): Promise<Array<Array<string>>>
}
declare const articles: ReadonlyArray<string>
declare const tickers: ReadonlyArray<string>
declare const topics: ReadonlyArray<string>
declare const suites: ReadonlyArray<string>
`

/** The weft names a block uses without importing them, imported for it. */
const withImports = (code: string): string => {
  const imported = new Set<string>()
  for (const m of code.matchAll(/import\s*\{([^}]*)\}\s*from\s*"weft"/g)) {
    for (const name of m[1]!.split(",")) imported.add(name.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()!)
  }
  const missing = Object.keys(weft).filter((name) => !imported.has(name) && new RegExp(`\\b${name}\\b`).test(code))
  return `${missing.length > 0 ? `import { ${missing.join(", ")} } from "weft"` : "export {}"}\n${code}`
}

describe("the docs' code blocks", () => {
  it("every ```ts block type-checks against weft's own types", () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)) } })!
    const virtual = new Map<string, string>()
    const names = new Map<string, Block>()
    tsBlocks.forEach((block, i) => {
      const file = path.join(root, "examples", `__docs_block_${i}.ts`)
      virtual.set(file, withImports(block.code))
      names.set(file, block)
    })
    const helpersFile = path.join(root, "examples", "__docs_helpers.d.ts")
    virtual.set(helpersFile, helpers)
    const host = ts.createCompilerHost(config.options)
    const getSourceFile = host.getSourceFile.bind(host)
    host.getSourceFile = (file, language, ...rest) => {
      const text = virtual.get(path.resolve(file))
      return text === undefined ? getSourceFile(file, language, ...rest) : ts.createSourceFile(file, text, language)
    }
    const fileExists = host.fileExists.bind(host)
    host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists(file)
    const readFile = host.readFile.bind(host)
    host.readFile = (file) => virtual.get(path.resolve(file)) ?? readFile(file)
    const program = ts.createProgram([...virtual.keys()], config.options, host)
    const problems = [...names].flatMap(([file, block]) =>
      [...program.getSyntacticDiagnostics(program.getSourceFile(file)), ...program.getSemanticDiagnostics(program.getSourceFile(file))].map((d) => {
        // The first line is the added import: a block's own line n is file line n + 1.
        const line = d.start === undefined ? 0 : d.file!.getLineAndCharacterOfPosition(d.start).line
        return `${block.page}:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
      })
    )
    expect(tsBlocks.length).toBeGreaterThan(15)
    expect(problems).toEqual([])
  }, 180_000)

  it("the README's first workflow is exactly what `weft init` writes, and it runs", async () => {
    const marked = tsBlocks.filter((b) => b.marker === "example: weft init")
    expect(marked.map(where)).toHaveLength(1)
    expect(marked[0]!.code).toBe(starter)
    const result = await runModule(marked[0]!)
    expect(result).toBe("succeeded")
  })

  it("the blocks marked <!-- run --> run", async () => {
    const marked = tsBlocks.filter((b) => b.marker === "run")
    expect(marked.length).toBeGreaterThan(0)
    for (const block of marked) expect([where(block), await runModule(block)]).toEqual([where(block), "succeeded"])
  })

  it("every ```yaml block loads as a spec, as `weft run` loads one", async () => {
    const specs = blocks.filter((b) => b.lang === "yaml")
    expect(specs.length).toBeGreaterThan(0)
    await prepareYaml()
    for (const block of specs) {
      const dir = mkdtempSync(path.join(tmpdir(), "weft-docs-"))
      writeFileSync(path.join(dir, "spec.yaml"), block.code)
      const loaded = await loadWorkflow(path.join(dir, "spec.yaml"), dir)
      expect([where(block), weft.isWorkflow(loaded.workflow)]).toEqual([where(block), true])
    }
  })

  it("every blocks' marker is one this test knows", () => {
    const unknown = blocks.filter((b) => b.marker !== undefined && b.marker !== "run" && b.marker !== "example: weft init")
    expect(unknown.map((b) => `${where(b)}: ${b.marker}`)).toEqual([])
  })
})

/**
 * Writes a block to a temporary folder, its `weft` and `./x.ts` imports
 * pointed at this repository, and runs it there: a default-exported workflow
 * by `run()`; otherwise importing it is the run.
 */
const runModule = async (block: Block): Promise<string> => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-docs-"))
  const code = withImports(block.code)
    .replaceAll(`from "weft"`, `from ${JSON.stringify(pathToFileURL(path.join(root, "index.ts")).href)}`)
    .replace(/from "\.\/([\w-]+\.ts)"/g, (_, file: string) => `from ${JSON.stringify(pathToFileURL(path.join(root, "examples", file)).href)}`)
  const file = path.join(dir, "block.ts")
  writeFileSync(file, code)
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown }
  if (!weft.isWorkflow(module.default)) return "succeeded"
  const result = await weft.run(module.default, { cwd: dir, file })
  return result.status
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")

const anchorsOf = (file: string): Set<string> => {
  const text = readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "")
  return new Set([...text.matchAll(/^#{1,6}\s+(.*)$/gm)].map((m) => slug(m[1]!)))
}

describe("the docs' links", () => {
  it("every relative link in README.md and docs/*.md leads to a file that exists, and to a heading in it", () => {
    const broken: Array<string> = []
    let count = 0
    for (const page of pages) {
      const text = readFileSync(path.join(root, page), "utf8").replace(/^```[\s\S]*?^```/gm, "")
      for (const m of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const target = m[1]!
        if (/^[a-z]+:/i.test(target)) continue
        count++
        const [file, anchor] = target.split("#") as [string, string | undefined]
        const resolved = file === "" ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), file)
        let exists = true
        try {
          readFileSync(resolved)
        } catch {
          exists = false
        }
        if (!exists) broken.push(`${page}: ${target} (no such file)`)
        else if (anchor !== undefined && !anchorsOf(resolved).has(anchor)) broken.push(`${page}: ${target} (no such heading)`)
      }
    }
    expect(count).toBeGreaterThan(20)
    expect(broken).toEqual([])
  })

  it("every page in docs/ is linked from the README, and links back to it", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8")
    for (const page of pages.filter((p) => p !== "README.md")) {
      expect([page, readme.includes(`](${page})`)]).toEqual([page, true])
      expect([page, readFileSync(path.join(root, page), "utf8").includes("](../README.md)")]).toEqual([page, true])
    }
  })

  it("every examples/*.ts the docs name exists", () => {
    const named = new Set(pages.flatMap((page) => [...readFileSync(path.join(root, page), "utf8").matchAll(/examples\/[\w./-]+?\.(?:ts|md)\b/g)].map((m) => m[0])))
    expect(named.size).toBeGreaterThan(5)
    expect([...named].filter((file) => {
      try {
        readFileSync(path.join(root, file))
        return false
      } catch {
        return true
      }
    })).toEqual([])
  })
})
