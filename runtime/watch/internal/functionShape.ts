/**
 * A function's shape: its syntax tree without positions, layout, comments or
 * quoting. `fn.toString()` is the exact source under Node's own loader, but
 * other loaders (tsx, a test runner) print the code they compiled: the shape
 * is what both say alike.
 */
import { parse, type AnyNode } from "acorn"
import { walk } from "./syntax.ts"

const ignored = new Set(["start", "end", "raw", "shorthand", "directive"])

const shape = (node: AnyNode): string =>
  JSON.stringify({ ...node, type: node.type === "FunctionDeclaration" ? "FunctionExpression" : node.type }, (key, value) =>
    ignored.has(key) ? undefined : typeof value === "bigint" ? `${value}n` : value
  )

/** The one expression `code` is, or `undefined`. */
const parseFunction = (code: string): AnyNode | undefined => {
  try {
    const { body } = parse(code, { ecmaVersion: "latest", sourceType: "module" })
    return body.length === 1 && body[0]!.type === "ExpressionStatement" ? body[0]!.expression : undefined
  } catch {
    return undefined
  }
}

/** The shape of a function's source (an arrow, a function or a method), `undefined` when it is not one (a native or bound function). */
export const shapeOfSource = (source: string): string | undefined => {
  const plain = parseFunction(`(${source})`)
  if (plain?.type === "ArrowFunctionExpression" || plain?.type === "FunctionExpression") return shape(plain)
  // A method prints without its object: `name() {…}`.
  const wrapped = parseFunction(`({${source}})`)
  if (wrapped?.type !== "ObjectExpression" || wrapped.properties.length !== 1) return undefined
  const property = wrapped.properties[0]!
  return property.type === "Property" && property.value.type === "FunctionExpression" ? shape(property.value) : undefined
}

/** The shapes of every function written inside `node`. */
export const functionShapes = (node: AnyNode): Set<string> => {
  const shapes = new Set<string>()
  walk(node, (inner) => {
    if (inner.type === "ArrowFunctionExpression" || inner.type === "FunctionExpression" || inner.type === "FunctionDeclaration") shapes.add(shape(inner))
  })
  return shapes
}
