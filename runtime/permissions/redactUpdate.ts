/** Masking secrets in what a step reports, before it becomes an event. */
import type { StepReportBody } from "../StepReport.ts"
import type { Redactor } from "./redact.ts"

/** `update` with every text it carries redacted; the same object when nothing changed. */
export const redactUpdate = <R extends StepReportBody>(update: R, redact: Redactor): R => {
  const r = update as StepReportBody
  switch (r.type) {
    case "step:log":
    case "step:partial":
      return { ...update, text: redact(r.text) }
    case "step:logs":
      return { ...update, texts: r.texts.map(redact) }
    case "step:progress":
      return r.message === undefined ? update : { ...update, message: redact(r.message) }
    case "step:retry":
      return r.reason === undefined ? { ...update, error: redact(r.error) } : { ...update, error: redact(r.error), reason: redact(r.reason) }
    case "run:warning":
      return { ...update, message: redact(r.message) }
    case "step:end":
      return r.status === "failed" ? { ...update, error: redact(r.error) } : update
    default:
      // The rest carry no text the step wrote (`start`, `memo`, `waiting`, …).
      return update
  }
}
