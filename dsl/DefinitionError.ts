/**
 * A workflow that cannot run as written. Reported before anything runs, with
 * every problem at once, each naming the step and what to do.
 */
import * as Data from "effect/Data"

/** One thing wrong with a definition. */
export interface Problem {
  /** The step it concerns, when it concerns one. */
  readonly step?: string
  /** What is wrong and how to fix it, written for the workflow's author. */
  readonly message: string
}

export class DefinitionError extends Data.TaggedError("DefinitionError")<{
  /** The workflow's file, when known. */
  readonly file?: string | undefined
  readonly workflow?: string | undefined
  readonly problems: ReadonlyArray<Problem>
}> {
  override get message(): string {
    const where = [this.file, this.workflow === undefined ? undefined : `workflow "${this.workflow}"`]
      .filter((part) => part !== undefined)
      .join(", ")
    const lines = this.problems.map((p) => `  - ${p.step === undefined ? "" : `step "${p.step}": `}${p.message}`)
    const count = this.problems.length === 1 ? "a problem" : `${this.problems.length} problems`
    return [`${where === "" ? "the workflow" : where} has ${count}:`, ...lines].join("\n")
  }
}

/** Whether `u` is a `DefinitionError`. */
export const isDefinitionError = (u: unknown): u is DefinitionError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "DefinitionError"
