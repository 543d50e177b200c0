/**
 * The builder: `workflow`, commands (`sh`, `cmd`), workflows from data
 * (`fromSpec`), and their types.
 */
export { workflow, isWorkflow, Workflow, type WorkflowOptions, type RateLimitOption, type EachOptions, type WorkflowOutputs } from "./Workflow.ts"
export { sh, cmd, shell, quote, isCommand, type Command, type CommandOptions, type CommandOutput } from "./Command.ts"
export { fromSpec, type Spec, type StepSpec } from "./Spec.ts"
export { secret, isSecret, type Secret, type Permissions } from "./Permissions.ts"
export { DefinitionError, isDefinitionError, type Problem } from "./DefinitionError.ts"
export type { StepContext, StepOptions, StepFunction, Runner, RetryOption, OutputOf, StepDef } from "./Step.ts"
export { type Invariant, type InvariantResult, type RunView, type StepRecord, type StepOutcome, type Steps } from "./Invariant.ts"
