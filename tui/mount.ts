/**
 * The Ink instance: the only module that imports Ink's renderer, loaded after
 * the dashboard's first line is on screen (Ink and React take a few hundred
 * milliseconds to load).
 */
import { render } from "ink"
import { createElement as h } from "react"
import { App, type AppProps } from "./components/App.ts"

export interface Mounted {
  /** Draws a frame now. */
  readonly draw: (props: AppProps) => void
  /** Stops drawing, leaves the last frame on screen and gives the terminal back (raw mode off). */
  readonly unmount: () => Promise<void>
}

export interface MountOptions {
  readonly stdout: NodeJS.WriteStream
  readonly stdin: NodeJS.ReadStream
  /** Ink's debug mode: every frame written whole, for tests. */
  readonly debug: boolean
}

export const mount = (props: AppProps, options: MountOptions): Mounted => {
  const instance = render(h(App, props), {
    stdout: options.stdout,
    stdin: options.stdin,
    debug: options.debug,
    // Ink decides on its own that any run with CI in the environment is not
    // interactive and then draws only the last frame. weft has already chosen
    // the dashboard (on a terminal outside CI, or by --reporter tui): draw
    // live whenever the output is a terminal.
    interactive: options.stdout.isTTY === true,
    // Ctrl-C is a key in raw mode, and cancelling is the run's business: the
    // dashboard passes it on (`onInterrupt`) instead of letting Ink exit.
    exitOnCtrlC: false,
    // The engine captures the steps' console output itself (into step:log).
    patchConsole: false
  })
  return {
    draw: (next) => instance.rerender(h(App, next)),
    unmount: async () => {
      instance.unmount()
      await instance.waitUntilExit()
    }
  }
}
