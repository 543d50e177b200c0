/**
 * Step permissions: the environment a step may see (`permissions.env`),
 * `ctx.env`'s refusals, and the masking of secrets.
 */
export { baseEnvNames, minSecretLength } from "./StepEnv.ts"
export { UndeclaredEnvError } from "./ctxEnv.ts"
export { PermissionError } from "./stage.ts"
