/**
 * The permissions feature: each step gets the environment it may see
 * (`permissions.env`) and the run's redactor before it runs; a step whose
 * environment cannot be honoured (a secret too short to mask) fails before
 * anything runs; and every secret of the workflow is masked in everything
 * any step reports, and in the run's own warnings, before a reporter, a log
 * file, a trace or a cache entry sees it. It also says, at the start, what
 * the run cannot enforce (no sandbox, no network isolation, hard links, racing
 * declared paths).
 */
import * as Effect from "effect/Effect"
import type { Feature, Stage } from "../Pipeline.ts"
import type { Plan } from "../Plan.ts"
import { raceCheck } from "../raceCheck.ts"
import { hardLinkWarnings } from "./hardLinks.ts"
import { unenforcedNet } from "./isolateNet.ts"
import { makeRedactor } from "./redact.ts"
import { redactUpdate } from "./redactUpdate.ts"
import { sandboxUnavailable } from "./sandbox.ts"
import { makeStepEnvs, workflowSecrets } from "./StepEnv.ts"

/** A step's permissions cannot be honoured as declared. */
export class PermissionError extends Error {
  readonly _tag = "PermissionError"
  constructor(step: string, problem: string) {
    super(`step "${step}": ${problem}`)
    this.name = "PermissionError"
  }
}

export const permitting: Stage = (step, next) =>
  step.env.problem === undefined ? next : Effect.fail(new PermissionError(step.id, step.env.problem))

/** What the run says it cannot enforce, at its start. */
const warningsOf = (plan: Plan, allowAll: boolean, cwd: string): Array<string> => {
  const warnings: Array<string> = []
  if (allowAll) warnings.push("permissions are off (--allow-all): every step sees the whole environment; secrets are still masked")
  const unsandboxable = sandboxUnavailable(plan)
  if (unsandboxable !== undefined) warnings.push(unsandboxable)
  const online = unenforcedNet(plan)
  if (online !== undefined) warnings.push(online)
  warnings.push(...hardLinkWarnings(plan, cwd))
  // Declared paths only (nothing enforces them yet), so a possible race is a warning, not a refusal.
  for (const conflict of raceCheck(plan).conflicts) warnings.push(conflict.message)
  return warnings
}

export const permissions: Feature = {
  name: "permissions",
  setup: ({ plan, options }) => {
    const envOf = makeStepEnvs(plan.workflow.options.permissions, options.allowAll === true)
    // Every secret of the workflow masks everything every step reports, and
    // the run's own warnings (a cache or journal problem): a step that declares
    // none may still be handed one in another step's output.
    const secrets = workflowSecrets(plan.workflow.options.permissions, plan.steps)
    const redact = secrets.length === 0 ? undefined : makeRedactor(secrets)
    return {
      stage: permitting,
      prepare: (step) => {
        step.env = envOf(step.def)
        // Asked where to cut a long line or part, so each secret is reported whole.
        step.redact = redact
      },
      onReport: redact === undefined ? undefined : (_step, report) => redactUpdate(report, redact),
      warnings: warningsOf(plan, options.allowAll === true, options.cwd)
    }
  }
}
