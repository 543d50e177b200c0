/**
 * Faults a run with workers survives, against a real redis-server and real
 * `weft worker` processes: a worker SIGKILLed mid-step (its step reruns on
 * another worker within BullMQ's lock and stall interval, and the killed
 * worker's command is ended by its watchdog), Ctrl-C on the coordinator (every
 * job of the run cancelled on its worker, nothing left queued or running), a
 * worker's own Ctrl-C (its job goes back to the queue), and Redis restarted
 * mid-run with its data lost (the coordinator queues the lost job again).
 *
 * The slow step sleeps a minute the first time it runs (it leaves a file
 * saying so) and ends at once after: a rerun is quick, a step left running
 * is caught by its pid.
 */
import { existsSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { Event, EventOf } from "../Event.ts"
import { alive, waitFor } from "../../test/fixtures/cli/harness.ts"
import { startRedis } from "../../test/fixtures/redis.ts"
import { eventsSoFar, pidsIn, startCoordinator, startWorker, waitForEvent, workersWorkspace, useRedis } from "../../test/fixtures/workers.ts"
import { connect } from "./internal/redis.ts"
import { prefix, queueName } from "./StepJob.ts"

const redis = useRedis()

const source = (second = "") => `import { workflow, sh } from "weft"
export default workflow("faults")
  .step("slow", sh\`echo $$ >> pids; if [ ! -e once ]; then touch once; exec sleep 60; fi; echo rerun\`)
  ${second}
  .step("after", { needs: ["slow"] }, () => "done")
`

const startedOn = (step: string, worker: string) => (e: Event) => e.type === "step:start" && e.step === step && (e as EventOf<"step:start">).worker === worker

/** runtime/internal/watchdog.ts's grace (2 s) between SIGTERM and SIGKILL, with room for a loaded machine. */
const teardownMs = 15_000

describe("a run with workers survives", () => {
  it("a worker SIGKILLed mid-step: the step reruns on another worker within the stall interval, and the killed worker's command ends", async () => {
    const dir = workersWorkspace(source())
    const w1 = await startWorker(redis.url, dir, "w1")
    const run = startCoordinator(redis.url, dir)
    await waitForEvent(run, startedOn("slow", "w1"), "slow to start on w1")
    await waitFor(() => pidsIn(dir, "pids").length === 1, 30_000, "the first attempt's pid")
    const [orphan] = pidsIn(dir, "pids")
    await startWorker(redis.url, dir, "w2")
    const killedAt = performance.now()
    w1.child.kill("SIGKILL")
    await waitForEvent(run, startedOn("slow", "w2"), "slow to rerun on w2")
    const rerunMs = performance.now() - killedAt
    const result = await run.exited
    expect(result.code, result.stderr).toBe(0)
    expect(eventsSoFar(result.stdout).filter((e) => e.type === "step:log").map((e) => (e as EventOf<"step:log">).text)).toContain("rerun")
    // Lock 4 s + stall check 2 s, measured ~3-6 s: weft promises 10 s; the margin is for a loaded machine.
    expect(rerunMs).toBeLessThan(15_000)
    console.log(`rerun on another worker ${Math.round(rerunMs)} ms after the SIGKILL`)
    await waitFor(() => !alive(orphan!), teardownMs, `the killed worker's command (pid ${orphan}) to end`)
  })

  it("Ctrl-C on the coordinator: its running job is cancelled on the worker, its queued jobs removed, no process left", async () => {
    const dir = workersWorkspace(source(`.step("queued", sh\`echo $$ >> queued-pids; sleep 60\`)`))
    const worker = await startWorker(redis.url, dir, "w1")
    const run = startCoordinator(redis.url, dir)
    await waitForEvent(run, (e) => e.type === "step:start" && e.step === "slow", "slow to start")
    await waitFor(() => pidsIn(dir, "pids").length === 1, 30_000, "slow's pid")
    const [pid] = pidsIn(dir, "pids")
    run.child.kill("SIGINT")
    const result = await run.exited
    expect(result.code, result.stderr).toBe(130)
    await waitFor(() => !alive(pid!), teardownMs, `the worker's command (pid ${pid}) to end`)
    await waitFor(() => worker.stderr().includes("slow of run") && worker.stderr().includes("cancelled"), teardownMs, `the worker to say it cancelled slow:\n${worker.stderr()}`)
    // Nothing of the run is left for any worker to take, nor running.
    const { Queue } = await import("bullmq")
    const connection = connect(redis.url, "test-counts")
    const queue = new Queue(queueName, { prefix, connection: connection as never })
    try {
      const counts = await queue.getJobCounts("waiting", "prioritized", "active", "delayed")
      expect(counts).toEqual({ waiting: 0, prioritized: 0, active: 0, delayed: 0 })
    } finally {
      await queue.close()
      connection.disconnect()
    }
    expect(existsSync(path.join(dir, "queued-pids"))).toBe(false)
    expect(alive(worker.child.pid!)).toBe(true)
  })

  it("a worker's own Ctrl-C: its step's process ends and its job goes back to the queue, for another worker", async () => {
    const dir = workersWorkspace(source())
    const w1 = await startWorker(redis.url, dir, "w1")
    const run = startCoordinator(redis.url, dir)
    await waitForEvent(run, startedOn("slow", "w1"), "slow to start on w1")
    await waitFor(() => pidsIn(dir, "pids").length === 1, 30_000, "slow's pid")
    const [pid] = pidsIn(dir, "pids")
    await startWorker(redis.url, dir, "w2")
    w1.child.kill("SIGINT")
    expect((await w1.exited).code).toBe(130)
    expect(alive(pid!)).toBe(false)
    expect(w1.stderr()).toContain("slow of run")
    expect(w1.stderr()).toContain("returned to the queue")
    await waitForEvent(run, startedOn("slow", "w2"), "slow to run again on w2")
    const result = await run.exited
    expect(result.code, result.stderr).toBe(0)
  })

  it("a worker's Ctrl-C with Redis gone: it still stops, its step's process ended, instead of waiting for Redis forever", async () => {
    const own = await startRedis()
    try {
      const dir = workersWorkspace(source())
      const worker = await startWorker(own.url, dir, "w-alone")
      const run = startCoordinator(own.url, dir)
      await waitForEvent(run, startedOn("slow", "w-alone"), "slow to start")
      await waitFor(() => pidsIn(dir, "pids").length === 1, 30_000, "slow's pid")
      const [pid] = pidsIn(dir, "pids")
      await own.stop()
      worker.child.kill("SIGINT")
      // Bounded: 5 s for Redis to take the job back, then the worker goes anyway.
      const exited = await Promise.race([worker.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 30_000, undefined))])
      expect(exited, worker.stderr()).toBeDefined()
      expect(exited!.code).toBe(130)
      expect(worker.stderr()).toContain("did not answer within 5 s: stopping without it")
      await waitFor(() => !alive(pid!), teardownMs, `the step's command (pid ${pid}) to end`)
      // Its retries said the problem once, not at every attempt.
      expect(worker.stderr().split("\n").filter((line) => line.includes("Redis: connect ECONNREFUSED")).length).toBeLessThanOrEqual(1)
    } finally {
      await own.stop()
    }
  })

  it("Ctrl-C on the coordinator with Redis gone: it still exits, instead of waiting for Redis forever", async () => {
    const own = await startRedis()
    try {
      const dir = workersWorkspace(source())
      await startWorker(own.url, dir, "w-gone")
      const run = startCoordinator(own.url, dir)
      await waitForEvent(run, startedOn("slow", "w-gone"), "slow to start")
      await own.stop()
      run.child.kill("SIGINT")
      const exited = await Promise.race([run.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 30_000, undefined))])
      expect(exited, run.stderr()).toBeDefined()
      expect(exited!.code).toBe(130)
    } finally {
      await own.stop()
    }
  })

  it("Redis restarted mid-run, its data lost: coordinator and worker reconnect, and the run completes", async () => {
    const dir = workersWorkspace(`import { workflow, sh } from "weft"
export default workflow("restart")
  .step("slow", sh\`echo $$ >> pids; sleep 3; echo slept\`)
  .step("after", { needs: ["slow"] }, () => "done")
`)
    await startWorker(redis.url, dir, "w1")
    const run = startCoordinator(redis.url, dir)
    await waitForEvent(run, (e) => e.type === "step:start" && e.step === "slow", "slow to start")
    await redis.restart()
    const result = await run.exited
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
    expect(eventsSoFar(result.stdout).find((e) => e.type === "run:end")).toMatchObject({ status: "succeeded" })
  }, 90_000)

  it("the coordinator SIGKILLed mid-run: --resume awaits the job still running on its worker instead of running it again, and ends as a clean run", async () => {
    const dir = workersWorkspace(`import { workflow, sh } from "weft"
export default workflow("reattach")
  .step("first", sh\`echo $$ >> first-pids\`)
  .step("long", { needs: ["first"] }, sh\`echo $$ >> long-pids; while [ ! -e go ]; do sleep 0.05; done; echo finished\`)
  .step("last", { needs: ["long"] }, sh\`echo $$ >> last-pids\`)
`)
    await startWorker(redis.url, dir, "w1")
    const killed = startCoordinator(redis.url, dir)
    await waitForEvent(killed, (e) => e.type === "step:start" && e.step === "long", "long to start")
    await waitFor(() => pidsIn(dir, "long-pids").length === 1, 30_000, "long's pid")
    killed.child.kill("SIGKILL")
    await killed.exited
    const resumed = startCoordinator(redis.url, dir, ["--resume"])
    // The resumed run has taken up the dead one's job before it is let finish.
    await waitFor(() => resumed.stdout().includes('"run:start"'), 30_000, `the resumed run to start\n${resumed.stderr()}`)
    writeFileSync(path.join(dir, "go"), "")
    const result = await resumed.exited
    expect(result.code, result.stdout + result.stderr).toBe(0)
    // first ran once (the journal replays it), long once (awaited, not queued again), last once.
    expect([pidsIn(dir, "first-pids").length, pidsIn(dir, "long-pids").length, pidsIn(dir, "last-pids").length]).toEqual([1, 1, 1])
    const ends = eventsSoFar(result.stdout).filter((e) => e.type === "step:end").map((e) => [e.step, (e as EventOf<"step:end">).status])
    expect(ends).toEqual(expect.arrayContaining([["long", "succeeded"], ["last", "succeeded"]]))
  })
})
