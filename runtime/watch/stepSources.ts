/**
 * For each function step of a workflow module, a digest of exactly the source
 * it depends on, so that watch mode can keep the result of a function step an
 * edit did not touch (`diff.ts`). A step has no digest ("unprovable", so it
 * counts as changed) whenever one of these rules fails.
 *
 * Which call made the step: the module's default export must be written as a
 * builder chain, `workflow(…).step("id", …).each("id", …)`, with literal ids,
 * whose calls made exactly the loaded workflow's steps, in order
 * (`internal/workflowChain.ts`). The step's own text is its call's arguments
 * (for an `.each`, shared by its item steps and its gather step, whose
 * runner is weft's own).
 *
 * What the digest covers, in source order:
 * - the step's own text;
 * - every top-level declaration or import it mentions by name, and what
 *   those mention, transitively (names, not scopes: more than it reads,
 *   never less); an import stands for its module's text and that of every
 *   local module it imports, or a package's name and version
 *   (`internal/imports.ts`);
 * - every top-level statement, builder call or imported module that may write
 *   state while the module loads, with what it mentions: a registry filled
 *   by another step's arguments, `config.mode = "x"`, `setup()`
 *   (`internal/loadEffects.ts`); and which packages the local modules
 *   import, in order.
 *
 * Unprovable when:
 * - the texts are not those the workflow was loaded from (`loadWithTexts`);
 * - the module is not what Node's type stripping and acorn can read (enums,
 *   namespaces, JSX), or it calls `eval`;
 * - the digest would take in state another step may change as it runs: a
 *   top-level object, array, `Map`, regex, class or what a call returns, or
 *   anything imported from a local module that has such state
 *   (`internal/sharedState.ts`): another step's body could write it;
 * - the digest would take in a name assigned anywhere in the module (a `let`
 *   that something sets, a function reassigned), `import.meta` (its URL
 *   changes with every reload; `import.meta.dirname`, `.filename` and
 *   `new URL("./relative", import.meta.url)` do not, and are allowed), a
 *   computed `import()`, `require`, or an import that
 *   cannot be pinned (a path alias, a linked package);
 * - the step's runner is not a function written in the code the digest
 *   covers (`fn.toString()`, compared by its syntax tree when the loader
 *   printed it differently): it came from another module, or was built at
 *   run time.
 *
 * Comments and blank lines between top-level statements are in no digest;
 * a comment inside a statement the digest covers changes it.
 */
import { createHash } from "node:crypto"
import * as path from "node:path"
import type { CallExpression } from "acorn"
import type { StepDef } from "../../dsl/Step.ts"
import type { Workflow } from "../../dsl/Workflow.ts"
import type { StepDigest } from "./diff.ts"
import { functionShapes, shapeOfSource } from "./internal/functionShape.ts"
import { makeImports, type Imports, type PackageRead } from "./internal/imports.ts"
import { makeLoadEffects } from "./internal/loadEffects.ts"
import { mayHoldState } from "./internal/sharedState.ts"
import { parseModule } from "./internal/syntax.ts"
import { topLevelOf, unitOf, type TopLevel, type Unit } from "./internal/topLevel.ts"
import { defaultChain, makersOf } from "./internal/workflowChain.ts"
import type { ModuleTexts } from "./moduleTexts.ts"

export { loadWithTexts, readModuleTexts, type ModuleTexts } from "./moduleTexts.ts"

const unprovable: StepDigest = () => undefined

/**
 * The digest of each function step of `workflow`, loaded from `entry` with
 * `texts` (see `loadWithTexts`): equal digests before and after an edit mean
 * the step's code and everything it depends on are the same.
 *
 * @example
 * diffWorkflows(before, after, { before: makeStepDigest(before, file, old), after: makeStepDigest(after, file, now) })
 */
export const makeStepDigest = (workflow: Workflow<any>, entry: string, texts: ModuleTexts | undefined): StepDigest =>
  computeStepDigests(workflow, entry, texts).digest

/**
 * `makeStepDigest`, with the package versions it read from disk on the way:
 * the digests hold for the same texts only while those versions do
 * (`savedDigests.ts` keeps them across runs on that condition).
 */
export const computeStepDigests = (
  workflow: Workflow<any>,
  entry: string,
  texts: ModuleTexts | undefined
): { readonly digest: StepDigest; readonly packages: ReadonlyArray<PackageRead>; readonly failed?: true } => {
  const packages: Array<PackageRead> = []
  try {
    return { digest: digests(workflow, path.resolve(entry), texts, (read) => packages.push(read)), packages }
  } catch {
    // A tree this reading does not expect proves nothing; "changed" is always a safe answer.
    return { digest: unprovable, packages, failed: true }
  }
}

const digests = (workflow: Workflow<any>, file: string, texts: ModuleTexts | undefined, onPackage: (read: PackageRead) => void): StepDigest => {
  const text = texts?.get(file)
  const parsed = text === undefined ? undefined : parseModule(file, text)
  if (texts === undefined || parsed === undefined) return unprovable
  const top = topLevelOf(parsed)
  const imports = makeImports(texts, path.dirname(file), onPackage)
  const effects = makeLoadEffects(top, (specifier) => imports.isWeft(file, specifier))
  const chain = top.evals ? undefined : defaultChain(parsed.program, top, effects)
  const makers = chain === undefined ? undefined : makersOf(chain, workflow.steps)
  if (chain === undefined || makers === undefined) return unprovable

  const own = new Map<CallExpression, Unit>(chain.calls.map(({ call }) => [call, unitOf(top.code, call.arguments)]))
  const writers = [
    ...top.statements.filter((unit) => !chain.statements.has(unit) && (effects.statementWrites(unit.nodes[0]!) || unit.imports.some((s) => imports.of(file, s).writes))),
    ...(effects.callWrites(chain.root) ? [unitOf(top.code, chain.root.arguments)] : []),
    ...chain.calls.filter(({ call }) => effects.callWrites(call)).map(({ call }) => own.get(call)!)
  ]
  const packages = imports.packages()
  // One closure and digest per call: an `.each` of thousands of items has one.
  const perCall = new Map<CallExpression, { readonly units: ReadonlyArray<Unit>; readonly digest: string } | undefined>()
  const sourceOf = (call: CallExpression) => {
    if (!perCall.has(call)) {
      const units = closure(top, imports, file, [own.get(call)!, ...writers])
      perCall.set(call, units === undefined ? undefined : { units, digest: digestOf(units, imports, file, packages) })
    }
    return perCall.get(call)
  }
  const writtenIn = makeWrittenIn()
  const found = new Map<StepDef, string>()
  for (const [def, maker] of makers) {
    const source = sourceOf(maker.call.call)
    if (source === undefined) continue
    if (typeof def.run === "function" && !maker.gather && !writtenIn(def.run, source.units)) continue
    found.set(def, source.digest)
  }
  return (def) => found.get(def)
}

/** The units `roots` depend on, in source order; `undefined` when one of them cannot be followed. */
const closure = (top: TopLevel, imports: Imports, file: string, roots: ReadonlyArray<Unit>): ReadonlyArray<Unit> | undefined => {
  const seen = new Set<Unit>()
  const queue = [...roots]
  while (queue.length > 0) {
    const unit = queue.pop()!
    if (seen.has(unit)) continue
    seen.add(unit)
    if (unit.opaque || unit.imports.some((s) => imports.of(file, s).digest === undefined)) return undefined
    for (const name of unit.names) {
      const bindings = top.bindings.get(name)
      if (bindings === undefined) continue
      // Written after its declaration: what the step sees depends on when, and on code anywhere.
      if (top.assigned.has(name)) return undefined
      for (const binding of bindings) {
        // State another step may change as it runs: no digest can cover that (see `sharedState.ts`).
        if (binding.kind === "import" ? imports.holdsState(file, binding.source!) : mayHoldState(binding)) return undefined
        queue.push(binding.unit)
      }
    }
  }
  return [...seen].sort((a, b) => a.start - b.start)
}

const digestOf = (units: ReadonlyArray<Unit>, imports: Imports, file: string, packages: string): string => {
  const hash = createHash("sha256").update("weft step source 1\0").update(packages).update("\0")
  for (const unit of units) {
    hash.update(unit.text).update("\0")
    for (const specifier of unit.imports) hash.update(imports.of(file, specifier).digest!).update("\0")
    hash.update("\n")
  }
  return hash.digest("hex")
}

/** Whether a runner's source is written in `units`: as it is under Node's loader, or by its syntax tree under one that prints its own. */
const makeWrittenIn = () => {
  const shapes = new Map<Unit, Set<string>>()
  const answers = new Map<ReadonlyArray<Unit>, Map<string, boolean>>()
  const find = (source: string, units: ReadonlyArray<Unit>): boolean => {
    if (units.some((unit) => unit.text.includes(source))) return true
    const shape = shapeOfSource(source)
    return shape !== undefined && units.some((unit) => {
      if (!shapes.has(unit)) shapes.set(unit, new Set(unit.nodes.flatMap((node) => [...functionShapes(node)])))
      return shapes.get(unit)!.has(shape)
    })
  }
  return (fn: Function, units: ReadonlyArray<Unit>): boolean => {
    const source = Function.prototype.toString.call(fn)
    const known = answers.get(units) ?? new Map<string, boolean>()
    answers.set(units, known)
    if (!known.has(source)) known.set(source, find(source, units))
    return known.get(source)!
  }
}
