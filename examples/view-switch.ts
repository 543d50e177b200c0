/**
 * A view switch from one of our users: after the route is resolved, three
 * independent calls (117, 19 and 9 ms) used to run one after another (145 ms).
 * They wait only for the route, so weft runs them together: the view renders
 * after ≈ 117 ms, while the critical steps (route → fetches → render) stay in order.
 *
 *   npx weft run examples/view-switch.ts
 */
import { workflow } from "weft"
import { sleep } from "./sleep.ts"

const call = <A>(ms: number, value: A) => async (_: unknown, ctx: { signal: AbortSignal }) => {
  await sleep(ms, ctx.signal)
  return value
}

export default workflow("view-switch", { concurrency: 4 })
  .step("route", () => ({ view: "dashboard", user: 42 }))
  .step("profile", { needs: ["route"] }, call(117, { name: "Ada", plan: "pro" }))
  .step("permissions", { needs: ["route"] }, call(19, ["read", "write"]))
  .step("notifications", { needs: ["route"] }, call(9, 3))
  .step("render", { needs: ["route", "profile", "permissions", "notifications"] }, ({ route, profile, permissions, notifications }) =>
    `${route.view} for ${profile.name} (${profile.plan}), ${permissions.length} permissions, ${notifications} new`)
