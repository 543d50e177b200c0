/**
 * Which code may write, while the module loads, state that other code reads.
 * A step's digest follows the names it mentions; a write made elsewhere while
 * the module loads (`registry.set(…)` in another step's arguments, a call in a
 * declaration, a statement) reaches it by no name, so every step's digest
 * takes such code in. Deciding it is a question with one safe answer: code
 * may write unless it is built only of
 * - literals, names, operators, object and array literals, and functions
 *   created but not called (creating a closure writes nothing);
 * - calls of functions known not to write: builtins that only compute
 *   (`Object.keys`, `Math.max`, `JSON.parse`, `path.join`, array methods on
 *   arrays), weft's builder (`workflow`, `.step`, `.each`, `sh`, `cmd`), and
 *   top-level functions of the module whose own bodies pass this same test
 *   (writing only their own locals), with any callback passed to a builtin
 *   passing it too.
 * Not seen: getters, `valueOf`, `toString` or iterators with side effects run
 * by plain-looking code, and proxies.
 */
import type { AnonymousClassDeclaration, AnyNode, CallExpression, ClassDeclaration, ClassExpression, NewExpression, TaggedTemplateExpression } from "acorn"
import { patternTargets, walk } from "./syntax.ts"
import { soleBinding, type TopLevel } from "./topLevel.ts"

export interface LoadEffects {
  /** Running this top-level statement may write state other code reads (not counting the module an import loads). */
  readonly statementWrites: (statement: AnyNode) => boolean
  /** Running this builder call may write: its arguments, and for `.each` the item maker and `key` it calls while the module loads. */
  readonly callWrites: (call: CallExpression) => boolean
  /** `expr` is a workflow built by weft's `workflow(…)`, `.step` and `.each`. */
  readonly isWeftChain: (expr: AnyNode) => boolean
}

const pureGlobals = new Set(["String", "Number", "Boolean", "BigInt", "Symbol", "Array", "Object", "parseInt", "parseFloat", "isNaN", "isFinite", "encodeURIComponent", "decodeURIComponent", "encodeURI", "decodeURI"])
const pureConstructors = new Set(["Map", "Set", "WeakMap", "WeakSet", "Array", "Object", "Date", "RegExp", "Error", "TypeError", "RangeError", "URL", "URLSearchParams"])
/** Static functions of builtins; the number is the argument they call back, when they do. */
const pureStatics: Readonly<Record<string, ReadonlyMap<string, number | undefined> | "all">> = {
  Object: new Map([["keys", undefined], ["values", undefined], ["entries", undefined], ["fromEntries", undefined], ["getOwnPropertyNames", undefined], ["is", undefined]]),
  Array: new Map([["isArray", undefined], ["of", undefined], ["from", 1]]),
  JSON: new Map([["parse", 1], ["stringify", 1]]),
  Number: new Map([["isInteger", undefined], ["isFinite", undefined], ["isNaN", undefined], ["isSafeInteger", undefined], ["parseFloat", undefined], ["parseInt", undefined]]),
  String: new Map([["raw", undefined], ["fromCharCode", undefined], ["fromCodePoint", undefined]]),
  Date: new Map([["now", undefined], ["UTC", undefined], ["parse", undefined]]),
  Math: "all"
}
/** Methods of arrays and strings that do not change their receiver; the number is the argument they call back. */
const pureMethods = new Map<string, number | undefined>([
  ...["map", "filter", "flatMap", "some", "every", "find", "findIndex", "findLast", "findLastIndex", "reduce", "reduceRight", "forEach", "toSorted"].map((m) => [m, 0] as const),
  ...["replace", "replaceAll"].map((m) => [m, 1] as const),
  ...["slice", "concat", "join", "includes", "indexOf", "lastIndexOf", "at", "flat", "toReversed", "toUpperCase", "toLowerCase", "trim", "trimStart", "trimEnd", "split", "startsWith", "endsWith", "padStart", "padEnd", "repeat", "charAt", "substring", "toString", "toFixed"].map((m) => [m, undefined] as const)
])
/** Methods whose result is again an array or a string. */
const sameKindMethods = new Set(["map", "filter", "flatMap", "slice", "concat", "flat", "toSorted", "toReversed", "split", "join", "toUpperCase", "toLowerCase", "trim", "trimStart", "trimEnd", "padStart", "padEnd", "repeat", "charAt", "substring", "replace", "replaceAll", "toFixed", "toString"])
const weftPure = new Set(["workflow", "sh", "cmd", "shell", "quote"])
const urlPure = new Set(["fileURLToPath", "pathToFileURL"])

/** The analysis for one module; `isWeft` says whether an import specifier names weft itself. */
export const makeLoadEffects = (top: TopLevel, isWeft: (source: string) => boolean): LoadEffects => {
  // `nested`: inside a function, where a name bound anywhere below the top level may be that binding instead.
  const bindingOf = (name: string, nested: boolean) => (nested && top.locals.has(name) ? undefined : soleBinding(top, name))
  /** The name is not the module's: `Object` is the builtin. */
  const isGlobal = (name: string, nested: boolean) => !top.bindings.has(name) && !(nested && top.locals.has(name))
  const isTopLevel = (name: string) => top.bindings.has(name)

  const pureImport = (source: string | undefined, name: string | undefined): boolean => {
    if (source === undefined || name === undefined) return false
    if (isWeft(source)) return weftPure.has(name)
    if (/^(node:)?path(\/posix|\/win32)?$/.test(source)) return true
    return /^(node:)?url$/.test(source) && urlPure.has(name)
  }

  const pure = new Map<AnyNode, boolean>()
  const pureFunction = (fn: AnyNode | undefined): boolean => {
    if (fn === undefined || (fn.type !== "ArrowFunctionExpression" && fn.type !== "FunctionExpression" && fn.type !== "FunctionDeclaration")) return false
    const known = pure.get(fn)
    if (known !== undefined) return known
    // A recursive call does not make a function write: assume it does not while looking.
    pure.set(fn, true)
    const result = !fn.async && !fn.generator && !writesIn([...fn.params, fn.body], true)
    pure.set(fn, result)
    return result
  }

  /** A function passed where it will be called: one that passes the test, or data. */
  const safeCallback = (arg: AnyNode | undefined, nested: boolean): boolean => {
    if (arg === undefined || arg.type === "Literal" || arg.type === "ObjectExpression" || arg.type === "ArrayExpression") return true
    if (arg.type === "ArrowFunctionExpression" || arg.type === "FunctionExpression") return pureFunction(arg)
    return arg.type === "Identifier" && pureFunction(bindingOf(arg.name, nested)?.fn)
  }

  const isWeftChain = (expr: AnyNode, nested: boolean, seen = new Set<AnyNode>()): boolean => {
    if (seen.has(expr)) return false
    seen.add(expr)
    if (expr.type === "Identifier") {
      const binding = bindingOf(expr.name, nested)
      return binding?.kind === "const" && binding.init !== undefined && isWeftChain(binding.init, false, seen)
    }
    if (expr.type !== "CallExpression") return false
    const callee = expr.callee
    if (callee.type === "Identifier") {
      const binding = bindingOf(callee.name, nested)
      return binding?.kind === "import" && binding.imported === "workflow" && isWeft(binding.source!)
    }
    if (callee.type !== "MemberExpression" || callee.computed || callee.optional || callee.property.type !== "Identifier") return false
    if (callee.property.name === "step" || callee.property.name === "each") return isWeftChain(callee.object, nested, seen)
    const space = callee.object.type === "Identifier" ? bindingOf(callee.object.name, nested) : undefined
    return callee.property.name === "workflow" && space?.imported === "*" && isWeft(space.source!)
  }

  /** An array or a string, so that its methods are the builtins'. */
  const isArrayOrString = (expr: AnyNode, nested: boolean, seen = new Set<AnyNode>()): boolean => {
    if (seen.has(expr)) return false
    seen.add(expr)
    switch (expr.type) {
      case "ArrayExpression":
      case "TemplateLiteral":
        return true
      case "Literal":
        return typeof expr.value === "string"
      case "Identifier": {
        const binding = bindingOf(expr.name, nested)
        return binding?.kind === "const" && binding.init !== undefined && isArrayOrString(binding.init, false, seen)
      }
      case "CallExpression": {
        const callee = expr.callee
        if (callee.type !== "MemberExpression" || callee.computed || callee.property.type !== "Identifier") return false
        const name = callee.property.name
        if (callee.object.type === "Identifier" && isGlobal(callee.object.name, nested)) {
          return (callee.object.name === "Object" && ["keys", "values", "entries"].includes(name)) || (callee.object.name === "Array" && ["from", "of"].includes(name))
        }
        return sameKindMethods.has(name) && isArrayOrString(callee.object, nested, seen)
      }
      default:
        return false
    }
  }

  const pureCall = (node: CallExpression | NewExpression | TaggedTemplateExpression, nested: boolean): boolean => {
    const isNew = node.type === "NewExpression"
    const callee = node.type === "TaggedTemplateExpression" ? node.tag : node.callee
    const args: ReadonlyArray<AnyNode> = node.type === "TaggedTemplateExpression" ? node.quasi.expressions : node.arguments
    const calledBack = (index: number | undefined) => index === undefined || safeCallback(args[index], nested)
    if (callee.type === "ArrowFunctionExpression" || callee.type === "FunctionExpression") return !isNew && pureFunction(callee)
    if (callee.type === "Identifier") {
      if (isGlobal(callee.name, nested)) return (isNew ? pureConstructors : pureGlobals).has(callee.name)
      const binding = bindingOf(callee.name, nested)
      if (binding?.kind === "import") return pureImport(binding.source, binding.imported)
      return !isNew && pureFunction(binding?.fn)
    }
    if (isNew || callee.type !== "MemberExpression" || callee.computed || callee.property.type !== "Identifier") return false
    const name = callee.property.name
    const object = callee.object
    if (object.type === "Identifier" && isGlobal(object.name, nested)) {
      const statics = pureStatics[object.name]
      return statics === "all" || (statics?.has(name) === true && calledBack(statics.get(name)))
    }
    const space = object.type === "Identifier" ? bindingOf(object.name, nested) : undefined
    if (space?.kind === "import" && (space.imported === "*" || space.imported === "default")) return pureImport(space.source, name)
    if ((name === "step" || name === "each") && isWeftChain(object, nested)) return name === "step" || eachCallsNoWriter(args, nested)
    return pureMethods.has(name) && calledBack(pureMethods.get(name)) && isArrayOrString(object, nested)
  }

  /** `.each(id, items, [options], make)` calls `make` and `options.key` while the module loads. */
  const eachCallsNoWriter = (args: ReadonlyArray<AnyNode>, nested: boolean): boolean => {
    const make = args.at(-1)
    if (make === undefined || make.type === "SpreadElement" || make.type === "Literal" || !safeCallback(make, nested)) return false
    if (args.length < 4) return true
    const options = args[2]!
    if (options.type !== "ObjectExpression") return false
    return options.properties.every((p) => p.type === "Property" && !p.computed && (p.key.type !== "Identifier" || p.key.name !== "key" || safeCallback(p.value, nested)))
  }

  /** Writes a name of the module's top level, or a property, rather than a local of the function running. */
  const writesOutside = (pattern: AnyNode, nested: boolean): boolean => {
    if (!nested) return true
    const targets = patternTargets(pattern)
    return targets.property || targets.names.some(isTopLevel)
  }

  const classWrites = (node: ClassDeclaration | ClassExpression | AnonymousClassDeclaration, nested: boolean): boolean =>
    (node.superClass != null && writesIn([node.superClass], nested)) ||
    node.body.body.some((member) => {
      if (member.type === "StaticBlock") return writesIn(member.body, true)
      if (member.type !== "MethodDefinition" && member.type !== "PropertyDefinition") return false
      return (member.computed && writesIn([member.key], nested)) || (member.type === "PropertyDefinition" && member.static && member.value != null && writesIn([member.value], nested))
    })

  const writesIn = (nodes: ReadonlyArray<AnyNode>, nested: boolean): boolean => {
    let found = false
    for (const root of nodes) {
      walk(root, (node) => {
        if (found) return false
        switch (node.type) {
          case "ArrowFunctionExpression":
          case "FunctionExpression":
          case "FunctionDeclaration":
            return false
          case "ClassDeclaration":
          case "ClassExpression":
            found = classWrites(node, nested)
            return false
          case "AssignmentExpression":
            found = writesOutside(node.left, nested)
            return
          case "UpdateExpression":
            found = writesOutside(node.argument, nested)
            return
          case "ForInStatement":
          case "ForOfStatement":
            found = node.left.type !== "VariableDeclaration" && writesOutside(node.left, nested)
            return
          case "UnaryExpression":
            found = node.operator === "delete"
            return
          case "AwaitExpression":
          case "YieldExpression":
          case "ImportExpression":
            found = true
            return false
          case "CallExpression":
          case "NewExpression":
          case "TaggedTemplateExpression":
            found = !pureCall(node, nested)
            return
          case "VariableDeclaration":
            // `using` calls the value's dispose method when the scope ends.
            found = node.kind === "using" || node.kind === "await using"
            return
          default:
            return
        }
      })
      if (found) return true
    }
    return false
  }

  const statementWrites = (statement: AnyNode): boolean => {
    switch (statement.type) {
      // What loading an imported module does is looked at in that module.
      case "ImportDeclaration":
      case "ExportAllDeclaration":
      case "EmptyStatement":
        return false
      case "ExportNamedDeclaration":
        return statement.declaration != null && writesIn([statement.declaration], false)
      case "ExportDefaultDeclaration":
      case "FunctionDeclaration":
      case "ClassDeclaration":
      case "VariableDeclaration":
        return writesIn([statement], false)
      default:
        // Any other statement is code that runs.
        return true
    }
  }

  const callWrites = (call: CallExpression): boolean => {
    const each = call.callee.type === "MemberExpression" && call.callee.property.type === "Identifier" && call.callee.property.name === "each"
    return writesIn(call.arguments, false) || (each && !eachCallsNoWriter(call.arguments, false))
  }

  return { statementWrites, callWrites, isWeftChain: (expr) => isWeftChain(expr, false) }
}
