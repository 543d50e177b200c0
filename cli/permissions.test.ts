/**
 * `permissions.env` through the real `weft` command: a secret printed every
 * way a step can print never reaches the terminal or any file weft writes,
 * and `--allow-all` opens the environment and says so.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import { eventsOf, removeTempDirs, repoRoot, startWeft, tempDir, waitFor, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const dslIndex = path.join(repoRoot, "dsl/index.ts")
const value = "tok-7f3a9c-very-secret"
const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name)
    return statSync(file).isDirectory() ? filesUnder(file) : [file]
  })

const leaky = (dir: string) =>
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { secret, sh, workflow } from ${JSON.stringify(dslIndex)}`,
    `export default workflow("leaky", { permissions: { env: ["WEFT_C_PLAIN", secret("WEFT_C_TOKEN")] } })`,
    `  .step("fn", async (_, ctx) => {`,
    `    const token = ctx.env.WEFT_C_TOKEN`,
    `    console.log("console", token)`,
    `    ctx.log("ctx.log", token)`,
    `    ctx.emit("part " + token)`,
    `    return "fine"`,
    `  })`,
    `  .step("cmd", sh\`echo "stdout $WEFT_C_TOKEN"; echo "stderr $WEFT_C_TOKEN" >&2\`)`,
    `  .step("throws", (_, ctx) => { throw new Error("refused " + ctx.env.WEFT_C_TOKEN) })`,
    `  .step("undeclared", sh\`echo "[$WEFT_C_OTHER-$WEFT_C_PLAIN]"\`)`,
    ""
  ].join("\n"))

const env = { WEFT_C_TOKEN: value, WEFT_C_PLAIN: "plain", WEFT_C_OTHER: "other" }

describe.concurrent("weft run and permissions", () => {
  it("a secret never reaches the terminal, the events, the log files, the trace, the history or the report: *** does", async ({ expect }) => {
    const dir = tempDir("weft-perm-")
    leaky(dir)
    const r = await weft(["run", "--continue", "--reporter", "json", "--trace", "trace.json"], { cwd: dir, env })
    expect(r.code, shown(r)).toBe(1)
    const events = eventsOf(r.stdout)
    expect(events.find((e) => e.type === "step:end" && e.step === "throws")).toMatchObject({ status: "failed", error: "refused ***" })
    expect(r.stdout).toContain("console ***")
    expect(r.stdout).toContain("ctx.log ***")
    expect(r.stdout).toContain("part ***")
    expect(r.stdout).toContain("stdout ***")
    expect(r.stdout).toContain("stderr ***")
    // Only the declared names reach a command: WEFT_C_OTHER is set, but not declared.
    expect(r.stdout).toContain("[-plain]")
    const report = await weft(["report"], { cwd: dir, env })
    const history = await weft(["history", "--json"], { cwd: dir, env })
    const plain = await weft(["run", "--continue", "--reporter", "plain", "--no-cache"], { cwd: dir, env })
    expect(plain.stdout).toContain("refused ***")
    const files = filesUnder(path.join(dir, ".weft"))
    expect(files.some((file) => file.includes(`${path.sep}logs${path.sep}`))).toBe(true)
    expect(files.some((file) => file.includes(`${path.sep}history${path.sep}`))).toBe(true)
    const written = [path.join(dir, "trace.json"), ...files].map((file) => [file, readFileSync(file, "utf8")] as const)
    expect(written.filter(([, text]) => text.includes("***")).length).toBeGreaterThan(2)
    for (const [file, text] of written) expect(text.includes(value), file).toBe(false)
    for (const out of [r, report, history, plain]) {
      expect(out.stdout + out.stderr, shown(out)).not.toContain(value)
    }
  })

  it("--allow-all: the whole environment, no refusal, and the run says permissions are off", async ({ expect }) => {
    const dir = tempDir("weft-perm-")
    leaky(dir)
    const r = await weft(["run", "weft.ts", "undeclared", "--reporter", "plain", "--allow-all"], { cwd: dir, env })
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toContain("weft: warning: permissions are off (--allow-all)")
    expect(r.stdout).toMatch(/^weft ▸ .*, permissions off \(--allow-all\)$/m)
    expect(r.stdout).toContain("[other-plain]")
    const strict = await weft(["run", "weft.ts", "undeclared", "--reporter", "plain"], { cwd: dir, env })
    expect(strict.stdout).toContain("[-plain]")
    expect(strict.stdout).not.toContain("permissions are off")
    expect(strict.stdout).not.toContain("permissions off")
  })

  it("weft watch --allow-all: the same, for every run", async ({ expect }) => {
    const dir = tempDir("weft-perm-")
    leaky(dir)
    const w = startWeft(["watch", "weft.ts", "undeclared", "--reporter", "plain", "--allow-all"], { cwd: dir, env })
    try {
      await waitFor(() => w.stdout().includes("[other-plain]"), 10_000, "the first run")
    } finally {
      w.child.kill("SIGINT")
    }
    await w.exited
    expect(w.stdout()).toContain("weft: warning: permissions are off (--allow-all)")
  })
})
