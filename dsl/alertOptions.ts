/**
 * The workflow's `alerts` option: its defaults, what is in force, and its
 * definition check (with the other options, in `check.ts`). What the alerts
 * do is in runtime/alerts.ts.
 */
import { suggestion } from "./didYouMean.ts"
import type { AlertOptions } from "./Workflow.ts"

/** The alerts of a workflow that leaves them out. */
export const defaultAlerts = { stepOverrun: 2, runOverrun: 2, memoHitRate: false } as const

/** The alerts in force: each factor or rate, or undefined when off. */
export interface Alerts {
  readonly stepOverrun: number | undefined
  readonly runOverrun: number | undefined
  readonly memoHitRate: number | undefined
}

export const alertsOf = (options: AlertOptions | undefined): Alerts => {
  const pick = <K extends keyof Alerts>(key: K): number | undefined => {
    const value = options?.[key] ?? defaultAlerts[key]
    return value === false ? undefined : value
  }
  return { stepOverrun: pick("stepOverrun"), runOverrun: pick("runOverrun"), memoHitRate: pick("memoHitRate") }
}

const alertKeys = new Set(["stepOverrun", "runOverrun", "memoHitRate"])

/** What is wrong with a workflow's `alerts` option, every problem; empty when it is fine. */
export const alertsProblems = (value: unknown): Array<string> => {
  if (value === undefined) return []
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`alerts must be an object, like { stepOverrun: 2, runOverrun: 2, memoHitRate: 0.5 }, not ${show(value)}`]
  }
  const problems: Array<string> = []
  for (const [key, v] of Object.entries(value)) {
    if (!alertKeys.has(key)) problems.push(`unknown alert "${key}".${suggestion(key, alertKeys)}`)
    else if (v === false) continue
    else if (key === "memoHitRate") {
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) problems.push(`alerts.memoHitRate must be a share between 0 and 1, like 0.5, or false, not ${show(v)}`)
    } else if (typeof v !== "number" || !(v > 1) || !Number.isFinite(v)) {
      problems.push(`alerts.${key} must be a number above 1 (how many times the expected duration), or false, not ${show(v)}`)
    }
  }
  return problems
}

const show = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(v))
