/**
 * Loads a workflow from a file: a TypeScript or JavaScript module whose
 * default export is a workflow, or a JSON / YAML spec. Every way this can go
 * wrong becomes a `LoadError` that names the file and says what to do.
 */
import { existsSync, readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as Data from "effect/Data"
import { fromSpec, type Spec } from "../dsl/Spec.ts"
import { isWorkflow, type Workflow } from "../dsl/Workflow.ts"
import { loadWithTexts, type ModuleTexts } from "./watch/moduleTexts.ts"
import { importModule } from "./importModule.ts"
import { parseSpec } from "./parseSpec.ts"

export class LoadError extends Data.TaggedError("LoadError")<{
  readonly file: string
  readonly problem: string
}> {
  override get message(): string {
    return `${this.file}: ${this.problem}`
  }
}

export interface Loaded {
  readonly file: string
  readonly workflow: Workflow<any>
  /**
   * The texts of a module file and its local modules, as the workflow was
   * loaded from them (read before and after the import, kept when both
   * agree); `"unknown"` when a save fell in between; `undefined` for a spec
   * file. The run's cache settings take them (`moduleTexts`).
   */
  readonly texts?: ModuleTexts | "unknown" | undefined
}

const moduleExtensions = [".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"]

/**
 * Loads `file` (relative to `cwd`); a fresh import each time, never the
 * module cache. `command` is the `weft` command loading it, which the
 * messages name when they say what to type instead.
 */
export const loadWorkflow = async (file: string, cwd: string = process.cwd(), command = "run"): Promise<Loaded> => {
  const absolute = path.resolve(cwd, file)
  const shown = path.relative(cwd, absolute) || file
  const fail = (problem: string): never => {
    throw new LoadError({ file: shown, problem })
  }
  if (!existsSync(absolute)) {
    fail(file === "weft.ts"
      ? `no such file. \`weft ${command}\` without a file looks for weft.ts in the current folder (${cwd}): ` +
        `name a workflow file (weft ${command} path/to/workflow.ts), or create weft.ts (\`weft init\` writes a starter)`
      : `no such file (looked in ${path.dirname(absolute)}). Check the path: weft ${command} takes a workflow file, .ts, .js, .json or .yaml`)
  }
  if (statSync(absolute).isDirectory()) fail("is a folder; name a workflow file inside it")
  const ext = path.extname(absolute).toLowerCase()
  if (ext === ".json" || ext === ".yaml" || ext === ".yml") return { file: shown, workflow: loadSpec(absolute, shown, ext, fail) }
  if (!moduleExtensions.includes(ext)) fail(`weft reads .ts, .js, .json and .yaml workflow files, not ${ext || "files without an extension"}`)
  let module: Record<string, unknown>
  let texts: ModuleTexts | undefined
  try {
    ;({ value: module, texts } = await loadWithTexts(absolute, () => importFresh(absolute)))
  } catch (error) {
    return fail(describeImportError(error, absolute, shown))
  }
  const candidate = module.default
  if (candidate === undefined) {
    const named = Object.entries(module).filter(([, value]) => isWorkflow(value)).map(([name]) => name)
    fail(`has no default export. Add \`export default workflow("name")…\`${named.length > 0 ? ` (it exports ${named.join(", ")}: export one as default)` : ""}`)
  }
  if (!isWorkflow(candidate)) fail(`its default export is ${describe(candidate)}, not a workflow. Export the result of workflow("name").step(…)`)
  return { file: shown, workflow: candidate as Workflow<any>, texts: texts ?? "unknown" }
}

/** A spec file's workflow; its definition problems are a `DefinitionError` (exit 2), as a module's are. */
const loadSpec = (absolute: string, shown: string, ext: string, fail: (problem: string) => never): Workflow<any> => {
  const parsed = parseSpec(readFileSync(absolute, "utf8"), ext === ".json" ? "json" : "yaml")
  if ("problem" in parsed) return fail(parsed.problem)
  return fromSpec(parsed.data as Spec, { file: shown })
}

/** Errors for which tsx, not Node's type stripping, can load the file; they occur before any module code runs. */
const needsTsx = new Set([
  "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX",
  "ERR_UNKNOWN_FILE_EXTENSION",
  "ERR_MODULE_NOT_FOUND",
  "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING",
  "ERR_UNSUPPORTED_DIR_IMPORT",
  "ERR_INVALID_TYPESCRIPT_SYNTAX"
])
/** Files this process has imported once already: importing them again needs a fresh URL. */
const imported = new Set<string>()

/**
 * Imports a module afresh (a query defeats the module cache, so watch mode
 * sees edits). Node's own type stripping first, since it starts fast; tsx for
 * what it cannot do (enums, .tsx, `./x.js` naming `./x.ts`, tsconfig paths).
 */
const importFresh = async (absolute: string): Promise<Record<string, unknown>> => {
  const href = pathToFileURL(absolute).href
  // The first import in a process needs no query: nothing is cached yet. The
  // plain URL lets Node's compile cache serve the type-stripped file (a query
  // that changes every run defeated it: 25 ms and 17 MB more per run).
  const first = !imported.has(absolute)
  imported.add(absolute)
  try {
    return await importModule(first ? href : `${href}?weft=${Date.now()}`)
  } catch (error) {
    const code = (error as { code?: string }).code
    const syntax = (error as Error).name === "SyntaxError" && /\.[cm]?tsx?$/.test(absolute)
    if (!(needsTsx.has(code ?? "") || syntax)) throw error
    // `tsImport`, not a global `register()` plus the query: in a package
    // without "type": "module" tsx loads the file as CommonJS, whose resolver
    // takes `?weft=…` as part of the file name ("Cannot find module
    // 'weft.ts?weft=…'"). Each `tsImport` loads a fresh module graph, so the
    // query is not needed for watch mode either.
    const tsx = (await importModule("tsx/esm/api")) as unknown as typeof import("tsx/esm/api")
    const module = (await tsx.tsImport(href, import.meta.url)) as Record<string, unknown>
    // Loaded as CommonJS, the file's exports arrive as `default` (with `__esModule`).
    const exports = module.default as { __esModule?: unknown } | undefined
    return typeof exports === "object" && exports !== null && exports.__esModule === true ? (exports as Record<string, unknown>) : module
  }
}

export { prepareYaml } from "./parseSpec.ts"

/** Turns an import failure into one line for the author: where and what, no stack. */
const describeImportError = (error: unknown, absolute: string, shown: string): string => {
  const e = error as { message?: string; code?: string; name?: string; stack?: string }
  const message = (e?.message ?? String(error)).split("\n")[0]!.replace(absolute, shown)
  if (e?.name === "SyntaxError" || /Transform failed|Expected|Unexpected/.test(e?.message ?? "")) {
    const location = /:(\d+):(\d+)/.exec(e?.message ?? "")
    const detail = (e?.message ?? "").split("\n").find((line) => /ERROR:/.test(line))?.replace(/^.*ERROR:\s*/, "")
    return `has a syntax error${location ? ` at line ${location[1]}, column ${location[2]}` : ""}: ${detail ?? message}`
  }
  if (e?.code === "ERR_MODULE_NOT_FOUND") return `imports something that cannot be found: ${message}`
  return `failed while loading: ${message}`
}

const describe = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "function" ? "a function" : typeof value === "object" ? "an object" : `a ${typeof value}`
