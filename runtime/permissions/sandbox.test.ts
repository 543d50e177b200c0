/**
 * `permissions: { sandbox: true }`: commands under bubblewrap. The real
 * sandbox is tested where the probe says bwrap works here; elsewhere the same
 * tests assert the refusal instead, so every test runs on every machine.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { cmd } from "../../dsl/Command.ts"
import type { Permissions } from "../../dsl/Permissions.ts"
import { workflow, type Workflow } from "../../dsl/Workflow.ts"
import { groupAlive } from "../Process.ts"
import type { Event } from "../Event.ts"
import { run, type RunOptions } from "../Run.ts"
import { permissionsProblems } from "../../dsl/permissionsOptions.ts"
import { bwrapWorks, literalBase, sandboxPolicyOf, setBwrapWorks } from "./sandbox.ts"

const dirs: Array<string> = []
const makeDir = () => {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "weft-sandbox-")))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})
// `WEFT_BWRAP=/nonexistent npm test` runs this file as a machine without bwrap would.
const bwrapSetting = process.env.WEFT_BWRAP
afterEach(() => {
  setBwrapWorks(undefined)
  if (bwrapSetting === undefined) delete process.env.WEFT_BWRAP
  else process.env.WEFT_BWRAP = bwrapSetting
})

const runIn = (cwd: string, wf: Workflow<any>, options: RunOptions = {}) =>
  run(wf, { cache: { mode: "off" }, failFast: false, cwd, ...options })

const sandboxedStep = (permissions: Permissions, script: string) =>
  workflow("sandboxed").step("s", { permissions: { sandbox: true, ...permissions } as Permissions }, cmd(["sh", "-c", script]))

const refusal = `step "s" asks for sandbox: true, but bubblewrap (bwrap) is not available here: install the bubblewrap package, or remove sandbox: true; weft never runs a sandboxed step unsandboxed`

/** Without bwrap every sandboxed step must fail with the refusal; with it, `check` runs. */
const expectRefusedOr = async (result: Awaited<ReturnType<typeof runIn>>, check: () => void) => {
  if (bwrapWorks()) return check()
  expect(result.steps.s).toMatchObject({ status: "failed" })
  expect(result.steps.s!.error).toContain(refusal)
}

describe("without bubblewrap", () => {
  it("refuses a sandboxed step with a message naming the step and the fix, and runs nothing", async () => {
    setBwrapWorks(false)
    const dir = makeDir()
    const result = await runIn(dir, sandboxedStep({}, "touch ran"))
    expect(result.steps.s).toMatchObject({ status: "failed" })
    expect(result.steps.s!.error).toContain(refusal)
    expect(existsSync(path.join(dir, "ran"))).toBe(false)
  })

  it("WEFT_BWRAP pointing nowhere makes the real probe answer unavailable; --allow-all does not lift the refusal", async () => {
    process.env.WEFT_BWRAP = "/nonexistent/bwrap"
    expect(bwrapWorks()).toBe(false)
    const dir = makeDir()
    const result = await runIn(dir, sandboxedStep({}, "touch ran"), { allowAll: true })
    expect(result.steps.s!.error).toContain(refusal)
    expect(existsSync(path.join(dir, "ran"))).toBe(false)
  })

  it("says so once, before the first step, naming the sandboxed steps", async () => {
    setBwrapWorks(false)
    const events: Array<Event> = []
    const wf = workflow("three")
      .step("a", { permissions: { sandbox: true } }, cmd(["true"]))
      .step("b", { permissions: { sandbox: true } }, cmd(["true"]))
      .step("plain", cmd(["true"]))
    const result = await runIn(makeDir(), wf, { onEvent: (e) => events.push(e) })
    expect(result.steps.a!.error).toContain(`step "a" asks for sandbox: true`)
    expect(result.steps.plain!.status).toBe("succeeded")
    const warnings = events.flatMap((e) => (e.type === "run:warning" ? [e.message] : []))
    expect(warnings).toEqual([
      `bubblewrap (bwrap) is not available here, so the 2 sandboxed steps ("a", "b") will be refused, not run unsandboxed: install the bubblewrap package (Debian/Ubuntu: apt install bubblewrap)`
    ])
    expect(events.findIndex((e) => e.type === "run:warning")).toBeLessThan(events.findIndex((e) => e.type === "step:start"))
  })

  it("says nothing when bwrap works, or when no step is sandboxed", async () => {
    for (const [works, wf] of [[true, workflow("none").step("s", cmd(["true"]))], [false, workflow("none").step("s", cmd(["true"]))]] as const) {
      setBwrapWorks(works)
      const events: Array<Event> = []
      await runIn(makeDir(), wf, { onEvent: (e) => events.push(e) })
      expect(events.some((e) => e.type === "run:warning")).toBe(false)
    }
  })

  it("leaves unsandboxed steps alone", async () => {
    setBwrapWorks(false)
    const dir = makeDir()
    const result = await runIn(dir, workflow("plain").step("s", cmd(["sh", "-c", "touch ran"])))
    expect(result.steps.s).toMatchObject({ status: "succeeded" })
    expect(existsSync(path.join(dir, "ran"))).toBe(true)
  })
})

describe("with bubblewrap (or its refusal where it does not work here)", () => {
  it("writes only inside the declared write folders (created when missing); reads work everywhere", async () => {
    const dir = makeDir()
    writeFileSync(path.join(dir, "input.txt"), "hello from outside\n")
    const wf = workflow("io")
      .step("s", { permissions: { sandbox: true, write: ["out/**/*.txt"] } as Permissions }, cmd(["sh", "-c", "cat input.txt > out/copy.txt"]))
      .step("outside", { permissions: { sandbox: true, write: ["out/**"] } as Permissions }, cmd(["sh", "-c", "echo no > escaped.txt"]))
    const result = await runIn(dir, wf)
    await expectRefusedOr(result, () => {
      expect(result.steps.s).toMatchObject({ status: "succeeded" })
      expect(readFileSync(path.join(dir, "out", "copy.txt"), "utf8")).toBe("hello from outside\n")
      expect(result.steps.outside).toMatchObject({ status: "failed" })
      expect(result.steps.outside!.error).toContain("Read-only file system")
      expect(existsSync(path.join(dir, "escaped.txt"))).toBe(false)
    })
  })

  it("has a private /tmp: a file written there does not appear on the machine", async () => {
    const dir = makeDir()
    const marker = `/tmp/${path.basename(dir)}-private`
    const result = await runIn(dir, sandboxedStep({}, `echo x > ${marker} && cat ${marker}`))
    await expectRefusedOr(result, () => {
      expect(result.steps.s).toMatchObject({ status: "succeeded" })
      expect(existsSync(marker)).toBe(false)
    })
  })

  it("has no network but loopback unless net: true", async () => {
    const dir = makeDir()
    const interfaces = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '"
    const off = await runIn(dir, sandboxedStep({}, interfaces))
    await expectRefusedOr(off, () => {
      expect(off.outputs.s).toMatchObject({ stdout: "lo " })
    })
    const on = await runIn(dir, sandboxedStep({ net: true }, interfaces))
    const hostInterfaces = readFileSync("/proc/net/dev", "utf8").split("\n").slice(2).filter((l) => l.includes(":")).length
    await expectRefusedOr(on, () => {
      // With the network kept the sandbox sees the machine's interfaces.
      expect((on.outputs.s as { stdout: string }).stdout.trim().split(" ").length).toBe(hostInterfaces)
    })
  })

  it("cannot connect to a server on this machine's loopback unless net: true", async () => {
    // The probe hangs up as soon as it connects: a reset is not the test's error.
    const server = createServer((socket) => socket.on("error", () => {}).end())
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const port = (server.address() as { port: number }).port
      // bash's /dev/tcp, not node: the sandbox's /tmp is its own, and the node
      // running the tests may live under /tmp (a CI checkout there).
      const probe = `if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo connected; else echo unreachable; fi`
      const step = (permissions: Permissions) => workflow("net").step("s", { permissions: { sandbox: true, ...permissions } as Permissions }, cmd(["bash", "-c", probe]))
      const off = await runIn(makeDir(), step({}))
      await expectRefusedOr(off, () => {
        expect(off.steps.s, off.steps.s?.error).toMatchObject({ status: "succeeded" })
        expect((off.outputs.s as { stdout: string }).stdout.trim()).toBe("unreachable")
      })
      const on = await runIn(makeDir(), step({ net: true }))
      await expectRefusedOr(on, () => {
        expect((on.outputs.s as { stdout: string }).stdout.trim()).toBe("connected")
      })
    } finally {
      server.close()
    }
  })

  it("a timeout tears down the sandbox: bwrap and the program inside are gone, no orphan", async () => {
    const dir = makeDir()
    // A sleep length nothing else on the machine uses: it names every process of the step.
    const marker = `60.${String(process.pid).padStart(7, "0")}${Date.now() % 1000}`
    // The shell ignores SIGTERM (and so does sleep, inheriting it): only the group SIGKILL after the grace ends them.
    const script = `trap '' TERM; touch out/ready; sleep ${marker}; echo survived`
    const seen = new Map<number, string>()
    const scan = setInterval(() => {
      for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue
        try {
          if (!readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) continue
          const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
          seen.set(Number(entry), stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]!)
        } catch {}
      }
    }, 20)
    const started = Date.now()
    const result = await runIn(dir, workflow("hang").step("s", { timeout: "1 second", permissions: { sandbox: true, write: ["out"] } as Permissions }, cmd(["sh", "-c", script])))
    clearInterval(scan)
    await expectRefusedOr(result, () => {
      expect(result.steps.s).toMatchObject({ status: "failed" })
      expect(Date.now() - started).toBeLessThan(20_000)
      expect(existsSync(path.join(dir, "out", "ready"))).toBe(true)
      // bwrap (argv holds the marker) and the sleep inside all ran in one group: the command's.
      expect(seen.size).toBeGreaterThanOrEqual(3)
      const groups = new Set(seen.values())
      expect(groups.size).toBe(1)
      for (const pid of seen.keys()) expect(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)).toBe(false)
      expect(groupAlive(Number([...groups][0]))).toBe(false)
    })
  }, 30_000)
})

describe("sandbox options", () => {
  it("checks sandbox and net, and reads write globs down to their literal folders", () => {
    expect(permissionsProblems({ sandbox: true, net: true })).toEqual([])
    expect(permissionsProblems({ sandbox: "yes" })).toEqual([`permissions.sandbox must be true or false, not "yes"`])
    expect(permissionsProblems({ net: true })[0]).toContain("permissions.net only applies to sandboxed commands")
    expect(literalBase("dist/**")).toBe("dist")
    expect(literalBase("out/a/*.txt")).toBe("out/a")
    expect(literalBase("build")).toBe("build")
    expect(literalBase("**/x")).toBe(".")
    expect(literalBase("src/!(gen)/*.ts")).toBe("src")
    expect(sandboxPolicyOf({ env: [] })).toBeUndefined()
    expect(sandboxPolicyOf({ sandbox: true, write: ["a", 3] })).toEqual({ write: ["a"], net: false })
  })
})
