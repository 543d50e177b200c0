/**
 * The builder chain a module's default export is written as —
 * `export default workflow("w").step("a", …).each("b", …)`, possibly through
 * top-level constants (`const base = workflow("w")…; export default
 * base.step(…)`) — and which call made each step of the loaded workflow.
 *
 * The chain is the proof that a call made a step: it is the expression whose
 * value the loader took, evaluated once, and weft's builder appends one step
 * per `.step` and, per `.each`, its item steps then its gather step. So the
 * steps must be exactly the chain's, in order; anything else (a step id that
 * is not a literal, steps added by a function, a default export built any
 * other way) proves nothing.
 */
import type { AnyNode, CallExpression, Program } from "acorn"
import type { StepDef } from "../../../dsl/Step.ts"
import type { LoadEffects } from "./loadEffects.ts"
import { literalString } from "./syntax.ts"
import { soleBinding, type TopLevel, type Unit } from "./topLevel.ts"

/** A `.step(id, …)` or `.each(id, …)` call of the chain. */
export interface BuilderCall {
  readonly kind: "step" | "each"
  readonly id: string
  readonly call: CallExpression
}

export interface Chain {
  /** The `workflow(…)` call it starts with. */
  readonly root: CallExpression
  readonly calls: ReadonlyArray<BuilderCall>
  /** The top-level statements it is written in. */
  readonly statements: ReadonlySet<Unit>
}

/** What made a step: its call, and whether it is the gather step of an `.each`. */
export interface Maker {
  readonly call: BuilderCall
  readonly gather: boolean
}

/** The chain of the module's default export, or `undefined` when it is not one. */
export const defaultChain = (program: Program, top: TopLevel, effects: LoadEffects): Chain | undefined => {
  const index = program.body.findIndex((s) =>
    s.type === "ExportDefaultDeclaration" || (s.type === "ExportNamedDeclaration" && s.source == null && s.specifiers.some((e) => exportedName(e.exported) === "default"))
  )
  const statement = program.body[index]
  if (statement === undefined) return undefined
  const statements = new Set<Unit>([top.statements[index]!])
  let expr: AnyNode | undefined
  if (statement.type === "ExportDefaultDeclaration") expr = statement.declaration
  else if (statement.type === "ExportNamedDeclaration") {
    const local = statement.specifiers.find((e) => exportedName(e.exported) === "default")?.local
    expr = local?.type === "Identifier" ? local : undefined
  }
  const calls: Array<BuilderCall> = []
  const seen = new Set<AnyNode>()
  while (expr !== undefined && !seen.has(expr)) {
    seen.add(expr)
    if (expr.type === "Identifier") {
      const binding = soleBinding(top, expr.name)
      if (binding?.kind !== "const" || binding.init === undefined || !declaresOne(binding.unit)) return undefined
      statements.add(binding.unit)
      expr = binding.init
      continue
    }
    if (expr.type !== "CallExpression" || expr.optional) return undefined
    const callee = expr.callee
    const method = callee.type === "MemberExpression" && !callee.computed && !callee.optional && callee.property.type === "Identifier" ? callee.property.name : undefined
    if (callee.type === "MemberExpression" && (method === "step" || method === "each")) {
      const id = literalString(expr.arguments[0])
      if (id === undefined) return undefined
      calls.unshift({ kind: method, id, call: expr })
      expr = callee.object
      continue
    }
    return effects.isWeftChain(expr) ? { root: expr, calls, statements } : undefined
  }
  return undefined
}

/** The statement declares one name: nothing else in it runs as part of the chain's statement. */
const declaresOne = (unit: Unit): boolean => {
  const statement = unit.nodes[0]
  const declaration = statement?.type === "ExportNamedDeclaration" ? statement.declaration : statement
  return declaration?.type === "VariableDeclaration" && declaration.declarations.length === 1
}

const exportedName = (node: AnyNode): string | undefined =>
  node.type === "Identifier" ? node.name : node.type === "Literal" ? String(node.value) : undefined

/** The call that made each step, or `undefined` unless the steps are exactly the chain's, in order. */
export const makersOf = (chain: Chain, steps: ReadonlyArray<StepDef>): Map<StepDef, Maker> | undefined => {
  const makers = new Map<StepDef, Maker>()
  let i = 0
  for (const call of chain.calls) {
    if (call.kind === "each") {
      for (; i < steps.length && steps[i]!.id !== call.id; i++) {
        if (!steps[i]!.id.startsWith(`${call.id}:`)) return undefined
        makers.set(steps[i]!, { call, gather: false })
      }
    }
    const step = steps[i++]
    if (step?.id !== call.id) return undefined
    makers.set(step, { call, gather: call.kind === "each" })
  }
  return i === steps.length ? makers : undefined
}
