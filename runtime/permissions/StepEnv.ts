/**
 * The environment a step may see: the names it declared in `permissions.env`
 * (its own, else the workflow's), plus a small base every program expects.
 * Function steps read it through `ctx.env`; commands get it as their whole
 * environment. Secret values are redacted from everything the step reports.
 */
import { isSecret, type Permissions } from "../../dsl/Permissions.ts"
import type { StepDef } from "../../dsl/Step.ts"
import { makeRedactor, type Redactor } from "./redact.ts"
import { isolatePolicyOf, type IsolatePolicy } from "./isolate.ts"
import { sandboxPolicyOf, type SandboxPolicy } from "./sandbox.ts"

/**
 * Visible to every step without a declaration. PATH finds programs and HOME
 * their configuration (git, npm, ssh); TMPDIR is where temporary files belong
 * (per user on macOS); LANG / LC_ALL / LC_CTYPE keep output UTF-8 rather than
 * the C locale's bytes; TERM tells programs what the terminal can draw; TZ
 * keeps times in the user's zone. None of these is a credential.
 */
export const baseEnvNames: ReadonlyArray<string> = Object.freeze(["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TZ"])

/** Secrets shorter than this are refused: masking "ab" everywhere would mangle ordinary output. */
export const minSecretLength = 4

/** A step's environment, resolved when it starts. */
export interface StepEnv {
  /** Every check off (`--allow-all`): `values` is the whole environment. */
  readonly allowAll: boolean
  /** The declared names (not the base), in the order given: their values enter the cache key. */
  readonly declared: ReadonlyArray<string>
  /** The names the step may read: declared and base. */
  readonly allowed: ReadonlySet<string>
  /** The environment the step sees: the allowed names that are set. */
  readonly values: Readonly<Record<string, string>>
  /** Masks the secrets' values, or `undefined` when the step has none to mask. */
  readonly redact: Redactor | undefined
  /** `sandbox: true`: what its commands may touch under bwrap; `undefined` when not sandboxed. */
  readonly sandbox?: SandboxPolicy | undefined
  /** `isolate: true`: what its function's own Node process may touch; `undefined` when not isolated. */
  readonly isolate?: IsolatePolicy | undefined
  /** Why the step may not run (a secret too short to redact), or `undefined`. */
  readonly problem: string | undefined
}

const noNames: ReadonlyArray<string> = Object.freeze([])

/**
 * Resolves step environments for one run. Steps that declare nothing share
 * one result, built once when the first of them starts.
 */
export const makeStepEnvs = (
  workflow: Permissions | undefined,
  allowAll: boolean,
  environment: NodeJS.ProcessEnv = process.env
): (def: StepDef) => StepEnv => {
  let shared: StepEnv | undefined
  return (def) => {
    if (def.permissions === undefined) return shared ??= resolve(workflow, allowAll, environment)
    return resolve(def.permissions, allowAll, environment)
  }
}

const resolve = (permissions: Permissions | undefined, allowAll: boolean, environment: NodeJS.ProcessEnv): StepEnv => {
  const entries = permissions?.env ?? []
  const declared = entries.length === 0 ? noNames : entries.map((entry) => (isSecret(entry) ? entry.name : entry))
  const allowed = new Set([...baseEnvNames, ...declared])
  const values: Record<string, string> = {}
  if (allowAll) {
    for (const [name, value] of Object.entries(environment)) if (value !== undefined) values[name] = value
  } else {
    for (const name of allowed) {
      const value = environment[name]
      if (value !== undefined) values[name] = value
    }
  }
  const secrets: Array<string> = []
  const short: Array<string> = []
  for (const entry of entries) {
    if (!isSecret(entry)) continue
    const value = environment[entry.name]
    if (value === undefined || value === "") continue
    if (value.length < minSecretLength) short.push(entry.name)
    else secrets.push(value)
  }
  return {
    allowAll,
    declared,
    allowed,
    values,
    redact: secrets.length === 0 ? undefined : makeRedactor(secrets),
    sandbox: sandboxPolicyOf(permissions),
    isolate: isolatePolicyOf(permissions),
    problem: short.length === 0 ? undefined : shortSecrets(short)
  }
}

/**
 * The values of every secret the workflow declares, for its steps or as the
 * default, that are long enough to mask. Every step's output is masked with
 * all of them, not only its own: a step may be handed a secret through
 * another step's output and print it.
 */
export const workflowSecrets = (
  workflow: Permissions | undefined,
  steps: ReadonlyArray<StepDef>,
  environment: NodeJS.ProcessEnv = process.env
): Array<string> => {
  const values = new Set<string>()
  const add = (permissions: Permissions | undefined) => {
    const entries = permissions?.env
    if (entries === undefined) return
    for (const entry of entries) {
      if (!isSecret(entry)) continue
      const value = environment[entry.name]
      if (value !== undefined && value.length >= minSecretLength) values.add(value)
    }
  }
  add(workflow)
  // Indexed: a run's first pass over 100,000 steps is unoptimized code, where `for of` allocates per step.
  for (let i = 0; i < steps.length; i++) add(steps[i]!.permissions)
  return [...values]
}

const shortSecrets = (names: ReadonlyArray<string>): string =>
  `${names.map((name) => `secret ${name}`).join(", ")} ${names.length === 1 ? "is" : "are"} shorter than ${minSecretLength} characters: ` +
  `weft cannot mask ${names.length === 1 ? "it" : "them"} in the output without mangling ordinary text. ` +
  `Set a real value, or declare ${names.length === 1 ? "it" : "them"} as plain names (not secret(...)) if the value is not secret.`
