/** One JSON object per line per event, for tools: every event, `step:partial` included, as it happens. */
import { writeStdout, type Reporter, type Write } from "../Reporter.ts"

export const json = (options: { readonly write?: Write } = {}): Reporter => {
  const write = options.write ?? writeStdout
  return {
    onEvent: (event) => write(JSON.stringify(event) + "\n"),
    // Watch mode's events are JSON lines in the same stream, told apart by their `watch:` type.
    onWatch: (event) => write(JSON.stringify(event) + "\n")
  }
}
