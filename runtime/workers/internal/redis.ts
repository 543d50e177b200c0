/**
 * Redis connections for the coordinator and the workers, made with ioredis
 * (BullMQ's own driver). Each user of a blocking command (a BullMQ worker,
 * queue events, a subscriber) gets its own connection. `maxRetriesPerRequest:
 * null` is what BullMQ asks for: a command waits through a reconnection
 * rather than failing, so a restarted Redis is waited for, not an error.
 */
import { createRequire } from "node:module"

/** What weft uses of an ioredis client: BullMQ takes it whole. */
export interface RedisClient {
  set(key: string, value: string, px: "PX", ms: number, nx: "NX"): Promise<string | null>
  eval(script: string, keys: number, ...args: Array<string | number>): Promise<unknown>
  publish(channel: string, message: string): Promise<number>
  subscribe(channel: string): Promise<unknown>
  on(event: string, listener: (...args: Array<any>) => void): this
  quit(): Promise<string>
  disconnect(): void
  readonly status: string
}

/** A Redis URL that cannot be used, or a Redis client that is not installed. */
export class WorkersConnectionError extends Error {
  readonly _tag = "WorkersConnectionError"
  constructor(message: string) {
    super(message)
    this.name = "WorkersConnectionError"
  }
}

/** Checks `url` is a Redis URL; the error names the flag and an example. */
export const checkRedisUrl = (url: string, where: string): string => {
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")) {
    throw new WorkersConnectionError(`${where} needs a Redis URL, like redis://localhost:6379 (rediss:// for TLS), not ${JSON.stringify(url)}`)
  }
  return url
}

type Constructor = new (url: string, options: Record<string, unknown>) => RedisClient

let loaded: Constructor | undefined

/**
 * ioredis, loaded on first use (a run without workers never loads it). It is
 * CommonJS, and BullMQ itself `require`s it, so it is `require`d here too.
 */
const ioredis = (): Constructor => {
  if (loaded !== undefined) return loaded
  try {
    const module = createRequire(import.meta.url)("ioredis") as { default?: Constructor } & Constructor
    return loaded = module.default ?? module
  } catch {
    throw new WorkersConnectionError("weft's workers need the npm package ioredis (BullMQ's Redis driver), which is not installed: run npm install ioredis in the project")
  }
}

/**
 * A new connection to `url`; `name` shows in Redis's CLIENT LIST. Its errors
 * (a lost connection, retried by ioredis) go to whoever listens; without a
 * listener ioredis would print each with a stack trace.
 */
export const connect = (url: string, name: string): RedisClient =>
  new (ioredis())(url, { maxRetriesPerRequest: null, connectionName: name, enableOfflineQueue: true }).on("error", () => undefined)

/**
 * Waits for Redis to answer, or fails with an error naming the URL: at the
 * start, a refused connection or no answer in `ms` is a mistake to report,
 * where ioredis would retry forever. (Mid-run, a lost connection is retried.)
 */
export const reachable = async (redis: RedisClient, url: string, ms = 10_000): Promise<void> => {
  let timer: NodeJS.Timeout | undefined
  let refused: ((error: Error) => void) | undefined
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) => reject(new WorkersConnectionError(`weft cannot reach Redis at ${url} (${why}): start it, or check the URL`))
    timer = setTimeout(() => fail(`no answer in ${ms / 1000} s`), ms)
    refused = (error) => fail(error.message)
  })
  redis.on("error", refused!)
  try {
    await Promise.race([redis.eval("return 1", 0), failed])
  } catch (error) {
    redis.disconnect()
    throw error
  } finally {
    clearTimeout(timer)
    ;(redis as unknown as { off(event: string, listener: (error: Error) => void): void }).off("error", refused!)
  }
}
