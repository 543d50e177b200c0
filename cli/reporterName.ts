/** Which reporter `--reporter` (or its absence) means; light, so the loading line can ask before anything heavy loads. */
import { UsageError, type Io } from "./common.ts"

export type ReporterName = "tui" | "plain" | "json"

/** Resolves `--reporter` (or its absence) to a name, or says what is wrong. */
export const reporterName = (given: string | undefined, io: Io): ReporterName => {
  if (given === undefined) {
    const env = io.env ?? process.env
    return io.isTTY === true && !isCI(env) ? "tui" : "plain"
  }
  if (given === "tui" || given === "plain" || given === "json") return given
  throw new UsageError(`--reporter must be tui, plain or json, not "${given}"`)
}

const isCI = (env: NodeJS.ProcessEnv): boolean => env.CI !== undefined && env.CI !== "" && env.CI !== "0" && env.CI !== "false"
