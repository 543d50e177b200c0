/**
 * Whether a top-level binding can hold state that steps change while they
 * run. A step's digest covers its own code and the declarations it names;
 * it cannot cover another step's body that pushes to the same module-level
 * array, sets a key of the same object, or fills the same cache:
 *
 *   const collected: Array<string> = []
 *   workflow("x").step("a", () => { collected.push("a1") })
 *     .step("report", { after: ["a"] }, () => collected.join(","))
 *
 * Editing `a` changes what `report` returns, yet `report`'s own code and the
 * declaration of `collected` are unchanged. So a step whose code reaches a
 * binding that may hold such state has no digest of its own (the module's
 * stands in, which any edit changes). Only what cannot be written through is
 * fixed: functions, and constants holding a primitive. A local module with
 * any other top-level binding may keep state behind its functions (a cache
 * they fill), so everything imported from it counts as state too. weft,
 * Node's builtins and packages do not: what steps share through them (files,
 * a package's globals) is outside the code, as undeclared inputs are.
 */
import type { AnyNode } from "acorn"
import type { Binding } from "./topLevel.ts"

/** Whether `binding`'s value can be changed through it (conservatively: yes unless proven not). */
export const mayHoldState = (binding: Binding): boolean => {
  switch (binding.kind) {
    case "function":
      return false
    case "const":
    case "let":
    case "var":
      // A reassigned `let` or `var` is unprovable already (`TopLevel.assigned`).
      return binding.fn === undefined && makesState(binding.init)
    default:
      // A class (static fields), an import (see `Imports.holdsState`).
      return true
  }
}

/** Functions of the language that return a primitive, whatever they are given. */
const primitiveMakers = new Set(["Number", "String", "Boolean", "BigInt", "Symbol", "parseInt", "parseFloat"])

/**
 * Whether evaluating `node` may make a new value that can be written through
 * (an object, an array, what a call or `new` returns). A name or a property
 * of one makes nothing new: the digest follows that name to its own binding,
 * which is judged in turn.
 */
const makesState = (node: AnyNode | undefined): boolean => {
  if (node === undefined) return false // `let x`: undefined
  switch (node.type) {
    case "Literal":
      return "regex" in node && node.regex !== undefined // a regex keeps `lastIndex`
    case "TemplateLiteral":
    case "UnaryExpression":
    case "BinaryExpression":
    case "Identifier":
    case "MemberExpression":
      // Strings, numbers, booleans, or what another binding holds.
      return false
    case "LogicalExpression":
      return makesState(node.left) || makesState(node.right)
    case "ConditionalExpression":
      return makesState(node.consequent) || makesState(node.alternate)
    case "CallExpression":
      return !(node.callee.type === "Identifier" && primitiveMakers.has(node.callee.name))
    default:
      return true
  }
}
