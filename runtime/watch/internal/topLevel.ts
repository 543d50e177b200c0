/**
 * A module's top level as units of code and the names they bind. A step's
 * digest is made of units: what it mentions by name, followed name by name.
 * Names, not scopes: a unit mentions every identifier written in it, even a
 * local or a property that shares a top-level name. That takes in more than
 * the code reads, never less.
 */
import type { AnyNode } from "acorn"
import { patternTargets, walk, type Parsed } from "./syntax.ts"

/** A stretch of the module's code: a top-level statement, or a builder call's arguments. */
export interface Unit {
  readonly start: number
  readonly end: number
  readonly nodes: ReadonlyArray<AnyNode>
  /** The code as Node runs it (types blanked). */
  readonly text: string
  /** Every identifier written in it. */
  readonly names: ReadonlySet<string>
  /** It uses what cannot be followed by name: `import.meta`'s URL (it changes with every reload; see `unitOf`), a computed `import()`, `require`. */
  readonly opaque: boolean
  /** The modules it loads: its import or re-export, and each `import("literal")`. */
  readonly imports: ReadonlyArray<string>
}

/** What a top-level name is bound to. */
export interface Binding {
  readonly unit: Unit
  readonly kind: "import" | "function" | "class" | "const" | "let" | "var"
  /** The value of `const name = value` (one plain name). */
  readonly init?: AnyNode | undefined
  /** The function a function declaration is, or `const name = () => …` holds. */
  readonly fn?: AnyNode | undefined
  /** For an import: where from, and which export (`default`, `*` or a name). */
  readonly source?: string | undefined
  readonly imported?: string | undefined
}

export interface TopLevel {
  readonly code: string
  /** Every top-level statement, in order. */
  readonly statements: ReadonlyArray<Unit>
  /** A name declared twice (`var`) has two bindings. */
  readonly bindings: ReadonlyMap<string, ReadonlyArray<Binding>>
  /** Names written anywhere in the module (`=`, `++`, a `for … of` target): a binding named so may not hold what it was declared with. */
  readonly assigned: ReadonlySet<string>
  /** Names bound anywhere below the top level (parameters, locals, catch clauses): inside a function, such a name may not be the top-level one. */
  readonly locals: ReadonlySet<string>
  /** The module calls `eval`, which can rebind anything it sees. */
  readonly evals: boolean
}

const opaqueNames = new Set(["require", "createRequire"])

const isMeta = (node: AnyNode): boolean => node.type === "MetaProperty" && node.meta.name === "import"

/** A path literal that starts `./` or `../` (a template literal's first part): resolving it against a URL drops the URL's query. */
const isRelative = (node: AnyNode | undefined): boolean => {
  const start = node?.type === "Literal" && typeof node.value === "string" ? node.value : node?.type === "TemplateLiteral" ? node.quasis[0]?.value.cooked ?? "" : undefined
  return start !== undefined && /^\.\.?\//.test(start) && !/[?#]/.test(start.split("${")[0]!)
}

/** The unit made of `nodes` (consecutive, in order). */
export const unitOf = (code: string, nodes: ReadonlyArray<AnyNode>): Unit => {
  const names = new Set<string>()
  const imports: Array<string> = []
  let opaque = false
  // `import.meta` differs between reloads only by the query weft adds to the
  // module's URL: reading the folder or file name, or resolving a relative
  // path against the URL (which drops the query), is the same in every load.
  const resolved = new Set<AnyNode>()
  for (const root of nodes) {
    walk(root, (node) => {
      if (node.type === "MemberExpression" && isMeta(node.object) && !node.computed && node.property.type === "Identifier") {
        if (node.property.name === "dirname" || node.property.name === "filename" || resolved.has(node)) return false
      } else if (node.type === "NewExpression" && node.callee.type === "Identifier" && node.callee.name === "URL" && isRelative(node.arguments[0])) {
        const base = node.arguments[1]
        if (base?.type === "MemberExpression" && isMeta(base.object) && !base.computed && base.property.type === "Identifier" && base.property.name === "url") resolved.add(base)
      }
      if (node.type === "Identifier") {
        names.add(node.name)
        if (opaqueNames.has(node.name)) opaque = true
      } else if (node.type === "MetaProperty" && node.meta.name === "import") opaque = true
      else if (node.type === "ImportExpression") {
        if (node.source.type === "Literal" && typeof node.source.value === "string") imports.push(node.source.value)
        else opaque = true
      } else if ((node.type === "ImportDeclaration" || node.type === "ExportAllDeclaration" || node.type === "ExportNamedDeclaration") && node.source != null) {
        imports.push(String(node.source.value))
      }
    })
  }
  const start = nodes[0]?.start ?? 0
  const end = nodes.at(-1)?.end ?? start
  return { start, end, nodes, text: code.slice(start, end), names, opaque, imports }
}

/** The one binding of a name never reassigned; `undefined` for a global, or a name bound twice or written to. */
export const soleBinding = (top: TopLevel, name: string): Binding | undefined => {
  const found = top.bindings.get(name)
  return found?.length === 1 && !top.assigned.has(name) ? found[0] : undefined
}

/** The top level of a parsed module. */
export const topLevelOf = ({ program, code }: Parsed): TopLevel => {
  const statements: Array<Unit> = []
  const bindings = new Map<string, Array<Binding>>()
  const bind = (name: string, binding: Binding) => bindings.set(name, [...(bindings.get(name) ?? []), binding])
  for (const statement of program.body) {
    const unit = unitOf(code, [statement])
    statements.push(unit)
    if (statement.type === "ImportDeclaration") {
      for (const s of statement.specifiers) {
        const imported = s.type === "ImportDefaultSpecifier" ? "default" : s.type === "ImportNamespaceSpecifier" ? "*" : s.imported.type === "Identifier" ? s.imported.name : String(s.imported.value)
        bind(s.local.name, { unit, kind: "import", source: String(statement.source.value), imported })
      }
      continue
    }
    const declaration = statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration" ? statement.declaration : statement
    if (declaration == null) continue
    if (declaration.type === "FunctionDeclaration" && declaration.id != null) bind(declaration.id.name, { unit, kind: "function", fn: declaration })
    else if (declaration.type === "ClassDeclaration" && declaration.id != null) bind(declaration.id.name, { unit, kind: "class" })
    else if (declaration.type === "VariableDeclaration") {
      const kind = declaration.kind === "const" ? "const" : declaration.kind === "var" ? "var" : "let"
      for (const d of declaration.declarations) {
        const init = d.id.type === "Identifier" && d.init != null ? d.init : undefined
        const fn = init?.type === "ArrowFunctionExpression" || init?.type === "FunctionExpression" ? init : undefined
        for (const name of patternTargets(d.id).names) bind(name, { unit, kind, init, fn })
      }
    }
  }
  const declarations = new Set(program.body.map((s) => (s.type === "ExportNamedDeclaration" || s.type === "ExportDefaultDeclaration" ? s.declaration : s)))
  const assigned = new Set<string>()
  const locals = new Set<string>()
  const local = (pattern: AnyNode | null | undefined) => pattern != null && patternTargets(pattern).names.forEach((name) => locals.add(name))
  let evals = false
  walk(program, (node) => {
    if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") {
      node.params.forEach(local)
      if (!declarations.has(node)) local(node.id)
    } else if ((node.type === "ClassDeclaration" || node.type === "ClassExpression") && !declarations.has(node)) local(node.id)
    else if (node.type === "VariableDeclaration" && !declarations.has(node)) node.declarations.forEach((d) => local(d.id))
    else if (node.type === "CatchClause") local(node.param)
    if (node.type === "AssignmentExpression") for (const name of patternTargets(node.left).names) assigned.add(name)
    else if (node.type === "UpdateExpression" && node.argument.type === "Identifier") assigned.add(node.argument.name)
    else if ((node.type === "ForInStatement" || node.type === "ForOfStatement") && node.left.type !== "VariableDeclaration") {
      for (const name of patternTargets(node.left).names) assigned.add(name)
    } else if (node.type === "Identifier" && node.name === "eval") evals = true
  })
  return { code, statements, bindings, assigned, locals, evals }
}
