/**
 * A process's arguments are public on the machine (`ps`, `/proc/<pid>/cmdline`)
 * while it runs; its environment is not. So a secret interpolated into a
 * command (`sh\`… ${ctx.env.TOKEN}\``, `cmd([… token])`) is visible to every
 * user while the command runs, and one the command reads from the step's
 * environment (`"$TOKEN"` in the script, declared in `permissions.env`) is
 * not, as long as the script does not expand it into another program's
 * arguments (`printf`, a shell builtin, piping it to the program's stdin).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest"
import { sh, shell } from "../../dsl/Command.ts"
import { secret } from "../../dsl/Permissions.ts"
import { workflow } from "../../dsl/Workflow.ts"
import { run } from "../Run.ts"

const token = "argv-7c1e-secret-value"
const dirs: Array<string> = []
beforeEach(() => {
  process.env.WEFT_ARGV_TOKEN = token
})
afterEach(() => {
  delete process.env.WEFT_ARGV_TOKEN
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/**
 * Shell text that writes, to `file`, the command line of every live process
 * of the step's process group (the script's shell leads it), one a line,
 * while the script runs.
 */
const groupCmdlines = (file: string) =>
  `for p in /proc/[0-9]*; do s=$(cat $p/stat 2>/dev/null) || continue; set -- \${s##*) }; ` +
  `[ "$3" = "$$" ] && tr '\\0' ' ' < $p/cmdline 2>/dev/null && echo; done > ${file}; :`

describe("a secret and the command line", () => {
  it("read from the step's environment, it reaches the command and never its argv or its children's", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "weft-argv-"))
    dirs.push(dir)
    // printf is a builtin: the value goes down the pipe, not into an argument.
    const script = `printf 'Bearer %s\\n' "$WEFT_ARGV_TOKEN" | { cat > seen.txt; ${groupCmdlines("cmdlines.txt")}; }`
    const result = await run(workflow("env", { permissions: { env: [secret("WEFT_ARGV_TOKEN")] } }).step("viaEnv", shell(script)), {
      cwd: dir,
      cache: { mode: "off" }
    })
    expect(result.status).toBe("succeeded")
    expect(readFileSync(path.join(dir, "seen.txt"), "utf8")).toBe(`Bearer ${token}\n`)
    const cmdlines = readFileSync(path.join(dir, "cmdlines.txt"), "utf8")
    // Not vacuous: the script's own shell was seen, with its script.
    expect(cmdlines).toMatch(/\/bin\/sh -c printf 'Bearer %s\\n' "\$WEFT_ARGV_TOKEN"/)
    expect(cmdlines).not.toContain(token)
  })

  it("interpolated into the command, it is in the command line, where any user of the machine can read it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "weft-argv-"))
    dirs.push(dir)
    const result = await run(
      workflow("argv", { permissions: { env: [secret("WEFT_ARGV_TOKEN")] } })
        .step("interpolated", (_, ctx) => sh`: ${ctx.env.WEFT_ARGV_TOKEN}; tr '\0' ' ' < /proc/$$/cmdline > cmdline.txt`),
      { cwd: dir, cache: { mode: "off" } }
    )
    expect(result.status).toBe("succeeded")
    expect(readFileSync(path.join(dir, "cmdline.txt"), "utf8")).toContain(token)
  })
})
