/**
 * `verify(wf, { faults: true })`: a healthy workflow keeps every promise
 * under every fault; each planted violation (a leaking executor, one that
 * swallows failures, a step that counts its runs outside its outputs, an
 * optional step's dependent that cannot do without it, a command that
 * survives SIGTERM) is found, with the right fault, step and promise.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { useFolders } from "../test/fixtures/folders.ts"
import { cmd, isCommand } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import type { Executor } from "../runtime/Executor.ts"
import { localExecutor } from "../runtime/executors/local.ts"
import { verify, type FaultFinding, type Finding } from "./index.ts"

const folder = useFolders("weft-faults-test-")

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const faultsOf = (findings: ReadonlyArray<Finding>) => findings.filter((f): f is FaultFinding => f.kind === "fault")
// Few schedules: these tests are about the fault runs, which come after them.
const withFaults = (cwd: string, executor?: Executor) => ({ cwd, runs: 1, faults: true, seed: 1, executor })

describe("verify with faults", () => {
  it("finds nothing in a workflow with an optional step, a retried step, a command step and a finalizer", async () => {
    let runs = 0
    const wf = workflow("healthy")
      .step("fetch", { optional: true }, () => "data")
      .step("use", { needs: ["fetch"] }, ({ fetch }) => (fetch ?? "fallback").length)
      .step("flaky", { retry: { times: 2, delay: 0 } }, () => 1)
      .step("build", { cache: true }, cmd(["sleep", "0.2"]))
      .step("serve", { after: ["build"] }, () =>
        Effect.acquireRelease(Effect.succeed("server"), () => Effect.sync(() => void 0)).pipe(Effect.scoped))
    const findings = await verify(wf, { ...withFaults(folder()), onProgress: (p) => void (runs = p.runs) })
    expect(findings).toEqual([])
    // The traced run, the plain run, one schedule, one without faults (what it leaves running), then 5 throws, 1 SIGTERM, 5 timeouts and 3 interrupts each resumed.
    expect(runs).toBe(4 + 5 + 1 + 5 + 3 * 2)
  })

  it("an optional step's dependent that cannot do without it", async () => {
    const wf = workflow("optional")
      .step("fetch", { optional: true }, () => "data")
      .step("use", { needs: ["fetch"] }, ({ fetch }) => fetch!.length)
    const findings = faultsOf(await verify(wf, withFaults(folder())))
    expect(findings).toContainEqual(expect.objectContaining({ fault: "throw", step: "fetch", promise: "an optional step's failure does not fail the run" }))
    const finding = findings.find((f) => f.fault === "throw")!
    expect(finding.message).toContain(`step "use" failed too`)
    expect(finding.fix).toContain(`step "use" receives undefined for "fetch"`)
  })

  it("an executor that swallows failures: the failed step ends succeeded, and is cached", async () => {
    const forgiving: Executor = { name: "forgiving", run: (step) => localExecutor.run(step).pipe(Effect.catch(() => Effect.succeed("fallback"))) }
    const wf = workflow("forgiven").step("compute", { cache: true }, () => 42)
    const findings = faultsOf(await verify(wf, withFaults(folder(), forgiving))).filter((f) => f.fault === "throw")
    expect(findings.map((f) => [f.step, f.promise])).toEqual([
      ["compute", "a step whose body fails ends failed"],
      ["compute", "nothing is cached from a failed step"]
    ])
    expect(findings[0]!.fix).toContain(`your executor "forgiving"`)
  })

  it("an executor that leaves a command running when its step times out", async () => {
    // Runs commands itself, and lets an interruption go without ending them.
    const leaky: Executor = {
      name: "leaky",
      run: (step) => {
        const command = step.def.run
        if (!isCommand(command)) return localExecutor.run(step)
        return Effect.callback<unknown, Error>((resume) => {
          const child = spawn(command.argv[0]!, command.argv.slice(1), { cwd: step.cwd, detached: true, stdio: "ignore" })
          child.on("exit", (code) => resume(code === 0 ? Effect.succeed("done") : Effect.fail(new Error(`exit ${code}`))))
        })
      }
    }
    const wf = workflow("leaky").step("build", cmd(["sleep", "0.1"]))
    const findings = faultsOf(await verify(wf, withFaults(folder(), leaky)))
    expect(findings.map((f) => [f.fault, f.step, f.promise])).toEqual([["timeout", "build", "no process is left behind"]])
    expect(findings[0]!.message).toContain("sleep 3600")
    expect(findings[0]!.fix).toContain(`your executor "leaky"`)
  })

  it("a step whose result differs after an interruption and a resume: it counts its runs outside its outputs", async () => {
    const wf = workflow("counting")
      .step("quick", () => 1)
      .step("count", async () => {
        const runs = Number(fs.existsSync("count.txt") ? fs.readFileSync("count.txt", "utf8") : "0") + 1
        fs.writeFileSync("count.txt", String(runs))
        await sleep(300)
        return runs
      })
    const findings = faultsOf(await verify(wf, withFaults(folder())))
    expect(findings.map((f) => [f.fault, f.promise])).toEqual([["interrupt", "a resumed run's results equal a clean run's"]])
    expect(findings[0]!.message).toContain(`step "count" gave a different result`)
    expect(findings[0]!.message).toContain("interrupted midway")
    expect(findings[0]!.fix).toContain("at least once")
  })

  it("a command that exits 0 on SIGTERM, and one whose helper outlives it when it is killed", async () => {
    // "helper" ends its background process itself when all goes well: only a SIGTERM leaves it.
    const wf = workflow("commands")
      .step("graceful", cmd(["sh", "-c", "trap 'exit 0' TERM; sleep 0.5 & wait"]))
      .step("helper", cmd(["sh", "-c", "sleep 30 >/dev/null 2>&1 & child=$!; sleep 0.5; kill $child"]))
    const findings = faultsOf(await verify(wf, withFaults(folder()))).filter((f) => f.fault === "sigterm")
    expect(findings.map((f) => [f.step, f.promise])).toEqual([
      ["graceful", "a command killed by SIGTERM fails its step"],
      ["helper", "no process is left behind"]
    ])
    expect(findings[0]!.fix).toContain("trap 'exit 143' TERM")
    expect(findings[1]!.message).toContain("sleep 30")
  })

  it("says so when a command ends too soon to be sent SIGTERM, rather than counting its promise as checked", async () => {
    const warnings: Array<string> = []
    const wf = workflow("quick").step("quick", cmd(["true"]))
    expect(faultsOf(await verify(wf, { ...withFaults(folder()), onWarning: (text) => void warnings.push(text) }))).toEqual([])
    expect(warnings).toEqual([expect.stringMatching(/^faults: step "quick" was not sent SIGTERM: its command ended before it could be signalled/)])
  })
})
