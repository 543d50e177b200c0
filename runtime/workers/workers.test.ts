/**
 * A run with workers, end to end: a real redis-server, real `weft worker`
 * processes and a real `weft run --workers`. Values cross as they left (a
 * Map), reports come back as the run's own events with the worker's name,
 * `runsOn: "local"` stays in the coordinator, a worker's secrets are masked
 * before they leave it, and a worker refuses a job whose workflow differs from
 * its checkout or lies outside its project.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { EventOf } from "../Event.ts"
import { alive, stackFrames, waitFor, weft } from "../../test/fixtures/cli/harness.ts"
import { eventsSoFar, pidsIn, startCoordinator, startWorker, stopWorkerNamed, workersWorkspace, useRedis } from "../../test/fixtures/workers.ts"
import { moduleGraphDigest } from "../cache/moduleGraph.ts"
import { connect } from "./internal/redis.ts"
import { encodeValue, jobIdOf, prefix, queueName, type StepJob } from "./StepJob.ts"

const redis = useRedis()

const source = `import { workflow, sh, secret } from "weft"
export default workflow("remote", { permissions: { env: [secret("WORKER_TOKEN")] } })
  .step("a", () => 20)
  .step("b", { needs: ["a"] }, ({ a }) => new Map([["x", a + 1]]))
  .step("shout", sh\`echo token=$WORKER_TOKEN\`)
  .step("c", { needs: ["b"], after: ["shout"], runsOn: "local" }, ({ b }) => b.get("x") * 2)
`

const starts = (events: ReturnType<typeof eventsSoFar>) =>
  Object.fromEntries(events.flatMap((e) => (e.type === "step:start" ? [[e.step, (e as EventOf<"step:start">).worker ?? "coordinator"]] : [])))

describe("weft run --workers", () => {
  it("runs steps on workers, values and reports intact, pinned steps at home, secrets masked on the worker", async () => {
    const dir = workersWorkspace(source)
    await startWorker(redis.url, dir, "w1", { WORKER_TOKEN: "hunter2-the-secret" })
    const run = startCoordinator(redis.url, dir, ["--output", "c"])
    const result = await run.exited
    expect(result.code, result.stderr).toBe(0)
    // The Map crossed twice (to the worker's step b, back to c here) and arrived as a Map.
    expect(result.stdout.trim()).toBe("42")
    const events = eventsSoFar(result.stderr)
    expect(starts(events)).toEqual({ a: "w1", b: "w1", shout: "w1", c: "coordinator" })
    const logs = events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))
    expect(logs).toContain("token=***")
    expect(result.stderr + result.stdout).not.toContain("hunter2")
  })

  it("tells every step's start (on its worker) before its logs and its end, however fast the step", async () => {
    // A chain of steps that end at once: their end (BullMQ's completion) once overtook their start (a report).
    const dir = workersWorkspace(`import { workflow } from "weft"
let wf: any = workflow("chain").step("s0", () => { console.log("s0 ran"); return 0 })
for (let i = 1; i < 80; i++) wf = wf.step(\`s\${i}\`, { needs: [\`s\${i - 1}\`] }, (inputs: any) => { console.log(\`s\${i} ran\`); return inputs[\`s\${i - 1}\`] + 1 })
export default wf
`)
    await startWorker(redis.url, dir, "fast")
    const result = await startCoordinator(redis.url, dir, ["--output", "s79"]).exited
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trim()).toBe("79")
    const seen = eventsSoFar(result.stderr).flatMap((e) =>
      e.type === "step:start" ? [`${e.step} start ${(e as EventOf<"step:start">).worker}`] : e.type === "step:log" ? [`${e.step} log`] : e.type === "step:end" ? [`${e.step} end`] : []
    )
    expect(seen).toEqual(Array.from({ length: 80 }, (_, i) => [`s${i} start fast`, `s${i} log`, `s${i} end`]).flat())
  })

  it("timeouts and retries stay the coordinator's: a timed-out attempt's process ends on its worker, and the retry is a new job", async () => {
    const dir = workersWorkspace(`import { workflow, sh } from "weft"
export default workflow("stages")
  .step("hang", { timeout: "1 second" }, sh\`echo $$ >> pids; exec sleep 60\`)
  .step("flaky", { retry: { times: 1, delay: 10 } }, sh\`if [ -e tried ]; then echo second; else touch tried; exit 3; fi\`)
`)
    await startWorker(redis.url, dir, "w1", {})
    await startWorker(redis.url, dir, "w2", {})
    // Without fail-fast: hang's timeout must not cancel flaky's retry, however slow the machine.
    const result = await startCoordinator(redis.url, dir, ["--continue"]).exited
    expect(result.code, result.stderr).toBe(1)
    const ends = Object.fromEntries(eventsSoFar(result.stdout).flatMap((e) => (e.type === "step:end" ? [[e.step, `${e.status} after ${e.attempts}`]] : [])))
    expect(ends).toEqual({ hang: "failed after 1", flaky: "succeeded after 2" })
    const [pid] = pidsIn(dir, "pids")
    await waitFor(() => !alive(pid!), 15_000, `the timed-out command (pid ${pid}) to end on its worker`)
  })

  it("refuses a job whose workflow differs from the worker's checkout, naming both digests", async () => {
    const dir = workersWorkspace(source)
    const other = path.join(dir, "..", `${path.basename(dir)}-other`)
    cpSync(dir, other, { recursive: true, verbatimSymlinks: true })
    writeFileSync(path.join(other, "weft.ts"), source.replace("() => 20", "() => 21"))
    await startWorker(redis.url, other, "stale")
    const result = await startCoordinator(redis.url, dir).exited
    expect(result.code, result.stderr).toBe(1)
    const ended = eventsSoFar(result.stdout).find((e): e is EventOf<"step:end"> => e.type === "step:end" && e.step === "a")
    expect(ended?.status).toBe("failed")
    expect(ended?.error).toMatch(/weft\.ts on worker stale differs from the coordinator's \(definition digest [0-9a-f]{12} here, [0-9a-f]{12} there\)/)
  })

  it("a bad or unreachable Redis URL is one clear line (exit 2), from the coordinator and from a worker", async () => {
    const dir = workersWorkspace(source)
    for (const args of [["run", "weft.ts", "--workers", "redis://127.0.0.1:1"], ["worker", "redis://127.0.0.1:1"], ["run", "weft.ts", "--workers", "localhost:6379"]]) {
      const result = await weft(args, { cwd: dir })
      expect(result.code, result.stderr).toBe(2)
      expect(result.stderr).toMatch(/weft: (weft cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED|--workers needs a Redis URL, like redis:\/\/localhost:6379)/)
      expect(stackFrames(result.stderr)).toEqual([])
    }
  })

  it("carries declared output files between machines: a worker's to the coordinator (and its cache), the coordinator's to a worker", async () => {
    const outputs = `import { workflow, sh } from "weft"
export default workflow("outputs", { permissions: { env: ["WHERE"] } })
  .step("gen", { cache: { outputs: ["dist/**"] } }, sh\`mkdir -p dist/sub && printf 'made on %s' "$WHERE" > dist/sub/out.txt\`)
  .step("home", { needs: ["gen"], runsOn: "local", cache: { outputs: ["home/**"] } }, sh\`mkdir -p home && cat dist/sub/out.txt > home/copy.txt\`)
  .step("away", { needs: ["home"] }, sh\`cat home/copy.txt dist/sub/out.txt\`)
`
    // Two machines: each its own folder with the same checkout.
    const home = workersWorkspace(outputs)
    const away = workersWorkspace(outputs)
    await startWorker(redis.url, away, "w-away", { WHERE: "away" })
    const run = startCoordinator(redis.url, home, [], { WHERE: "home" })
    const { code } = await run.exited
    expect(code, run.stdout() + run.stderr()).toBe(0)
    // Nothing of the run left open (a timer for a job whose end came first was).
    expect(run.stderr()).toBe("")
    const events = eventsSoFar(run.stdout())
    expect(starts(events)).toEqual({ gen: "w-away", home: "coordinator", away: "w-away" })
    // The worker's file reached the coordinator, where the local step read it…
    expect(readFileSync(path.join(home, "home/copy.txt"), "utf8")).toBe(readFileSync(path.join(away, "dist/sub/out.txt"), "utf8"))
    // …and the coordinator's file reached the worker, where the last step read both.
    expect(events.filter((e) => e.type === "step:log" && e.step === "away").map((e) => (e as EventOf<"step:log">).text).join("")).toBe(`${readFileSync(path.join(away, "dist/sub/out.txt"), "utf8")}${readFileSync(path.join(away, "dist/sub/out.txt"), "utf8")}`)
    // The coordinator's cache recorded gen with its files: a rerun here, with no worker, restores them.
    rmSync(path.join(home, "dist"), { recursive: true, force: true })
    const again = await weft(["run", "weft.ts", "--reporter", "json"], { cwd: home, env: { WHERE: "home" } })
    expect(again.code, again.stderr).toBe(0)
    expect(eventsSoFar(again.stdout).filter((e) => e.type === "step:end").map((e) => [e.step, (e as EventOf<"step:end">).status])).toContainEqual(["gen", "cached"])
    expect(existsSync(path.join(home, "dist/sub/out.txt"))).toBe(true)
  })

  it("refuses a job naming a file outside the worker's project, and one of an --allow-all run unless the worker allows it too", async () => {
    const dir = workersWorkspace(source)
    await startWorker(redis.url, dir, "w-outside")
    const { Queue, QueueEvents } = await import("bullmq")
    const connections = [connect(redis.url, "test-queue"), connect(redis.url, "test-events")]
    const queue = new Queue<StepJob>(queueName, { prefix, connection: connections[0] as never })
    const events = new QueueEvents(queueName, { prefix, connection: connections[1] as never })
    try {
      await events.waitUntilReady()
      const job = (run: string, data: Partial<StepJob>) =>
        queue.add("a", { run, file: "weft.ts", digest: moduleGraphDigest(path.join(dir, "weft.ts")), step: "a", attempt: 1, inputs: encodeValue({}, "a", "inputs"), allowAll: false, ...data }, { jobId: jobIdOf(run, "a", 1) })
      const outside = await job("outside-run", { file: "../elsewhere/weft.ts", digest: "0" })
      await expect(outside.waitUntilFinished(events, 30_000)).rejects.toThrow(/names \.\.\/elsewhere\/weft\.ts, which is outside this worker's project/)
      // Whoever can write to Redis must not lift a worker's permissions.
      const everything = await job("allow-all-run", { allowAll: true })
      await expect(everything.waitUntilFinished(events, 30_000)).rejects.toThrow(/comes from a run started with --allow-all, and worker w-outside was not: start the worker with weft worker --allow-all/)
      // The same job, allowed, runs.
      await startWorker(redis.url, dir, "w-allows", {}, ["--allow-all"])
      await stopWorkerNamed("w-outside")
      const allowed = await job("allow-all-run-2", { allowAll: true })
      await expect(allowed.waitUntilFinished(events, 30_000)).resolves.toBeTypeOf("string")
    } finally {
      await Promise.all([queue.close(), events.close()])
      for (const connection of connections) connection.disconnect()
    }
  })
})
