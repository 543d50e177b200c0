/**
 * `weft init`: writes a starter workflow (weft.ts) into the current folder
 * and adds `.weft/` (runs, logs, cache) to `.gitignore`, so that a project's
 * first run is one command: `npx weft run`. It never replaces a workflow the
 * user has unless told to (`--force`).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { UsageError, type Io } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { initSpec } from "./specs.ts"

/** What `weft init` writes: every kind of step once, typed, runnable as it is. */
export const starter = `// A starter workflow, written by \`weft init\`. Run it: npx weft run
// Rerun on every save: npx weft watch. The steps' logs are in .weft/logs.
import { cmd, workflow } from "weft"

export default workflow("starter")
  // A function step: what it returns is the input of the steps that need it, typed.
  .step("greeting", () => "hello from weft")
  // A command: a program and its arguments, no shell. Its output is { exitCode, stdout }.
  .step("node", cmd(["node", "--version"]))
  // A cached step: the next run answers it from .weft/cache while its inputs stay the same.
  .step("summary", { needs: ["greeting", "node"], cache: true }, ({ greeting, node }, ctx) => {
    const summary = \`\${greeting}, on Node \${node.stdout.trim()}\`
    ctx.log(summary)
    return summary
  })
`

/** The lines of a .gitignore that already keep `.weft/` out of git. */
const ignoresWeft = (line: string): boolean => ["/.weft/", "/.weft", ".weft/", ".weft", ".weft/*", "/.weft/*"].includes(line.trim())

export const initCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(initSpec, args)
  if (positionals.length > 0) throw new UsageError(`init takes no file (it writes weft.ts here), got ${positionals.join(" ")}`)
  const file = path.join(io.cwd, "weft.ts")
  if (existsSync(file) && values.force !== true) {
    io.stderr("weft: weft.ts already exists; weft init leaves it as it is. Run `weft init --force` to replace it with the starter.\n")
    return 2
  }
  writeFileSync(file, starter)
  io.stdout("wrote weft.ts, a starter workflow\n")
  if (addToGitignore(path.join(io.cwd, ".gitignore"))) io.stdout("added .weft/ (weft's runs, logs and cache) to .gitignore\n")
  const note = moduleTypeNote(path.join(io.cwd, "package.json"))
  if (note !== undefined) io.stdout(note)
  io.stdout("next: npx weft run\n")
  return 0
}

/** Appends `.weft/` unless a line already ignores it; whether it did. */
const addToGitignore = (file: string): boolean => {
  const text = existsSync(file) ? readFileSync(file, "utf8") : ""
  if (text.split(/\r?\n/).some(ignoresWeft)) return false
  writeFileSync(file, `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}.weft/\n`)
  return true
}

/**
 * weft.ts is an ES module. In a package that is not `"type": "module"`
 * (npm init writes "commonjs"), TypeScript refuses its imports and Node
 * loads it only by a slower fallback: say so once, here, rather than leave
 * the user to a compiler error. Changing the package's type could break the
 * project's other files, so it is the user's call.
 */
const moduleTypeNote = (file: string): string | undefined => {
  let type: unknown
  try {
    type = (JSON.parse(readFileSync(file, "utf8")) as { type?: unknown }).type
  } catch {
    return undefined
  }
  if (type === "module") return undefined
  return `note: weft.ts is an ES module, and package.json does not say "type": "module": TypeScript will refuse its imports.\n` +
    `      Add it (npm pkg set type=module), or rename the file weft.mts and run npx weft run weft.mts.\n`
}
