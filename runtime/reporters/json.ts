/** One JSON object per line per event, for tools. */
import type { Reporter, Write } from "../Reporter.ts"

export const json = (options: { readonly write?: Write } = {}): Reporter => {
  const write = options.write ?? ((text: string) => void process.stdout.write(text))
  return { onEvent: (event) => write(JSON.stringify(event) + "\n") }
}
