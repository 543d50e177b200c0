/**
 * `weft verify`'s report for people: each finding with its steps, the fix,
 * the static view beside the dynamic one, the shrunk schedule in words and
 * the command that replays it; then one summary line. Pure text from the
 * findings, so the plain output and the dashboard's last screen agree with
 * `--reporter json`, which prints the same findings as they are.
 */
import { stepsOf, type Finding, type Schedule } from "../properties/index.ts"
import { formatDuration } from "../runtime/Summary.ts"

/** What the replay line and the summary need to know of the command. */
export interface VerifyInvocation {
  /** The workflow file, as given. */
  readonly file: string
  /** Steps named on the command line. */
  readonly only: ReadonlyArray<string>
  /** `--runs` and `--concurrency`, when given: a replay needs the same. */
  readonly runs?: number | undefined
  readonly concurrency?: number | undefined
  /** `--no-trace`: a traced run reports hazards first, and the schedules then skip their pairs, so a replay needs the same. */
  readonly noTrace?: boolean | undefined
  /** `--faults`. */
  readonly faults?: boolean | undefined
}

/** `weft verify <file> [steps] --seed S`, with the options that change the search. */
export const replayCommand = (invocation: VerifyInvocation, seed: number): string =>
  [
    "weft verify",
    invocation.file,
    ...invocation.only,
    `--seed ${seed}`,
    ...(invocation.runs === undefined ? [] : [`--runs ${invocation.runs}`]),
    ...(invocation.concurrency === undefined ? [] : [`--concurrency ${invocation.concurrency}`]),
    ...(invocation.noTrace === true ? ["--no-trace"] : []),
    ...(invocation.faults === true ? ["--faults"] : [])
  ].join(" ")

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * A schedule in words: its concurrency, which steps were put first among
 * ready ones, and which were held back (turns of the event loop before the
 * body starts / before its end is reported). `ids` are the plan's, in order.
 */
export const describeSchedule = (schedule: Schedule, ids: ReadonlyArray<string>): string => {
  const parts = [`concurrency ${schedule.concurrency}`]
  const first = ids
    .map((id, i) => ({ id, priority: schedule.priority[i] ?? 0, i }))
    .filter((s) => s.priority > 0)
    .sort((a, b) => b.priority - a.priority || a.i - b.i)
  parts.push(first.length === 0 ? "ready steps in plan order" : `first among ready steps: ${first.map((s) => s.id).join(", ")}`)
  const held = ids.flatMap((id, i) => {
    const [before, after] = schedule.delays[i] ?? [0, 0]
    if (before === 0 && after === 0) return []
    const when = [before > 0 ? `${plural(before, "turn")} before it starts` : "", after > 0 ? `${plural(after, "turn")} before its end` : ""]
    return [`${id} (${when.filter(Boolean).join(", ")})`]
  })
  parts.push(held.length === 0 ? "no step held back" : `held back: ${held.join("; ")}`)
  return parts.join(" · ")
}

const title = (finding: Finding): string => {
  switch (finding.kind) {
    case "order-dependence":
      return "order dependence"
    case "hazard":
      return `hazard (${finding.access})`
    case "undeclared-input":
      return "undeclared input"
    case "undeclared-output":
      return "undeclared output"
    case "unused-input":
      return "unused input"
    case "fault":
      return `fault (${finding.fault})`
    case "invariant":
      return `invariant "${finding.invariant}"`
  }
}

/** The lines particular to a kind: paths, the static view, schedules, the promise. */
const details = (finding: Finding, ids: ReadonlyArray<string>): Array<string> => {
  switch (finding.kind) {
    case "order-dependence": {
      const [plain, shrunk] = finding.schedules
      return [
        // The static view is of a pair; a step that changed on its own has none.
        ...(finding.pair === undefined ? [] : [`declared: ${finding.declared ?? "the race check sees no conflict between their declared paths"}`]),
        `observed: "${finding.step}" differed between these schedules:`,
        `  plain:  ${describeSchedule(plain, ids)}`,
        `  shrunk: ${describeSchedule(shrunk, ids)}`
      ]
    }
    case "hazard":
      return [
        `declared: ${finding.declared ?? "the race check sees no conflict between their declared paths"}`,
        `traced: ${finding.path}${finding.writer === undefined ? "" : ` (written by "${finding.writer}")`}`
      ]
    case "undeclared-input":
    case "undeclared-output":
    case "unused-input":
      return [`path: ${finding.path}`]
    case "fault":
      return [`promise: ${finding.promise}`]
    case "invariant":
      return finding.schedule === undefined ? [] : [`schedule: ${describeSchedule(finding.schedule, ids)}`]
  }
}

const seedOf = (finding: Finding): number | undefined =>
  finding.kind === "order-dependence" || finding.kind === "invariant" ? finding.seed : undefined

/** One finding, as a block of lines ending in a blank line. */
export const renderFinding = (finding: Finding, ids: ReadonlyArray<string>, invocation: VerifyInvocation): string => {
  const steps = stepsOf(finding)
  const seed = seedOf(finding)
  const lines = [
    `✗ ${title(finding)}: ${finding.message}`,
    ...(steps.length === 0 ? [] : [`steps: ${steps.join(", ")}`]),
    ...details(finding, ids),
    `fix: ${finding.fix}`,
    ...(seed === undefined ? [] : [`replay: ${replayCommand(invocation, seed)}`])
  ]
  return `${lines.map((line, i) => (i === 0 ? line : `  ${line}`)).join("\n")}\n\n`
}

/** How the search went, for the summary line. */
export interface VerifyTotals {
  readonly runs: number
  readonly schedules: number
  readonly findings: number
  readonly durationMs: number
  readonly seed: number
  readonly interrupted: boolean
}

/** `✓ verify: 50 schedules (51 runs) · no findings · 3.2s · seed 42`. */
export const summaryLine = (workflow: string, totals: VerifyTotals): string => {
  const icon = totals.interrupted ? "○" : totals.findings === 0 ? "✓" : "✗"
  const found = totals.findings === 0 ? "no findings" : plural(totals.findings, "finding")
  const stopped = totals.interrupted ? " · interrupted" : ""
  return `${icon} ${workflow}: ${plural(totals.schedules, "schedule")} (${plural(totals.runs, "run")}) · ${found} · ${formatDuration(totals.durationMs)} · seed ${totals.seed}${stopped}\n`
}
