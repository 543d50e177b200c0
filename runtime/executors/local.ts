/**
 * The default executor: a step's body runs in this process, as an Effect
 * fiber of the run (a function step's code, a command's process, a
 * sub-workflow). A step with `permissions.isolate` still gets its own
 * process: the permission is the step's, whatever runs the rest.
 */
import type { Executor } from "../Executor.ts"
import { runBody } from "../internal/body.ts"

// `runBody` through a function: body.ts runs sub-workflows (Run.ts), which
// import the executor, so this module may be evaluated before body.ts is.
export const localExecutor: Executor = { name: "local", run: (step) => runBody(step) }
