/**
 * A cached step's declaration against what it did in a traced run: a file it
 * read that its `cache.inputs` do not match (its cached result goes stale
 * when that file changes: the key never saw it), a file it left written that
 * its `cache.outputs` do not match (a cache hit skips the step and does not
 * restore the file), and an input glob that matched nothing it read (a
 * change there reruns the step for nothing, or the glob is misspelt).
 *
 * Reads of a file the step itself wrote are not inputs, nor are files it
 * wrote and then removed outputs (temporaries). Pure.
 */
import type { CacheOptions } from "../../../dsl/Step.ts"
import { matches, patternsOf, type WatchPattern } from "../../../runtime/watch/globs.ts"
import type { CacheDeclaration } from "../../Finding.ts"
import type { Accesses } from "./Accesses.ts"

export interface CachedStep {
  readonly id: string
  /** Its cache options in force (its own, else the workflow's); undefined when it is not cached. */
  readonly cache: CacheOptions | undefined
}

// Globs are matched as the cache expands them (`fs.glob` rules), against
// paths made absolute under a root of their own.
const root = "/weft-verify-root"
const matcher = (globs: ReadonlyArray<string>) => {
  const patterns: Array<readonly [string, ReadonlyArray<WatchPattern>]> = globs.map((glob) => [glob, patternsOf(root, glob)])
  const matching = (file: string) => patterns.filter(([, ps]) => ps.some((p) => matches(p, `${root}/${file}`))).map(([glob]) => glob)
  return { matching, matched: (file: string) => matching(file).length > 0 }
}

export const cacheDeclarations = (steps: ReadonlyArray<CachedStep>, accesses: Accesses, untraced: ReadonlySet<string>): Array<CacheDeclaration> => {
  const found: Array<CacheDeclaration> = []
  for (const { id, cache } of steps) {
    const seen = accesses.get(id)
    if (cache === undefined || untraced.has(id)) continue
    const reads = [...(seen?.reads ?? [])].filter((p) => !seen!.writes.has(p)).sort()
    const left = [...(seen?.writes ?? [])].filter((p) => !seen!.removed.has(p)).sort()
    const inputs = matcher(cache.inputs ?? [])
    const outputs = matcher(cache.outputs ?? [])
    const usedGlobs = new Set(reads.flatMap(inputs.matching))
    for (const file of reads) if (!inputs.matched(file)) found.push(undeclaredInput(id, file))
    for (const file of left) if (!outputs.matched(file)) found.push(undeclaredOutput(id, file))
    for (const glob of cache.inputs ?? []) if (!usedGlobs.has(glob)) found.push(unusedInput(id, glob))
  }
  return found
}

const undeclaredInput = (step: string, path: string): CacheDeclaration => ({
  kind: "undeclared-input",
  step,
  path,
  message: `cached step "${step}" reads ${path}, which its cache.inputs do not list: when ${path} changes, the cache still returns the result computed from the old contents`,
  fix: `add "${path}" to cache.inputs of step "${step}".`
})

const undeclaredOutput = (step: string, path: string): CacheDeclaration => ({
  kind: "undeclared-output",
  step,
  path,
  message: `cached step "${step}" writes ${path}, which its cache.outputs do not list: on a cache hit the step is skipped and ${path} is not restored, so it is missing or stale`,
  fix: `add "${path}" to cache.outputs of step "${step}".`
})

const unusedInput = (step: string, glob: string): CacheDeclaration => ({
  kind: "unused-input",
  step,
  path: glob,
  message: `cached step "${step}" declares the input "${glob}" but read no file it matches: a change there reruns the step for nothing (or the glob is misspelt)`,
  fix: `remove "${glob}" from cache.inputs of step "${step}", or correct it to the files the step reads.`
})
