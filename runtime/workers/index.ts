/**
 * Workers: steps of one run spread over many machines through a BullMQ queue
 * on Redis. `makeCoordinator` gives `weft run --workers` its executor;
 * `startWorker` is `weft worker`. Loaded only when a run has workers: nothing
 * else imports bullmq.
 *
 * @example
 * const coordinator = await makeCoordinator({ url: "redis://localhost:6379", root: process.cwd() })
 * try {
 *   await run(wf, { file: "weft.ts", executor: coordinator.executor })
 * } finally {
 *   await coordinator.close(false)
 * }
 */
export { makeCoordinator, WorkerStepError, type Coordinator, type CoordinatorOptions } from "./coordinator.ts"
export { startWorker, type RunningWorker, type WorkerOptions } from "./worker.ts"
export { checkRedisUrl, WorkersConnectionError } from "./internal/redis.ts"
export { leaseMs } from "./Lease.ts"
