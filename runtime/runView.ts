/**
 * The read-only view of one run that a workflow's invariants check
 * (`RunView`, in dsl/Invariant.ts), made from the run's events and outputs.
 * Pure: the same trace gives the same answers.
 */
import { matchesStep, stepList, type RunView, type StepOutcome, type StepRecord, type Steps } from "../dsl/Invariant.ts"
import type { Event, RunStatus } from "./Event.ts"

/** Why the last helper that answered `false` did: the steps it blames, what happened and what would fix it. */
export interface Blame {
  readonly steps: ReadonlyArray<string>
  readonly reason: string
  readonly fix?: string | undefined
}

/** A step or pattern a check names that the workflow does not have: a definition problem, not a broken promise. */
export class UnknownStepError extends Error {
  readonly pattern: string
  constructor(pattern: string) {
    super(`there is no step "${pattern}"`)
    this.pattern = pattern
  }
}

export interface RunTrace {
  /** Every step of the workflow, in declaration order (the run may have left some out). */
  readonly ids: ReadonlyArray<string>
  readonly events: ReadonlyArray<Event>
  /** What each step returned, by id. */
  readonly outputs?: Readonly<Record<string, unknown>> | undefined
}

export interface MadeRunView {
  readonly view: RunView
  /** Why the newest `false` was, if a helper said one. */
  readonly blame: () => Blame | undefined
}

interface MutableRecord {
  id: string
  status: StepOutcome
  attempts: number
  value: unknown
  start: number | undefined
  end: number | undefined
}

const recordsOf = (trace: RunTrace): { readonly records: Map<string, MutableRecord>; readonly status: RunStatus } => {
  const records = new Map<string, MutableRecord>(
    trace.ids.map((id) => [id, { id, status: "not run", attempts: 0, value: undefined, start: undefined, end: undefined }])
  )
  let status: RunStatus = "cancelled"
  trace.events.forEach((event, i) => {
    if (event.type === "run:end") status = event.status
    if (event.type !== "step:start" && event.type !== "step:end") return
    const record = records.get(event.step)
    if (record === undefined) return
    if (event.type === "step:start") {
      record.start ??= i
      record.attempts = Math.max(record.attempts, event.attempt)
    } else {
      record.end = i
      record.status = event.status
      if (event.status === "succeeded" || event.status === "cached") record.value = trace.outputs?.[event.step]
    }
  })
  return { records, status }
}

const succeeded = (r: StepRecord): boolean => r.status === "succeeded" || r.status === "cached"

const overlap = (a: StepRecord, b: StepRecord): boolean =>
  a.start !== undefined && b.start !== undefined && a.start < (b.end ?? Infinity) && b.start < (a.end ?? Infinity)

/** Whether `r` had ended by event `at`. */
const endedBy = (r: StepRecord, at: number): boolean => r.end !== undefined && r.end < at

/** Why `b` started too early for `a`: before `a` started, or while it ran. */
const notYet = (a: StepRecord, b: StepRecord): string =>
  `step "${b.id}" started before "${a.id}" ${a.start === undefined || a.start > b.start! ? "started" : "ended"}`

const afterFix = (first: string, then: string): string =>
  `add after: ["${first}"] to step "${then}" (or needs:, if it uses its value), so that it always waits for "${first}"`

/** The view of one run, and the reason behind its newest `false`. */
export const makeRunView = (trace: RunTrace): MadeRunView => {
  const { records, status } = recordsOf(trace)
  const steps: ReadonlyArray<StepRecord> = [...records.values()]
  let blamed: Blame | undefined
  const no = (blame: Blame): false => {
    blamed = blame
    return false
  }
  const step = (id: string): StepRecord => {
    const record = records.get(id)
    if (record === undefined) throw new UnknownStepError(id)
    return record
  }
  const ids = (named: Steps): ReadonlyArray<string> => {
    const patterns = stepList(named)
    for (const pattern of patterns) if (!trace.ids.some((id) => matchesStep(pattern, id))) throw new UnknownStepError(pattern)
    return trace.ids.filter((id) => patterns.some((pattern) => matchesStep(pattern, id)))
  }
  const named = (s: Steps) => ids(s).map(step)

  /** Whether each `then` that started waits for each `first` as `kept` says; else which pair did not, and why. */
  const waits = (first: Steps, then: Steps, kept: (a: StepRecord, b: StepRecord) => string | undefined): boolean => {
    const firsts = named(first)
    for (const b of named(then)) {
      if (b.start === undefined) continue
      for (const a of firsts) {
        if (a.id === b.id) continue
        const broken = kept(a, b)
        if (broken !== undefined) return no({ steps: [a.id, b.id], reason: broken, fix: afterFix(a.id, b.id) })
      }
    }
    return true
  }

  const view: RunView = {
    status,
    steps,
    step,
    ids,
    succeeded: (s) => {
      const failed = named(s).find((r) => !succeeded(r))
      return failed === undefined || no({ steps: [failed.id], reason: `step "${failed.id}" ended ${failed.status}` })
    },
    startedBefore: (first, then) =>
      waits(first, then, (a, b) =>
        a.start === undefined ? `step "${b.id}" started and "${a.id}" never did`
        : a.start > b.start! ? `step "${b.id}" started before "${a.id}" did`
        : undefined),
    endedBefore: (first, then) => waits(first, then, (a, b) => (endedBy(a, b.start!) ? undefined : notYet(a, b))),
    succeededBefore: (first, then) =>
      waits(first, then, (a, b) =>
        !endedBy(a, b.start!) ? notYet(a, b)
        : !succeeded(a) ? `step "${b.id}" started though "${a.id}" ended ${a.status}`
        : undefined),
    maxRunning: (s) => {
      // A sweep over starts (+1) and ends (-1) in event order.
      const marks = named(s).flatMap((r) => (r.start === undefined ? [] : [[r.start, 1], [r.end ?? Infinity, -1]] as const))
      let running = 0
      let most = 0
      for (const [, delta] of marks.sort((x, y) => x[0] - y[0])) most = Math.max(most, (running += delta))
      return most
    },
    exclusive: (s) => {
      const list = named(s)
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const [a, b] = [list[i]!, list[j]!]
          if (!overlap(a, b)) continue
          return no({
            steps: [a.id, b.id],
            reason: `steps "${a.id}" and "${b.id}" ran at the same time`,
            fix: `give "${a.id}" and "${b.id}" a resource of capacity 1 (resources: { lock: 1 } in the workflow's options, resources: { lock: 1 } on each), or order them with after:`
          })
        }
      }
      return true
    }
  }
  return { view, blame: () => blamed }
}
