/**
 * `ctx.env`: a read-only view of a step's environment that refuses, with an
 * error saying how to declare it, any name the step did not declare.
 */
import type { StepEnv } from "./StepEnv.ts"

/** Reading a variable the step did not declare in `permissions.env`. */
export class UndeclaredEnvError extends Error {
  readonly _tag = "UndeclaredEnvError"
  readonly step: string
  readonly variable: string
  constructor(step: string, variable: string) {
    super(
      `step "${step}" read the environment variable ${variable}, which it does not declare: ` +
        `add it to the step's options, permissions: { env: ["${variable}"] } (or secret("${variable}") if it is a secret), ` +
        `or run with --allow-all to turn the check off while debugging`
    )
    this.name = "UndeclaredEnvError"
    this.step = step
    this.variable = variable
  }
}

/**
 * Names that JavaScript itself asks any object for (`await` probes `then`,
 * `JSON.stringify` probes `toJSON`): answered `undefined` rather than
 * refused, so `JSON.stringify(ctx.env)` and the like work.
 */
const probes = new Set(["then", "toJSON"])

/** The `ctx.env` of step `stepId`. */
export const makeCtxEnv = (stepId: string, env: StepEnv): Readonly<Record<string, string | undefined>> => {
  const values = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, env.values))
  if (env.allowAll) return values
  const check = (name: string | symbol): boolean => {
    if (typeof name === "symbol" || env.allowed.has(name) || probes.has(name)) return true
    throw new UndeclaredEnvError(stepId, name)
  }
  return new Proxy(values, {
    get: (target, name) => (check(name) ? (target as Record<string | symbol, string | undefined>)[name] : undefined),
    has: (target, name) => check(name) && name in target,
    set: (_, name) => {
      throw new TypeError(`step "${stepId}": ctx.env is read-only (tried to set ${String(name)})`)
    },
    deleteProperty: (_, name) => {
      throw new TypeError(`step "${stepId}": ctx.env is read-only (tried to delete ${String(name)})`)
    }
  })
}
