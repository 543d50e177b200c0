/**
 * An executor that runs every step's body in a child Node process of its own
 * (the machinery of `permissions.isolate`): a step with its own isolate
 * permissions runs under them; any other under a policy that restricts
 * nothing it could do in-process (its folder to read and write, programs,
 * the network), so only the process boundary changes. The workflow must come
 * from a file (the child imports it), and the step must be one of its
 * top-level steps.
 *
 * @example
 * await run(wf, { file: "weft.ts", executor: isolatedExecutor })
 */
import * as Effect from "effect/Effect"
import type { Executor } from "../Executor.ts"
import type { IsolatePolicy } from "../permissions/isolate.ts"

/** The policy of a step that declares none: everything the step could reach in weft's own process. */
const open: IsolatePolicy = { read: ["**"], write: ["**"], run: true, net: true }

export const isolatedExecutor: Executor = {
  name: "isolated",
  // Loaded on first use: its message schemas bring effect/Schema (see `body.ts`).
  run: (step) => Effect.flatMap(Effect.promise(() => import("../internal/isolated.ts")), ({ runIsolated }) => runIsolated(step, step.env.isolate ?? open))
}
