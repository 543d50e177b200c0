/** Masking secrets in what a step reports, before it becomes an event. */
import type { Update } from "../internal/Update.ts"
import type { Redactor } from "./redact.ts"

type StepUpdate = DistributiveOmit<Update, "step" | "time">
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** `update` with every text it carries redacted; the same object when nothing changed. */
export const redactUpdate = (update: StepUpdate, redact: Redactor): StepUpdate => {
  switch (update.kind) {
    case "log":
    case "partial":
      return { ...update, text: redact(update.text) }
    case "logs":
      return { ...update, texts: update.texts.map(redact) }
    case "progress":
      return update.message === undefined ? update : { ...update, message: redact(update.message) }
    case "retry":
      return update.reason === undefined ? { ...update, error: redact(update.error) } : { ...update, error: redact(update.error), reason: redact(update.reason) }
    case "warning":
      return { ...update, message: redact(update.message) }
    case "end":
      return update.outcome._tag === "failed" ? { ...update, outcome: { ...update.outcome, error: redact(update.outcome.error) } } : update
    default:
      // The rest carry no text the step wrote (`start`, `memo`, `waiting`, …).
      return update
  }
}
