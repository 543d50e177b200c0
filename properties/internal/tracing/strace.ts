/**
 * Running a command under Debian's `strace`, and whether it can run here: it
 * needs the program and the right to trace (ptrace), which containers and
 * hardened kernels (`kernel.yama.ptrace_scope=3`) may refuse.
 */
import { spawnSync } from "node:child_process"
import type { Command } from "../../../dsl/Command.ts"
import { straceCalls } from "./straceLog.ts"

/** The strace program: `WEFT_STRACE` when set (a path to a strace, or a nonexistent one to force "unavailable"), else `strace` on PATH. */
export const straceProgram = (): string => process.env.WEFT_STRACE || "strace"

const probed = new Map<string, string | undefined>()

/**
 * Why strace cannot trace commands here, or undefined when it can: one
 * traced `true` per program, with the very options a step gets, remembered
 * for the life of the process.
 */
export const straceProblem = (program: string = straceProgram()): string | undefined => {
  if (!probed.has(program)) {
    const result = spawnSync(program, [...straceOptions("/dev/null"), "true"], { encoding: "utf8", timeout: 10_000 })
    probed.set(
      program,
      result.error !== undefined
        ? `${program} could not be started (${(result.error as NodeJS.ErrnoException).code ?? result.error.message})`
        : result.status !== 0
        ? `${program} could not trace a process here (${result.stderr.trim().split("\n")[0] || `exit code ${result.status}`})`
        : undefined
    )
  }
  return probed.get(program)
}

/** Follow children, quiet, decode fds to paths, successful calls only, no signals. */
const straceOptions = (log: string): Array<string> => ["-f", "-qq", "-y", "-z", "-e", "signal=none", "-e", `trace=${straceCalls}`, "-o", log]

/** `command` run under strace, its log written to `log`; everything else (cwd, env, display) as it was. */
export const traced = (command: Command, log: string, program: string = straceProgram()): Command => ({
  ...command,
  argv: [program, ...straceOptions(log), "--", ...command.argv]
})
