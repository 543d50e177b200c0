/**
 * One plain run of the workflow, traced: what each step read, wrote and
 * removed in its throwaway copy, and which steps could not be seen.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Workflow } from "../../../dsl/Workflow.ts"
import { locate } from "../../../runtime/permissions/programs.ts"
import { observe, type ObserveOptions } from "../observe.ts"
import type { Schedule } from "../schedule.ts"
import { accessesWithin, type Accesses, type RawAccess } from "./Accesses.ts"
import { attributeFs } from "./fsAttribution.ts"
import { straceProblem, straceProgram } from "./strace.ts"
import { makeTracingExecutor } from "./tracingExecutor.ts"

export interface TracedRun {
  readonly accesses: Accesses
  /** By step id: why its accesses were not (all) seen. */
  readonly untraced: ReadonlyMap<string, string>
  /** Why commands were not traced at all, when strace cannot run here. */
  readonly straceProblem: string | undefined
}

export const traceRun = async (wf: Workflow<any>, schedule: Schedule, options: ObserveOptions, program: string = straceProgram()): Promise<TracedRun> => {
  const problem = straceProblem(program)
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "weft-trace-"))
  const raw: Array<RawAccess> = []
  const record = (step: string, access: RawAccess["access"], absolute: string) => void raw.push({ step, access, path: absolute })
  let roots: ReadonlyArray<string> = []
  // Found on weft's PATH once: a step's own PATH (its `env`) need not have it.
  const strace = problem === undefined ? locate(program, process.cwd(), process.env.PATH) ?? program : undefined
  const tracing = makeTracingExecutor(options.executor, { strace, logDir, record })
  // The copy is made inside `observe`: its folder is learned from the first
  // step, with its real path (strace reports real paths). The user's own
  // folder counts as the workflow's too: a step that finds its files from
  // `import.meta.url` reads the original, not the copy, and it is the same file.
  const original = path.resolve(options.folder)
  const executor = {
    ...tracing.executor,
    run: (step: Parameters<typeof tracing.executor.run>[0]) => {
      if (roots.length === 0) roots = [...new Set([step.cwd, fs.realpathSync(step.cwd), original, fs.realpathSync(original)])]
      return tracing.executor.run(step)
    }
  }
  const restore = attributeFs(record)
  try {
    await observe(wf, schedule, { ...options, executor })
  } finally {
    restore()
    fs.rmSync(logDir, { recursive: true, force: true })
  }
  return { accesses: accessesWithin(raw, roots), untraced: tracing.untraced, straceProblem: problem }
}
