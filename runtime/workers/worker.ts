/**
 * `weft worker`: takes ready steps from the queue and runs each body through
 * the same path as a local step (`runBody`: commands in their own process
 * group under the watchdog, functions with their console captured), in the
 * project checked out where the worker runs. It refuses a job naming a file
 * outside its project, or whose workflow differs from its checkout (by
 * `moduleGraphDigest`). Each step sees the worker's own environment, as its
 * `permissions.env` allows, and every report is masked with the worker's own
 * secrets before it leaves: their values never reach Redis.
 *
 * Stopping (Ctrl-C) interrupts the bodies it runs, tears their processes
 * down, and puts their jobs back in the queue for another worker.
 */
import { hostname } from "node:os"
import * as path from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { makeFileHasher, type FileHasher } from "../cache/fileHashes.ts"
import { moduleGraphDigest } from "../cache/moduleGraph.ts"
import { runBody } from "../internal/body.ts"
import { installConsoleCapture } from "../internal/consoleCapture.ts"
import { describeError } from "../internal/describeError.ts"
import { loadWorkflow } from "../loadWorkflow.ts"
import { makeRedactor, type Redactor } from "../permissions/redact.ts"
import { redactUpdate } from "../permissions/redactUpdate.ts"
import { makeStepEnvs, workflowSecrets } from "../permissions/StepEnv.ts"
import * as Plan from "../Plan.ts"
import { defaultWeftDir } from "../weftDir.ts"
import type { StepReportBody } from "../StepReport.ts"
import { connect, reachable } from "./internal/redis.ts"
import { acquire } from "./Lease.ts"
import { bullOptions } from "./internal/bull.ts"
import { cancelChannel, cancelledKey, decodeFiles, decodeValue, encodeFiles, encodeValue, leaseKey, prefix, queueName, reportsChannel, type CancelMessage, type ReportMessage, type StepJob, type StepResult } from "./StepJob.ts"
import { collectFiles, writeFiles } from "./travelFiles.ts"
import { settledWithin } from "./internal/settledWithin.ts"
import { declaredOutputs } from "../../dsl/cacheOptions.ts"

export interface WorkerOptions {
  readonly url: string
  /** The project's folder: job files are relative to it, and refused outside it. */
  readonly root: string
  readonly concurrency: number
  /** Shown in the coordinator's events (default: host and pid). */
  readonly name?: string | undefined
  /** What the worker says it does (a job taken, ended, refused): the CLI prints it. */
  readonly onNote?: ((line: string) => void) | undefined
  readonly environment?: NodeJS.ProcessEnv | undefined
  /**
   * Runs jobs of runs started with `--allow-all` (every step sees this
   * machine's whole environment). Without it such a job is refused: whoever
   * can write to Redis must not be able to lift a worker's permissions.
   */
  readonly allowAll?: boolean | undefined
}

export interface RunningWorker {
  readonly name: string
  /** Interrupts the bodies it runs, returns their jobs to the queue and disconnects. */
  readonly stop: () => Promise<void>
}

/** The workflow a worker loaded, by the digest of its files. */
interface LoadedWorkflow {
  readonly digest: string
  readonly plan: Plan.Plan
  /** Each step's declared output globs, by id (`travelFiles.ts`). */
  readonly outputsOf: (step: string) => ReadonlyArray<string>
  readonly redact: Redactor | undefined
  readonly envOf: (allowAll: boolean) => ReturnType<typeof makeStepEnvs>
}

/** A job a worker runs: how to stop it, and why it was stopped. */
interface Running {
  readonly run: string
  readonly controller: AbortController
  stopped?: "cancelled" | "returned"
}

/** How long a stopping worker waits for Redis to take its jobs back (a step's teardown takes at most ~2 s of it). */
const stopGraceMs = 5_000

export const startWorker = async (options: WorkerOptions): Promise<RunningWorker> => {
  const { Worker, UnrecoverableError, WaitingError } = await import("bullmq")
  const name = options.name ?? `${hostname()}-${process.pid}`
  const root = path.resolve(options.root)
  const environment = options.environment ?? process.env
  const note = options.onNote ?? (() => undefined)
  const redis = connect(options.url, `weft-worker:${name}`)
  await reachable(redis, options.url)
  const subscriber = connect(options.url, `weft-worker-cancel:${name}`)
  const running = new Map<string, Running>()
  const workflows = new Map<string, LoadedWorkflow>()
  installConsoleCapture()

  const refuse = (message: string) => new UnrecoverableError(message)
  let fileHasher: FileHasher | undefined
  const hasher = () => (fileHasher ??= makeFileHasher(path.join(defaultWeftDir(root), "file-hashes.json")))

  const load = async (job: StepJob): Promise<LoadedWorkflow> => {
    if (path.isAbsolute(job.file)) throw refuse(`the job names ${job.file}, an absolute path: a job names its workflow file relative to the project root. Refused.`)
    const file = path.resolve(root, job.file)
    const relative = path.relative(root, file)
    if (relative.startsWith("..") || path.isAbsolute(relative)) {
      throw refuse(`the job names ${job.file}, which is outside this worker's project (${root}). Refused: a worker runs only its own checkout's workflows.`)
    }
    let digest: string
    try {
      digest = moduleGraphDigest(file)
    } catch (error) {
      throw refuse(`worker ${name} cannot read ${job.file} in ${root} (${describeError(error)}): is the project checked out there?`)
    }
    if (digest !== job.digest) {
      throw refuse(`${job.file} on worker ${name} differs from the coordinator's (definition digest ${digest.slice(0, 12)} here, ${job.digest.slice(0, 12)} there): check out the same commit on both, then restart the worker.`)
    }
    const found = workflows.get(file)
    if (found?.digest === digest) return found
    const { workflow } = await loadWorkflow(file, root, "worker")
    const plan = Plan.make(workflow, { file })
    const secrets = workflowSecrets(workflow.options.permissions, plan.steps, environment)
    const envs = new Map<boolean, ReturnType<typeof makeStepEnvs>>()
    const loaded: LoadedWorkflow = {
      digest,
      plan,
      outputsOf: (step) => {
        const def = plan.steps[plan.ids.indexOf(step)]
        return def === undefined ? [] : declaredOutputs(def.cache, workflow.options.cache)
      },
      redact: secrets.length === 0 ? undefined : makeRedactor(secrets),
      envOf: (allowAll) => envs.get(allowAll) ?? envs.set(allowAll, makeStepEnvs(workflow.options.permissions, allowAll, environment)).get(allowAll)!
    }
    workflows.set(file, loaded)
    return loaded
  }

  const processor = async (job: import("bullmq").Job<StepJob>, token: string | undefined): Promise<string> => {
    const data = job.data
    const id = job.id!
    const loaded = await load(data)
    const index = loaded.plan.ids.indexOf(data.step)
    if (index === -1) throw refuse(`${data.file} has no step "${data.step}" on worker ${name}`)
    const def = loaded.plan.steps[index]!
    const entry: Running = { run: data.run, controller: new AbortController() }
    running.set(id, entry)
    const lease = await acquire(redis, leaseKey(data.run, data.step), `${name}/${id}/${token ?? ""}`, entry.controller.signal)
    try {
      // Registered in `running` first, so a cancellation is either heard or found here.
      if (lease !== undefined && await redis.eval(`return redis.call("exists", KEYS[1], KEYS[2])`, 2, cancelledKey(data.run), cancelledKey(data.run, id)) !== 0) entry.stopped ??= "cancelled"
      if (lease === undefined || entry.stopped !== undefined) return await stopped(job, entry, token)
      const send = (message: ReportMessage) => redis.publish(reportsChannel(data.run), JSON.stringify(message)).then(() => undefined, () => undefined)
      const publish = (report: StepReportBody) => void send({ job: id, worker: name, report: loaded.redact === undefined ? report : redactUpdate(report, loaded.redact) })
      publish({ type: "step:start", attempt: data.attempt, worker: name })
      note(`${data.step} (attempt ${data.attempt}) of run ${data.run}: started`)
      if (data.allowAll && options.allowAll !== true) {
        throw refuse(`step "${data.step}" of run ${data.run} comes from a run started with --allow-all, and worker ${name} was not: start the worker with weft worker --allow-all to give such steps this machine's whole environment, or run without --allow-all`)
      }
      const env = { ...loaded.envOf(data.allowAll)(def), redact: loaded.redact }
      if (env.problem !== undefined) throw new Error(`step "${data.step}" on worker ${name}: ${env.problem}`)
      const cwd = path.dirname(path.resolve(root, data.file))
      // What the steps before it made, wherever they ran, as the coordinator has it; each checked against this checkout's own declarations.
      for (const group of decodeFiles(data.files)) await writeFiles(cwd, group.files, loaded.outputsOf(group.step), `the coordinator (step "${group.step}")`)
      const exit = await Effect.runPromiseExit(runBody({
        index,
        id: data.step,
        workflow: loaded.plan.workflow.name,
        def,
        file: path.resolve(root, data.file),
        cwd,
        inputs: decodeValue(data.inputs) as Record<string, unknown>,
        attempt: data.attempt,
        env,
        redact: loaded.redact,
        report: publish,
        features: {}
      }), { signal: entry.controller.signal })
      if (entry.stopped !== undefined) return await stopped(job, entry, token)
      if (Exit.isFailure(exit)) {
        note(`${data.step} of run ${data.run}: failed`)
        const error = describeError(Cause.squash(exit.cause))
        await send({ job: id, worker: name, end: { error: loaded.redact === undefined ? error : loaded.redact(error) } })
        throw new Error(error)
      }
      note(`${data.step} of run ${data.run}: succeeded`)
      const files = await collectFiles(hasher(), cwd, loaded.outputsOf(data.step), `step "${data.step}"'s declared output files`)
      const result: StepResult = { value: encodeValue(exit.value, data.step, "outputs"), files: encodeFiles([{ step: data.step, files }]) }
      await send({ job: id, worker: name, end: result })
      return JSON.stringify(result)
    } finally {
      running.delete(id)
      await lease?.release()
    }
  }

  /** A job stopped before its end: back to the queue when the worker stops, else (cancelled) failed. */
  const stopped = async (job: import("bullmq").Job<StepJob>, entry: Running, token: string | undefined): Promise<never> => {
    if (entry.stopped === "returned") {
      await job.moveToWait(token)
      note(`${job.data.step} of run ${job.data.run}: returned to the queue`)
      throw new WaitingError()
    }
    note(`${job.data.step} of run ${job.data.run}: cancelled`)
    throw refuse(`step "${job.data.step}" was cancelled by its run`)
  }

  subscriber.on("message", (_channel: string, text: string) => {
    let message: CancelMessage
    try {
      message = JSON.parse(text) as CancelMessage
    } catch {
      return
    }
    for (const [id, entry] of running) {
      if (entry.run !== message.run || (message.job !== undefined && message.job !== id)) continue
      entry.stopped ??= "cancelled"
      entry.controller.abort()
    }
  })
  await subscriber.subscribe(cancelChannel)

  // BullMQ does not close a connection it was given: `stop` does.
  const bull = connect(options.url, `weft-worker-bull:${name}`)
  const worker = new Worker<StepJob, string>(queueName, processor, {
    ...bullOptions,
    prefix,
    connection: bull as never,
    concurrency: options.concurrency,
    name
  })
  // A lost connection is retried by ioredis; BullMQ reports each failed attempt here.
  // ioredis retries about every second: the same problem is said once in 30 s, not at every attempt.
  let said = { message: "", at: 0 }
  worker.on("error", (error) => {
    const at = Date.now()
    if (error.message === said.message && at - said.at < 30_000) return
    said = { message: error.message, at }
    note(`Redis: ${error.message}`)
  })
  await worker.waitUntilReady()

  return {
    name,
    stop: async () => {
      for (const entry of running.values()) {
        entry.stopped ??= "returned"
        entry.controller.abort()
      }
      // With Redis gone, BullMQ's close (and a job's return to the queue)
      // waits for a connection that may never come: the worker stops anyway,
      // its steps' processes already torn down by the aborts above (and by
      // the watchdog, should weft not get that far).
      const closed = await settledWithin(worker.close(), stopGraceMs)
      if (!closed) note(`Redis at ${options.url} did not answer within ${stopGraceMs / 1000} s: stopping without it; its running jobs go back to the queue when their locks lapse`)
      bull.disconnect()
      subscriber.disconnect()
      if (closed) await redis.quit().catch(() => redis.disconnect())
      else redis.disconnect()
    }
  }
}
