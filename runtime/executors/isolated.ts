/**
 * An executor that runs every step's body in a child Node process of its own
 * (the machinery of `permissions.isolate`): a step with its own isolate
 * permissions runs under them; any other under an open policy: the workflow's
 * folder to read and write, programs and the network allowed. Node's
 * permission model still applies, so such a step cannot read or write outside
 * the workflow's folder (beyond its modules and weft's own), as it could
 * in-process. The workflow must come
 * from a file (the child imports it), and the step must be one of its
 * top-level steps.
 *
 * @example
 * await run(wf, { file: "weft.ts", executor: isolatedExecutor })
 */
import * as Effect from "effect/Effect"
import type { Executor } from "../Executor.ts"
import type { IsolatePolicy } from "../permissions/isolate.ts"

/** The policy of a step that declares none: its folder, programs and the network. */
const open: IsolatePolicy = { read: ["**"], write: ["**"], run: true, net: true }

export const isolatedExecutor: Executor = {
  name: "isolated",
  // Loaded on first use: its message schemas bring effect/Schema (see `body.ts`).
  run: (step) => Effect.flatMap(Effect.promise(() => import("../internal/isolated.ts")), ({ runIsolated }) => runIsolated(step, step.env.isolate ?? open))
}
