/**
 * The dashboard fed a real run's events: `--allow-all` shows in the banner,
 * and a secret a step prints shows as `***`.
 */
import { render } from "ink-testing-library"
import { createElement as h } from "react"
import { afterEach, describe, expect, it } from "vitest"
import { secret } from "../dsl/Permissions.ts"
import { workflow } from "../dsl/Workflow.ts"
import type { Event } from "../runtime/Event.ts"
import { run, type RunOptions } from "../runtime/Run.ts"
import { App } from "./components/App.ts"
import { Model } from "./model.ts"
import { makeTheme } from "./theme.ts"

const value = "dash-secret-4242"
afterEach(() => {
  delete process.env.WEFT_T_TOKEN
})

/** The last frame of the dashboard after `wf` ran with `options`. */
const finalFrame = async (options: RunOptions) => {
  process.env.WEFT_T_TOKEN = value
  const wf = workflow("dash").step("show", { permissions: { env: [secret("WEFT_T_TOKEN")] } }, (_, ctx) => {
    ctx.log(`token ${ctx.env.WEFT_T_TOKEN}`)
  })
  const model = new Model({ now: () => 0 })
  const events: Array<Event> = []
  await run(wf, { ...options, cache: { mode: "off" }, onEvent: (event) => events.push(event) })
  // Every event but run:end: the frame of a run that has just finished its step.
  for (const event of events.slice(0, -1)) model.apply(event)
  const { lastFrame, unmount } = render(h(App, { model, now: 0, theme: makeTheme(false), watching: false, final: false, onKey: () => {} }))
  const text = lastFrame() ?? ""
  unmount()
  return text
}

describe("the dashboard and permissions", () => {
  it("says permissions are off with --allow-all, and not otherwise", async () => {
    expect(await finalFrame({ allowAll: true })).toContain("permissions are off (--allow-all)")
    expect(await finalFrame({})).not.toContain("permissions are off")
  })

  it("shows a secret a step logs as ***", async () => {
    const text = await finalFrame({})
    expect(text).toContain("token ***")
    expect(text).not.toContain(value)
  })
})
