/** `weft graph`: the workflow's shape without running it. */
import * as Graph from "effect/Graph"
import { displayOf, isCommand } from "../dsl/Command.ts"
import { isWorkflow } from "../dsl/Workflow.ts"
import type { Plan } from "../runtime/Plan.ts"
import { makeRedactor } from "../runtime/permissions/redact.ts"
import { workflowSecrets } from "../runtime/permissions/StepEnv.ts"

export type GraphFormat = "text" | "mermaid" | "dot" | "json"

const redactors = new WeakMap<Plan, ((text: string) => string) | undefined>()

/** A command read from the environment when the workflow loads may hold a secret: shown masked, as in a run. */
const redactorOf = (plan: Plan): ((text: string) => string) | undefined => {
  if (!redactors.has(plan)) {
    const secrets = workflowSecrets(plan.workflow.options.permissions, plan.steps)
    redactors.set(plan, secrets.length === 0 ? undefined : makeRedactor(secrets))
  }
  return redactors.get(plan)
}

const kind = (plan: Plan, i: number): string => {
  const run = plan.steps[i]!.run
  return isCommand(run) ? `$ ${displayOf(run, redactorOf(plan))}` : isWorkflow(run) ? `workflow ${run.name}` : "function"
}

const toGraph = (plan: Plan) =>
  Graph.directed<string, string>((g) => {
    for (const id of plan.ids) Graph.addNode(g, id)
    plan.steps.forEach((def, i) => {
      for (const need of def.needs) Graph.addEdge(g, plan.indexOf.get(need)!, i, "needs")
      for (const after of def.after) if (!def.needs.includes(after)) Graph.addEdge(g, plan.indexOf.get(after)!, i, "after")
    })
  })

/** The workflow's graph in `format`. */
export const renderGraph = (plan: Plan, format: GraphFormat): string => {
  switch (format) {
    case "mermaid":
      return Graph.toMermaid(toGraph(plan)) + "\n"
    case "dot":
      return Graph.toGraphViz(toGraph(plan), { graphName: plan.workflow.name }) + "\n"
    case "json":
      return JSON.stringify({
        workflow: plan.workflow.name,
        steps: plan.steps.map((def, i) => ({ id: def.id, needs: def.needs, after: def.after, optional: def.optional, runs: kind(plan, i) }))
      }, null, 2) + "\n"
    case "text":
      return plan.steps.map((def, i) => {
        const waits = [...def.needs, ...def.after.filter((a) => !def.needs.includes(a))]
        return `${def.id}${waits.length > 0 ? ` ← ${waits.join(", ")}` : ""}   (${kind(plan, i)})`
      }).join("\n") + "\n"
  }
}
