/**
 * `permissions.net` for isolated steps. Node's permission model has no
 * network permission, so weft keeps an isolated step off the network the
 * way the sandbox does: its Node process (and every program weft starts for
 * it) runs under bubblewrap with a network namespace of its own, holding
 * only a loopback of its own. The file system stays as it is: Node's
 * permission model restricts that.
 *
 * Where bubblewrap does not work, weft cannot keep the step off the network:
 * the step still runs (isolation still restricts files and processes), and
 * the run says so before it starts (`unenforcedNet`), naming the steps.
 */
import type { Permissions } from "../../dsl/Permissions.ts"
import type { StepDef } from "../../dsl/Step.ts"
import type { IsolatePolicy } from "./isolate.ts"
import { locate } from "./programs.ts"
import { bwrapProgram, bwrapWorks } from "./sandbox.ts"

/** `env`, to take away the PWD bwrap sets: the step's environment is exactly what it declared. */
const envProgram = (): string => locate("env", "/", process.env.PATH) ?? "/usr/bin/env"

/**
 * What goes before the argv of an isolated step's process, and of the
 * programs weft starts for it, to take the network away; empty when the
 * step keeps it (`net: true`) or bwrap does not work here. bwrap stays in
 * the group weft tears down. Not `--die-with-parent`: bwrap ends at once on
 * the group's SIGTERM, and would take the step's process down with SIGKILL
 * before it had its grace to stop.
 */
export const netWrap = (policy: IsolatePolicy): ReadonlyArray<string> =>
  policy.net || !bwrapWorks() ? [] : [bwrapProgram(), "--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--unshare-net", "--", envProgram(), "-u", "PWD"]

type PlanLike = { readonly steps: ReadonlyArray<StepDef>; readonly workflow: { readonly options: { readonly permissions?: Permissions | undefined } } }

/**
 * Said once, before the first step, when isolated steps do not declare
 * `net: true` and bwrap does not work here: they will run with the network.
 * `undefined` when there is nothing to say.
 */
export const unenforcedNet = (plan: PlanLike): string | undefined => {
  const fallback = plan.workflow.options.permissions
  // A loop, not `flatMap`: that made an array for every step of the plan.
  const ids: Array<string> = []
  for (let i = 0; i < plan.steps.length; i++) {
    const permissions = plan.steps[i]!.permissions ?? fallback
    if (permissions?.isolate === true && permissions.net !== true) ids.push(plan.steps[i]!.id)
  }
  if (ids.length === 0 || bwrapWorks()) return undefined
  const named = ids.length <= 3 ? ids.map((id) => `"${id}"`).join(", ") : `${ids.slice(0, 3).map((id) => `"${id}"`).join(", ")} and ${ids.length - 3} more`
  return `bubblewrap (bwrap) is not available here, so ${ids.length === 1 ? "the isolated step" : `the ${ids.length} isolated steps`} (${named}) will reach the network although ${ids.length === 1 ? "it does" : "they do"} not declare net: true: weft cannot take the network away without it; install the bubblewrap package (Debian/Ubuntu: apt install bubblewrap)`
}
