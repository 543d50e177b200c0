/**
 * The entry of an isolated step's Node process (`permissions.isolate`): it
 * receives one task, imports the workflow file, runs the step by id through
 * the same body as in-process steps, and reports back over IPC. Its reports
 * (logs, progress, parts) are forwarded as they happen; the output or the
 * failure is the last message, then the process exits.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { isWorkflow } from "../../dsl/Workflow.ts"
import type { StepBody } from "../Executor.ts"
import { runBody } from "./body.ts"
import { installConsoleCapture } from "./consoleCapture.ts"
import { describeError } from "./describeError.ts"
import type { IsolateMessage } from "./isolateMessage.ts"
import { installProgramClient } from "./isolatePrograms.ts"
import type { IsolateTask } from "./isolated.ts"

const send = (message: IsolateMessage): Promise<void> =>
  new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()))

const failure = (error: unknown): IsolateMessage => {
  const denied = error as { code?: unknown; permission?: unknown; resource?: unknown }
  // Node refuses addons under --permission with its own code, and names no file.
  if (denied?.code === "ERR_DLOPEN_DISABLED") return { type: "denied", permission: "Addons", resource: "" }
  if (denied?.code !== "ERR_ACCESS_DENIED") return { type: "failed", message: describeError(error) }
  const permission = String(denied.permission)
  const resource = String(denied.resource ?? "")
  // Node names a path as the step wrote it; the message names it absolutely (the child runs in the step's folder).
  return { type: "denied", permission, resource: permission.startsWith("FileSystem") && resource !== "" ? path.resolve(resource) : resource }
}

const run = async (task: IsolateTask): Promise<IsolateMessage> => {
  const module = await import(pathToFileURL(task.file).href)
  const wf = module.default
  if (!isWorkflow(wf)) return { type: "failed", message: `${task.file} has no default export that is a workflow` }
  const def = wf.steps.find((d) => d.id === task.id)
  if (def === undefined) return { type: "failed", message: `${task.file} has no step "${task.id}" (isolated steps must be top-level steps of the file's workflow)` }
  installConsoleCapture()
  const step: StepBody = {
    index: 0,
    id: task.id,
    workflow: wf.name,
    def,
    inputs: task.inputs,
    cwd: task.cwd,
    file: task.file,
    attempt: task.attempt,
    // No `isolate`: the body runs the function here. No `redact`: the parent masks what it receives.
    env: task.env,
    report: (report) => void send({ type: "report", report } as IsolateMessage),
    // No memo scope, no rate limiters: those are the parent run's.
    features: {}
  }
  const exit = await Effect.runPromiseExit(runBody(step))
  if (Exit.isFailure(exit)) return failure(Cause.squash(exit.cause))
  return { type: "done", value: exit.value }
}

process.once("message", (task: IsolateTask) => {
  // What weft held back from the child's boot (`NODE_OPTIONS`, see `bootEnv`) is still the step's to read.
  Object.assign(process.env, task.env.values)
  if (task.programs !== undefined) installProgramClient()
  run(task)
    .catch(failure)
    .then(async (message) => {
      try {
        await send(message)
      } catch (error) {
        await send({ type: "failed", message: `step "${task.id}" returned a value that cannot be sent back to weft: ${describeError(error)}` })
      }
      process.exit(0)
    })
})
