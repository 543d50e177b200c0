/**
 * A module's syntax tree, as Node runs it: TypeScript types stripped the way
 * Node's own loader strips them (types become blanks, so every position in
 * the stripped code is the same position in the file), then parsed by acorn.
 * Anything Node cannot strip (enums, namespaces) or acorn cannot parse (JSX,
 * decorators) has no tree: the callers then prove nothing about the module.
 */
import { parse, type AnyNode, type Pattern, type Program } from "acorn"
import * as nodeModule from "node:module"

export interface Parsed {
  readonly program: Program
  /** The code Node runs: the file's text with its types blanked out. */
  readonly code: string
}

const typescript = /\.[cm]?ts$/i
const javascript = /\.[cm]?js$/i

/**
 * How many modules this process has parsed: what saved digests spare
 * (`savedDigests.ts`), and what tests count to see that they did.
 */
export const parses = { count: 0 }

/** The module's tree, or `undefined` when it cannot be read as Node would run it. */
export const parseModule = (file: string, text: string): Parsed | undefined => {
  parses.count++
  const code = typescript.test(file) ? stripTypes(text) : javascript.test(file) ? text : undefined
  // Positions are what ties the tree to the text; a strip that moved them would tie it wrongly.
  if (code === undefined || code.length !== text.length) return undefined
  try {
    return { program: parse(code, { ecmaVersion: "latest", sourceType: "module" }), code }
  } catch {
    return undefined
  }
}

type Strip = (code: string) => string

/**
 * `module.stripTypeScriptTypes`, without the ExperimentalWarning Node 24
 * prints on its first use (the engine never prints). Node emits that warning
 * once per process through `process.emitWarning`, synchronously, so it is
 * held back for exactly this call.
 */
const stripTypes = (text: string): string | undefined => {
  const strip = (nodeModule as { stripTypeScriptTypes?: Strip }).stripTypeScriptTypes
  if (strip === undefined) return undefined
  const emitWarning = process.emitWarning
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: Array<unknown>) {
    const options = rest[0]
    const type = typeof options === "string" ? options : (options as { type?: unknown } | undefined)?.type
    if (type === "ExperimentalWarning" && String(warning).startsWith("stripTypeScriptTypes")) return
    return (emitWarning as (...args: Array<unknown>) => void).call(this, warning, ...rest)
  } as typeof process.emitWarning
  try {
    return strip(text)
  } catch {
    return undefined
  } finally {
    process.emitWarning = emitWarning
  }
}

const isNode = (value: unknown): value is AnyNode =>
  typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"

/** A node's children, in source order. */
export const children = (node: AnyNode): Array<AnyNode> => {
  const out: Array<AnyNode> = []
  for (const [key, value] of Object.entries(node)) {
    if (key === "type" || key === "start" || key === "end") continue
    if (Array.isArray(value)) for (const item of value) isNode(item) && out.push(item)
    else if (isNode(value)) out.push(value)
  }
  return out.sort((a, b) => a.start - b.start)
}

/** Visits `root` and its descendants depth first; `visit` returning false skips a node's children. */
export const walk = (root: AnyNode, visit: (node: AnyNode) => boolean | void): void => {
  const stack = [root]
  while (stack.length > 0) {
    const node = stack.pop()!
    if (visit(node) === false) continue
    const kids = children(node)
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!)
  }
}

/** What a binding or assignment pattern writes: names, and whether it writes a property (`[a.b] = …`) too. */
export interface Targets {
  readonly names: Array<string>
  property: boolean
}

export const patternTargets = (pattern: Pattern | AnyNode, into: Targets = { names: [], property: false }): Targets => {
  switch (pattern.type) {
    case "Identifier":
      into.names.push(pattern.name)
      break
    case "ObjectPattern":
      for (const p of pattern.properties) patternTargets(p.type === "RestElement" ? p.argument : p.value, into)
      break
    case "ArrayPattern":
      for (const e of pattern.elements) if (e !== null) patternTargets(e, into)
      break
    case "RestElement":
      patternTargets(pattern.argument, into)
      break
    case "AssignmentPattern":
      patternTargets(pattern.left, into)
      break
    default:
      into.property = true
  }
  return into
}

/** The string a literal id is (`"a"` or a template without holes), else `undefined`. */
export const literalString = (node: AnyNode | undefined): string | undefined => {
  if (node?.type === "Literal" && typeof node.value === "string") return node.value
  if (node?.type === "TemplateLiteral" && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined
  return undefined
}
