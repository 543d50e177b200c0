/**
 * At-least-once delivery never runs a step's body twice at the same time for
 * one run: a second delivery of a job (as BullMQ makes when a busy worker's
 * lock lapses) waits for the first's lease. Real redis-server, real workers:
 * the test delivers the running job a second time under another id, as a
 * stalled job's redelivery would arrive, and reads the order in which the
 * two bodies started and ended.
 */
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { expect, it } from "vitest"
import { waitFor } from "../../test/fixtures/cli/harness.ts"
import { eventsSoFar, startCoordinator, startWorker, waitForEvent, workersWorkspace, useRedis } from "../../test/fixtures/workers.ts"
import { connect } from "./internal/redis.ts"
import { prefix, queueName, type StepJob } from "./StepJob.ts"

const redis = useRedis()

it("a second delivery of a running step waits for the first's lease, and its completion is ignored", async () => {
  const dir = workersWorkspace(`import { workflow, sh } from "weft"
export default workflow("lease")
  .step("once", sh\`echo start $$ >> log; sleep 2; echo end $$ >> log\`)
`)
  const w1 = await startWorker(redis.url, dir, "w1")
  const w2 = await startWorker(redis.url, dir, "w2")
  const run = startCoordinator(redis.url, dir)
  await waitForEvent(run, (e) => e.type === "step:start" && e.step === "once", "the step to start")
  const { Queue } = await import("bullmq")
  const connection = connect(redis.url, "test-redeliver")
  const queue = new Queue<StepJob>(queueName, { prefix, connection: connection as never })
  try {
    const [first] = await queue.getJobs(["active"])
    expect(first?.data.step).toBe("once")
    await queue.add("once", first!.data, { jobId: `${first!.id}-again` })
    const result = await run.exited
    expect(result.code, result.stderr).toBe(0)
    // The redelivery runs too (it cannot know the first will finish), but only after it.
    await waitFor(() => readFileSync(path.join(dir, "log"), "utf8").split("\n").filter(Boolean).length === 4, 30_000, "both deliveries to end")
    const lines = readFileSync(path.join(dir, "log"), "utf8").split("\n").filter(Boolean).map((line) => line.split(" ")[0])
    expect(lines).toEqual(["start", "end", "start", "end"])
    // The run heard of the first delivery only: the second's start and completion were not its attempt's.
    expect(eventsSoFar(result.stdout).filter((e) => e.type === "step:start")).toHaveLength(1)
  } finally {
    await queue.close()
    connection.disconnect()
  }
  expect(w1.stderr() + w2.stderr()).toContain("succeeded")
})
