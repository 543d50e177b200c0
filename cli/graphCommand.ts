/** `weft graph [file]`: the workflow's graph, or with `--check` the steps that may race on files. */
import * as Plan from "../runtime/Plan.ts"
import { load, UsageError, type Io } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { renderGraph } from "./graph.ts"
import { graphSpec } from "./specs.ts"

export const graphCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(graphSpec, args)
  if (positionals.length > 1) throw new UsageError(`graph takes one file, got ${positionals.join(" ")}`)
  const loaded = await load(positionals[0] ?? "weft.ts", io, "graph")
  const plan = Plan.make(loaded.workflow, { file: loaded.file })
  if (values.check) {
    const { raceCheck } = await import("../runtime/raceCheck.ts")
    const { conflicts, complete } = raceCheck(plan)
    for (const conflict of conflicts) io.stdout(`✗ ${conflict.message}\n`)
    if (!complete) io.stdout("the check stopped early: the graph is too large to search completely\n")
    if (conflicts.length === 0 && complete) io.stdout(`${loaded.workflow.name}: no conflicts\n`)
    return conflicts.length > 0 ? 1 : 0
  }
  io.stdout(renderGraph(plan, values.format ?? "text"))
  return 0
}
