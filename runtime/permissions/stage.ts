/**
 * The permissions stage of the step pipeline: a step whose environment cannot
 * be honoured (a secret too short to mask) fails before anything runs.
 */
import * as Effect from "effect/Effect"
import type { Stage } from "../Pipeline.ts"

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
