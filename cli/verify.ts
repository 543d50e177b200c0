/**
 * `weft verify`: loads the workflow as `weft run` does (definition errors
 * and unknown steps exit 2), runs `verify()` on it with progress shown the
 * chosen way, prints the findings, and maps them to an exit code: 0 none,
 * 1 some, 130 interrupted (after the findings made so far).
 *
 * stdout carries the report: with `--reporter json` one finding per line and
 * nothing else (a tool reads it as NDJSON; progress is not shown), with
 * plain the readable report (progress lines go to stderr, so that
 * `weft verify > report.txt` keeps the report alone), with tui a live view
 * and then the same readable report below it.
 */
import * as path from "node:path"
import type { Finding, VerifyProgress } from "../properties/index.ts"
import * as Plan from "../runtime/Plan.ts"
import { load, type Io } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { reporterName } from "./reporterName.ts"
import { makeInterruption, signalExitCode } from "./interruption.ts"
import { verifySpec } from "./specs.ts"
import { plainProgress } from "./verifyProgress.ts"
import { renderFinding, summaryLine, type VerifyInvocation } from "./verifyReport.ts"

/** Where the search's progress goes, and what happens at its end. */
interface ProgressView {
  readonly onProgress: (progress: VerifyProgress) => void
  readonly finish: (interrupted: boolean) => Promise<void>
}

export const verifyCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(verifySpec, args)
  const reporter = reporterName(values.reporter, io)
  const [file = "weft.ts", ...only] = positionals
  const loaded = await load(file, io, "verify")
  // The run's own checks, with the file in their messages: an unknown step is a definition problem (exit 2).
  const plan = Plan.make(loaded.workflow, { file: loaded.file, only })
  const seed = values.seed ?? Math.floor(Math.random() * 0x7fffffff)
  const total = values.runs ?? 50
  const invocation: VerifyInvocation = { file, only, runs: values.runs, concurrency: values.concurrency, noTrace: values["no-trace"], faults: values.faults }

  const interruption = makeInterruption(io, "stopping the search")
  const progress = await progressView(reporter, io, loaded.workflow.name, total)
  let last: VerifyProgress = { runs: 0, schedules: 0, schedulesTotal: total, findings: 0, etaMs: 0 }
  const begun = performance.now()
  const stopListening = interruption.listen()
  let findings: Array<Finding>
  // Said once the progress view is gone: what could not be checked, and why.
  const warnings: Array<string> = []
  try {
    const { verify } = await import("../properties/index.ts")
    findings = await verify(loaded.workflow, {
      runs: total,
      seed,
      concurrency: values.concurrency,
      cwd: path.dirname(path.resolve(io.cwd, file)),
      only: only.length === 0 ? undefined : only,
      faults: values.faults,
      trace: !values["no-trace"],
      signal: interruption.signal,
      onWarning: (text) => void warnings.push(text),
      onProgress: (p) => {
        last = p
        progress.onProgress(p)
      }
    })
  } finally {
    stopListening()
    await progress.finish(interruption.by() !== undefined)
    for (const text of warnings) io.stderr(`weft verify: ${text}\n`)
  }

  if (reporter === "json") {
    for (const finding of findings) io.stdout(`${JSON.stringify(finding)}\n`)
  } else {
    for (const finding of findings) io.stdout(renderFinding(finding, plan.ids, invocation))
    io.stdout(summaryLine(loaded.workflow.name, {
      runs: last.runs,
      schedules: last.schedules,
      findings: findings.length,
      durationMs: performance.now() - begun,
      seed,
      interrupted: interruption.by() !== undefined
    }))
  }
  const by = interruption.by()
  if (by !== undefined) return signalExitCode(by)
  return findings.length === 0 ? 0 : 1
}

const progressView = async (reporter: "tui" | "plain" | "json", io: Io, workflow: string, total: number): Promise<ProgressView> => {
  if (reporter === "json") return { onProgress: () => {}, finish: async () => {} }
  if (reporter === "plain") return { onProgress: plainProgress(io.stderr), finish: async () => {} }
  const env = io.env ?? process.env
  const { verifyDashboard } = await import("../tui/verifyDashboard.ts")
  return verifyDashboard({ workflow, schedulesTotal: total, color: env.NO_COLOR === undefined || env.NO_COLOR === "" })
}
