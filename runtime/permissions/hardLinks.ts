/**
 * A hole of Node's permission model that weft can see but not close: a hard
 * link is the same file under another name, so a file inside a folder an
 * isolated step may read can be, say, `~/.ssh/id_rsa` under another name,
 * and the step reads it. Node checks names, not files. Before a run starts,
 * weft looks through the folders isolated steps may read for files with more
 * than one name, and says so (it cannot tell where the other names are).
 *
 * The look is bounded (`maxEntries` per run) so a step reading a huge tree
 * does not hold the start up: 10,000 entries took about 100 ms here (lstat
 * each, on a loaded 2-core machine), so 2,000 cost about 20 ms. Beyond the
 * bound, and for files that appear during the run, weft says nothing.
 */
import { lstatSync, readdirSync } from "node:fs"
import * as path from "node:path"
import type { Permissions } from "../../dsl/Permissions.ts"
import type { StepDef } from "../../dsl/Step.ts"
import { literalBaseOf } from "./isolate.ts"

/** Entries looked at per run, over every isolated step's read folders. */
export const maxEntries = 2_000

type PlanLike = { readonly steps: ReadonlyArray<StepDef>; readonly workflow: { readonly options: { readonly permissions?: Permissions | undefined } } }

/** The run's warnings about hard links under isolated steps' read folders: one per step that has any. */
export const hardLinkWarnings = (plan: PlanLike, cwd: string): Array<string> => {
  const fallback = plan.workflow.options.permissions
  let budget = maxEntries
  const linked = new Map<string, ReadonlyArray<string>>()
  const walk = (at: string, found: Array<string>): void => {
    if (budget-- <= 0) return
    let stat
    try {
      stat = lstatSync(at)
    } catch {
      return // not there (yet): nothing to say
    }
    if (stat.isFile() && stat.nlink > 1) found.push(at)
    if (!stat.isDirectory()) return
    let names: Array<string>
    try {
      names = readdirSync(at)
    } catch {
      return
    }
    for (const name of names) walk(path.join(at, name), found)
  }
  const warnings: Array<string> = []
  // Indexed: a run's first pass over 100,000 steps is unoptimized code, where `for of` allocates per step.
  for (let i = 0; i < plan.steps.length; i++) {
    const def = plan.steps[i]!
    const permissions = def.permissions ?? fallback
    if (permissions?.isolate !== true) continue
    const folders = [...new Set((permissions.read ?? []).filter((glob) => !glob.startsWith("!")).map((glob) => literalBaseOf(glob, cwd)))]
    const found: Array<string> = []
    for (const folder of folders) {
      if (!linked.has(folder)) {
        const here: Array<string> = []
        walk(folder, here)
        linked.set(folder, here)
      }
      found.push(...linked.get(folder)!)
    }
    if (found.length === 0) continue
    const shown = found.slice(0, 3).map((file) => path.relative(cwd, file) || file)
    warnings.push(
      `step "${def.id}" may read ${shown.join(", ")}${found.length > 3 ? ` and ${found.length - 3} more` : ""}: ` +
        `${found.length === 1 ? "a file" : "files"} under permissions.read with another name elsewhere (a hard link), which isolation cannot see: ` +
        `Node's permission model checks names, not files, so whatever the other name is, the step reads it here; replace the link with a copy`
    )
  }
  return warnings
}
