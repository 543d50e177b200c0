/**
 * `weft worker <redis-url>`: runs steps for `weft run --workers` until
 * Ctrl-C, which stops the steps it runs and returns their jobs to the queue.
 */
import { UsageError, type Io } from "./common.ts"
import { parseFlags } from "./flags.ts"
import { workerSpec } from "./specs.ts"

export const workerCommand = async (args: ReadonlyArray<string>, io: Io): Promise<number> => {
  const { values, positionals } = parseFlags(workerSpec, args)
  const [url, ...extra] = positionals
  if (url === undefined) throw new UsageError("weft worker needs the Redis URL its runs use, like weft worker redis://localhost:6379")
  if (extra.length > 0) throw new UsageError(`weft worker takes one Redis URL, not also ${extra.join(" ")}`)
  const { checkRedisUrl, startWorker, WorkersConnectionError } = await import("../runtime/workers/index.ts")
  let worker: Awaited<ReturnType<typeof startWorker>>
  try {
    worker = await startWorker({
      url: checkRedisUrl(url, "weft worker"),
      root: io.cwd,
      concurrency: values.concurrency ?? 1,
      name: values.name,
      allowAll: values["allow-all"],
      onNote: (line) => io.stderr(`weft worker: ${line}\n`)
    })
  } catch (error) {
    if (error instanceof WorkersConnectionError) {
      io.stderr(`weft: ${error.message}\n`)
      return 2
    }
    throw error
  }
  io.stderr(`weft worker ${worker.name}: waiting for steps on ${url} (Ctrl-C stops)\n`)
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) io.signals?.once(name, () => resolve(name))
  })
  io.stderr(`weft worker ${worker.name}: ${signal === "SIGINT" ? "Ctrl-C" : signal}: stopping; running steps go back to the queue\n`)
  await worker.stop()
  return signal === "SIGTERM" ? 143 : signal === "SIGHUP" ? 129 : 130
}
