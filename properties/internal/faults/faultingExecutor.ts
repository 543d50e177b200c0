/**
 * An `Executor` around another that injects one fault into one step, at the
 * body: the step's runner is swapped for one that throws, or hangs, for that
 * attempt only, and the executor under it (the user's, or `localExecutor`)
 * runs it as it would the real one. The workflow itself is not touched, and
 * whatever the executor does with a failure, a hang or a signal is checked
 * with the rest.
 */
import * as Effect from "effect/Effect"
import { isCommand, type Command } from "../../../dsl/Command.ts"
import type { Executor, StepBody } from "../../../runtime/Executor.ts"
import { newCommand, processesNow } from "./processes.ts"

export type StepFault = "throw" | "sigterm" | "timeout"

/** What the injection did, for the checks. */
export interface FaultRecord {
  /** Attempts into which the fault was injected. */
  injected: number
  /** For a hanging function step: attempts that ran the stand-in body, those whose Effect finalizer ran, and those whose `ctx.signal` was aborted. */
  standIns: number
  finalized: number
  aborted: number
}

/** The error an injected throw fails with: its message says where it came from. */
export class InjectedFault extends Error {
  constructor(step: string) {
    super(`fault injected by weft verify: step "${step}" throws`)
    this.name = "InjectedFault"
  }
}

// Runs the user's command, then stays: what it started is still there when
// the timeout comes, and must be torn down with it.
const hangingCommand = (command: Command): Command => ({
  ...command,
  argv: ["sh", "-c", `"$@"; exec sleep 3600`, "sh", ...command.argv],
  display: `${command.display}; sleep 3600`,
  shown: undefined
})

const hangingFunction = (record: FaultRecord) => (_inputs: unknown, ctx: { readonly signal: AbortSignal }) => {
  record.standIns++
  ctx.signal.addEventListener("abort", () => record.aborted++, { once: true })
  return Effect.never.pipe(Effect.ensuring(Effect.sync(() => record.finalized++)))
}

const throwing = (step: string) => () => {
  throw new InjectedFault(step)
}

/** The body as injected: `step` with its runner swapped (and, for a stand-in function, not isolated: a closure cannot cross). */
const injected = (step: StepBody, fault: "throw" | "timeout", record: FaultRecord): StepBody => {
  const original = step.def.run
  const run = fault === "throw" ? throwing(step.id) : isCommand(original) ? hangingCommand(original) : hangingFunction(record)
  const env = isCommand(run) ? step.env : { ...step.env, isolate: undefined }
  return { ...step, env, def: { ...step.def, run } }
}

/**
 * How long after it is seen the command gets SIGTERM: a fault in the middle
 * of its work (what it started is there by then), not as it execs.
 */
const midwayMs = 100

/**
 * Sends SIGTERM to the step's command once it has run a moment: the first
 * new process of this weft's trees that leads its group (the run has
 * concurrency 1, so it is this step's). Polls until the body ends.
 */
const terminating = (body: Effect.Effect<unknown, unknown>, record: FaultRecord): Effect.Effect<unknown, unknown> =>
  Effect.suspend(() => {
    const before = processesNow()
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = setInterval(() => {
      const found = newCommand(before)
      if (found === undefined) return
      clearInterval(poll)
      timer = setTimeout(() => {
        try {
          process.kill(found.pid, "SIGTERM")
          record.injected++
        } catch {} // ended meanwhile: the fault came too late
      }, midwayMs)
    }, 5)
    return body.pipe(Effect.ensuring(Effect.sync(() => {
      clearInterval(poll)
      clearTimeout(timer)
    })))
  })

export const makeFaultingExecutor = (inner: Executor, stepId: string, fault: StepFault): { readonly executor: Executor; readonly record: FaultRecord } => {
  const record: FaultRecord = { injected: 0, standIns: 0, finalized: 0, aborted: 0 }
  const executor: Executor = {
    name: inner.name,
    ...(inner.announces === true ? { announces: true } : {}),
    run: (step) => {
      if (step.id !== stepId) return inner.run(step)
      if (fault === "sigterm") return terminating(inner.run(step), record)
      record.injected++
      return inner.run(injected(step, fault, record))
    }
  }
  return { executor, record }
}
