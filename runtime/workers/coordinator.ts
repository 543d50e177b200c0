/**
 * The coordinator's executor (`weft run --workers`): each attempt of a ready
 * step becomes one plain BullMQ job (flows are trees, and a child shared by
 * two parents leaves the second waiting forever: bullmq issue 1021), with an
 * idempotent id (run, step, attempt) and the step's critical-path rank as its
 * priority. Everything around the body (cache, journal, retries, rate limits,
 * timeout) stays a stage here, so a rate limit holds for the whole run.
 *
 * Results come back as BullMQ's completion events; a reconciling poll asks
 * for the state of every job still pending, because events are a trimmed
 * stream and a restarted Redis may have lost the job (then it is added
 * again). Reports come back on the run's channel, as the same `StepReport`s a
 * local body makes. Interrupting a step (timeout, Ctrl-C) removes its job if
 * it waits, and broadcasts its cancellation to every worker.
 */
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { moduleGraphDigest } from "../cache/moduleGraph.ts"
import type { Executor, StepBody } from "../Executor.ts"
import { localExecutor } from "../executors/local.ts"
import { connect, reachable } from "./internal/redis.ts"
import { keepSeconds } from "./internal/bull.ts"
import { cancelChannel, cancelledKey, decodeFiles, decodeValue, encodeFiles, encodeValue, jobIdOf, prefix, queueName, reportsChannel, type CancelMessage, type ReportMessage, type StepJob, type StepResult } from "./StepJob.ts"
import { collectFiles, writeFiles } from "./travelFiles.ts"
import { settledWithin } from "./internal/settledWithin.ts"
import { declaredOutputs } from "../../dsl/cacheOptions.ts"
import { makeFileHasher, type FileHasher } from "../cache/fileHashes.ts"
import { describeError } from "../internal/describeError.ts"
import type { Plan } from "../Plan.ts"
import { defaultWeftDir } from "../weftDir.ts"

export interface CoordinatorOptions {
  readonly url: string
  /** The project's folder: jobs name the workflow file relative to it. */
  readonly root: string
  /** Each step's critical-path rank (`Plan.rank`), by id: the longest first. */
  readonly ranks?: ReadonlyMap<string, number> | undefined
  /** The run's plan: which steps come before which, and what files each declares as outputs (`travelFiles.ts`). */
  readonly plan?: Plan | undefined
  /**
   * The id of a run whose coordinator died (`--resume`): a step whose job
   * of that run is still waiting, running or done is awaited, not queued
   * again; one whose job failed or is gone runs anew under this run's id.
   */
  readonly adopt?: string | undefined
  /** How often pending jobs are reconciled with Redis (ms). */
  readonly reconcileMs?: number | undefined
  /** How long Redis may stay unreachable before pending steps fail (ms). */
  readonly unreachableMs?: number | undefined
}

/** A step that ran on a worker and failed there, or could not be run by one. */
export class WorkerStepError extends Error {
  readonly _tag = "WorkerStepError"
  constructor(message: string) {
    super(message)
    this.name = "WorkerStepError"
  }
}

export interface Coordinator {
  readonly executor: Executor
  /** The run's id in job ids, channels and leases. */
  readonly run: string
  /** Cancels what is left of the run on every worker (when `cancelled`) and disconnects. */
  readonly close: (cancelled: boolean) => Promise<void>
}

interface Pending {
  /** The run its job belongs to: this one, or the adopted one. */
  readonly run: string
  readonly step: StepBody
  /** Its worker's start was heard. */
  started: boolean
  data: StepJob
  readonly options: Record<string, unknown>
  readonly settle: (outcome: Effect.Effect<unknown, unknown>) => void
}

/** BullMQ's highest priority is 1 and its lowest 2^21: the longest remaining path gets 1. */
const priorityOf = (rank: number | undefined, longest: number): number =>
  rank === undefined || longest <= 0 ? 1 : 1 + Math.round((1 - rank / longest) * 1_000_000)

/** How long a closing coordinator waits for Redis (to cancel what is left, to close the queue). */
const closeGraceMs = 5_000

export const makeCoordinator = async (options: CoordinatorOptions): Promise<Coordinator> => {
  const { Queue, QueueEvents, Job } = await import("bullmq")
  const run = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`
  const root = path.resolve(options.root)
  const redis = connect(options.url, `weft-run:${run}`)
  await reachable(redis, options.url)
  const subscriber = connect(options.url, `weft-run-reports:${run}`)
  // BullMQ does not close a connection it was given: `close` does.
  const given = [connect(options.url, `weft-run-queue:${run}`), connect(options.url, `weft-run-events:${run}`)] as const
  const queue = new Queue<StepJob, string>(queueName, { prefix, connection: given[0] as never })
  const events = new QueueEvents(queueName, { prefix, connection: given[1] as never })
  let unreachableSince: number | undefined
  const lost = (error: Error) => void (unreachableSince ??= Date.now(), error)
  queue.on("error", lost)
  events.on("error", lost)
  for (const client of [redis, subscriber]) client.on("error", lost)
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()])

  const pending = new Map<string, Pending>()
  const digests = new Map<string, string>()
  const longest = Math.max(0, ...(options.ranks?.values() ?? []))

  /** Grace timers of jobs whose end BullMQ told first (`late`). */
  const graces = new Map<string, ReturnType<typeof setTimeout>>()
  /**
   * Takes a job out of `pending`, with its grace timer: the end on the
   * reports channel may come after BullMQ's, and a timer left behind was
   * still open when the run ended (weft says so on stderr).
   */
  const drop = (id: string): boolean => {
    clearTimeout(graces.get(id))
    graces.delete(id)
    return pending.delete(id)
  }
  const settle = (id: string, outcome: Effect.Effect<unknown, unknown>) => {
    const entry = pending.get(id)
    // A second completion of the same job (at-least-once delivery) finds nothing pending: ignored.
    if (entry === undefined) return
    drop(id)
    entry.settle(outcome)
  }
  /** A job's result, as its end message or BullMQ's return value (`StepResult`, as JSON) has it: its files written here first. */
  const succeeded = (id: string, result: StepResult | string | undefined) => {
    const entry = pending.get(id)
    if (entry === undefined) return
    let value: unknown
    let files: ReturnType<typeof decodeFiles>
    try {
      const parsed: StepResult | undefined = typeof result === "string" ? JSON.parse(result) as StepResult : result
      value = parsed === undefined ? undefined : decodeValue(parsed.value)
      files = decodeFiles(parsed?.files)
    } catch (error) {
      return settle(id, Effect.fail(new WorkerStepError(`the value step ${entry.step.id} returned on its worker cannot be read here: ${String(error)}`)))
    }
    if (files.length === 0) return settle(id, Effect.succeed(value))
    // Settled once its files are here: the cache and the journal look for them as the step ends.
    drop(id)
    const cwd = path.dirname(entry.step.file!)
    const written = files.reduce((prior, group) => prior.then(() => writeFiles(cwd, group.files, globsOf(group.step), "a worker")), Promise.resolve())
    written.then(
      () => entry.settle(Effect.succeed(value)),
      (error: unknown) => entry.settle(Effect.fail(new WorkerStepError(`step ${entry.step.id} ran on a worker, but its output files cannot be written here: ${describeError(error)}`)))
    )
  }
  const failed = (id: string, reason: string | undefined) =>
    settle(id, Effect.fail(new WorkerStepError(reason ?? "its worker gave no reason")))

  // A job's end normally comes with its reports, after them (`ReportMessage`).
  // Heard only from BullMQ (a refusal before the body, or reports lost to a
  // reconnection), the end waits `graceMs` for reports still on their way,
  // and the run is told of a start it did not hear first.
  const graceMs = 250
  const late = (id: string, end: () => void) => {
    // Only for a job still pending, once: BullMQ's event may come before or after the end on the reports channel.
    if (!pending.has(id) || graces.has(id)) return
    graces.set(id, setTimeout(() => {
      graces.delete(id)
      const entry = pending.get(id)
      if (entry === undefined) return
      if (!entry.started) entry.step.report({ type: "step:start", attempt: entry.step.attempt })
      end()
    }, graceMs))
  }
  events.on("completed", ({ jobId, returnvalue }) => late(jobId, () => succeeded(jobId, returnvalue)))
  events.on("failed", ({ jobId, failedReason }) => late(jobId, () => failed(jobId, failedReason)))
  subscriber.on("message", (_channel: string, text: string) => {
    const message = JSON.parse(text) as ReportMessage
    const entry = pending.get(message.job)
    if (entry === undefined) return
    if (message.report !== undefined) {
      if (message.report.type === "step:start") entry.started = true
      entry.step.report(message.report)
    }
    if (message.end !== undefined) "value" in message.end ? succeeded(message.job, message.end) : failed(message.job, message.end.error)
  })
  for (const of of [run, ...(options.adopt === undefined ? [] : [options.adopt])]) await subscriber.subscribe(reportsChannel(of))

  const add = (id: string, entry: Pending) => queue.add(entry.step.id, entry.data, entry.options).catch((error: Error) => failed(id, `weft could not queue it: ${error.message}`))

  // Events can be missed (a reconnection, a trimmed stream): every pending job's state is asked for in turn.
  const reconcile = async () => {
    for (const [id, entry] of [...pending]) {
      const state = await queue.getJobState(id)
      unreachableSince = undefined
      if (state === "completed" || state === "failed") {
        const job = await Job.fromId(queue, id)
        if (state === "completed") late(id, () => succeeded(id, job?.returnvalue))
        else late(id, () => failed(id, job?.failedReason))
      } else if (state === "unknown" && pending.has(id)) {
        // Redis lost it (restarted without persistence): the same id again.
        await add(id, entry)
      }
    }
    if (pending.size === 0) unreachableSince = undefined
  }
  const unreachableMs = options.unreachableMs ?? 30_000
  let reconciling = false
  const timer = setInterval(() => {
    if (unreachableSince !== undefined && Date.now() - unreachableSince > unreachableMs) {
      for (const id of [...pending.keys()]) failed(id, `Redis at ${options.url} has been unreachable for ${Math.round(unreachableMs / 1000)} s: check that it runs and that this machine reaches it`)
    }
    if (reconciling || pending.size === 0) return
    reconciling = true
    reconcile().catch(lost).finally(() => (reconciling = false))
  }, options.reconcileMs ?? 1000)

  const cancel = async (id: string, of: string) => {
    const message: CancelMessage = { run: of, job: id }
    await redis.set(cancelledKey(of, id), "1", "PX", keepSeconds * 1000, "NX").catch(() => undefined)
    await Promise.all([
      redis.publish(cancelChannel, JSON.stringify(message)).catch(() => undefined),
      // A job still waiting is removed; an active one is locked, and its worker hears the broadcast.
      queue.remove(id).catch(() => undefined)
    ])
  }

  const digestOf = (file: string) => digests.get(file) ?? digests.set(file, moduleGraphDigest(file)).get(file)!

  const plan = options.plan
  const globsOf = (step: string): ReadonlyArray<string> => {
    const index = plan?.indexOf.get(step)
    return plan === undefined || index === undefined ? [] : declaredOutputs(plan.steps[index]!.cache, plan.workflow.options.cache)
  }
  /** Every step ordered before `step` (its needs and after-steps, and theirs) that declares output files. */
  const before = (step: string): Array<string> => {
    const index = plan?.indexOf.get(step)
    if (plan === undefined || index === undefined) return []
    const seen = new Set<number>()
    const visit = (i: number): void => {
      for (const dep of plan.deps[i]!) if (!seen.has(dep)) (seen.add(dep), visit(dep))
    }
    visit(index)
    return [...seen].map((i) => plan.ids[i]!).filter((id) => globsOf(id).length > 0)
  }
  let fileHasher: FileHasher | undefined
  const hasher = () => (fileHasher ??= makeFileHasher(path.join(defaultWeftDir(root), "file-hashes.json")))
  /** The declared outputs of the steps before `step`, as they are here: for the worker to write before the body runs. */
  const filesBefore = async (step: StepBody): Promise<string | undefined> => {
    const cwd = path.dirname(step.file!)
    const groups = []
    for (const id of before(step.id)) groups.push({ step: id, files: await collectFiles(hasher(), cwd, globsOf(id), `the declared output files of the steps before "${step.id}"`) })
    return encodeFiles(groups)
  }

  const remote = (step: StepBody): Effect.Effect<unknown, unknown> =>
    Effect.callback<unknown, unknown>((resume) => {
      const file = path.relative(root, step.file!).split(path.sep).join("/")
      if (file.startsWith("../") || path.isAbsolute(file)) {
        return void resume(Effect.fail(new WorkerStepError(`${step.file} is outside the project folder ${root}: run weft from the project's root so that workers find the file in their checkout`)))
      }
      let inputs: string
      try {
        inputs = encodeValue(step.inputs, step.id, "inputs")
      } catch (error) {
        return void resume(Effect.fail(error))
      }
      const id = jobIdOf(run, step.id, step.attempt)
      const entry: Pending = {
        run,
        step,
        started: false,
        data: { run, file, digest: digestOf(step.file!), step: step.id, attempt: step.attempt, inputs, allowAll: step.env.allowAll },
        options: {
          jobId: id,
          priority: priorityOf(options.ranks?.get(step.id), longest),
          // Retries are the coordinator's stage: a failed job is one failed attempt.
          attempts: 1,
          removeOnComplete: { age: keepSeconds },
          removeOnFail: { age: keepSeconds }
        },
        settle: resume
      }
      let current = id
      pending.set(id, entry)
      void adoptable(step).then(async (adopted) => {
        if (!pending.has(id)) return
        if (adopted !== undefined) {
          // The dead coordinator's job: awaited (its end, or the reconciling poll, settles it), never queued twice.
          drop(id)
          current = adopted
          pending.set(adopted, { ...entry, run: options.adopt!, started: true })
          // Its start went to the dead coordinator: this run hears of it now, before its reports and its end.
          step.report({ type: "step:start", attempt: step.attempt })
          return
        }
        const files = await filesBefore(step)
        if (!pending.has(id)) return
        entry.data = { ...entry.data, files }
        return add(id, entry)
      }).catch((error: unknown) => failed(id, describeError(error)))
      return Effect.promise(async () => {
        const entry = pending.get(current)
        if (entry === undefined || !drop(current)) return
        // Bounded: with Redis gone the cancellation waits for a connection, and the step's interruption must not.
        await settledWithin(cancel(current, entry.run), closeGraceMs)
      })
    })

  /** The adopted run's job for this attempt of `step`, when it is waiting, running or done: its id. */
  const adoptable = async (step: StepBody): Promise<string | undefined> => {
    if (options.adopt === undefined) return undefined
    const id = jobIdOf(options.adopt, step.id, step.attempt)
    const state = await queue.getJobState(id)
    return state === "failed" || state === "unknown" ? undefined : id
  }

  const executor: Executor = {
    name: "workers",
    announces: true,
    // Pinned to the coordinator (`runsOn: "local"`), or not from a file a worker could load.
    run: (step) => step.def.runsOn === "local" || step.file === undefined
      ? Effect.andThen(Effect.sync(() => step.report({ type: "step:start", attempt: step.attempt })), localExecutor.run(step))
      : remote(step)
  }

  return {
    executor,
    run,
    close: async (cancelled) => {
      clearInterval(timer)
      const farewell = async () => {
        if (cancelled) {
          for (const of of [run, ...(options.adopt === undefined ? [] : [options.adopt])]) {
            await redis.set(cancelledKey(of), "1", "PX", keepSeconds * 1000, "NX").catch(() => undefined)
            await redis.publish(cancelChannel, JSON.stringify({ run: of } satisfies CancelMessage)).catch(() => undefined)
          }
        }
        await Promise.allSettled([queue.close(), events.close()])
      }
      // With Redis gone, every command waits for a connection that may never
      // come: weft ends anyway (the workers' own jobs end with their locks).
      const done = await settledWithin(farewell(), closeGraceMs)
      for (const client of given) client.disconnect()
      subscriber.disconnect()
      if (done) await redis.quit().catch(() => redis.disconnect())
      else redis.disconnect()
    }
  }
}
