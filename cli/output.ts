/**
 * A step's value on the command line: `weft run --output STEP` prints it to
 * stdout after the run (so `> report.json` captures it alone), and the plain
 * summary names a small value of the workflow's final step. Secret values of
 * the workflow are masked in both, as in everything else weft shows.
 */
import { inspect } from "node:util"
import { suggestion } from "../dsl/didYouMean.ts"
import { makeRedactor } from "../runtime/permissions/redact.ts"
import { workflowSecrets } from "../runtime/permissions/StepEnv.ts"
import type { Plan } from "../runtime/Plan.ts"
import { UsageError } from "./common.ts"

/** Longest value the summary shows on its line. */
export const summaryValueChars = 200

/** Checks `--output STEP` against the plan before anything runs. */
export const checkOutputStep = (plan: Plan, step: string): void => {
  if (plan.indexOf.has(step)) return
  const inWorkflow = plan.workflow.steps.some((def) => def.id === step)
  throw new UsageError(inWorkflow
    ? `--output ${step}: that step is not part of this run; name it among the steps to run, or name none`
    : `--output names no step of ${plan.workflow.name}: "${step}".${suggestion(step, plan.ids)} Steps: ${plan.ids.join(", ")}`)
}

/** JSON's values and nothing else (no `undefined`, functions, class instances, cycles). */
const isPlainData = (value: unknown, seen = new Set<object>()): boolean => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isFinite(value)
  if (typeof value !== "object" || seen.has(value)) return false
  seen.add(value)
  const proto = Object.getPrototypeOf(value)
  const plain = Array.isArray(value)
    ? value.every((item) => isPlainData(item, seen))
    : (proto === Object.prototype || proto === null) && Object.values(value).every((item) => isPlainData(item, seen))
  seen.delete(value)
  return plain
}

/** How `--output` prints a value: text as it is, plain data as JSON, anything else as Node inspects it. */
export const showValue = (value: unknown): string =>
  typeof value === "string" ? value : isPlainData(value) ? JSON.stringify(value, null, 2) : inspect(value, { depth: 8, colors: false })

/** A value on one line, or `undefined` when it does not fit in `summaryValueChars`. */
export const oneLine = (value: unknown): string | undefined => {
  const text = isPlainData(value) ? JSON.stringify(value) : inspect(value, { depth: 4, colors: false, breakLength: Infinity })
  return text.includes("\n") || text.length > summaryValueChars ? undefined : text
}

/** Masks the workflow's secret values in `text`. */
export const masker = (plan: Plan): ((text: string) => string) => {
  const secrets = workflowSecrets(plan.workflow.options.permissions, plan.steps)
  return secrets.length === 0 ? (text) => text : makeRedactor(secrets)
}

/** The one step nothing waits for, if the plan has exactly one. */
export const finalStep = (plan: Plan): string | undefined => {
  const sinks = plan.ids.filter((_, i) => plan.dependents[i]!.length === 0)
  return sinks.length === 1 ? sinks[0] : undefined
}
