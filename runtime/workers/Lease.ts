/**
 * A lease per run and step: at-least-once delivery (a stalled job given to
 * another worker while its first worker still runs it) must never run a
 * step's body twice at the same time. The holder sets the key with `SET NX
 * PX` and renews it while the body runs; another delivery waits for it. A
 * holder that dies stops renewing, so its lease lapses after `leaseMs`: short
 * enough that a killed worker's step reruns within BullMQ's stall interval
 * (4 s lock, 2 s check), long enough for a busy event loop to renew in time.
 */
import type { RedisClient } from "./internal/redis.ts"

/** How long a lease lasts unrenewed. */
export const leaseMs = 6000

/** How often its holder renews it: three chances before it lapses. */
export const renewMs = 1500

// Only the holder (by token) may renew or release: a lapsed lease another took is not ours.
const renewScript = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`
const releaseScript = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`

/** A held lease: stop renewing it and give it up. */
export interface Lease {
  readonly release: () => Promise<void>
}

/**
 * Takes the lease `key` for `token`, waiting (polling every `pollMs`) while
 * another holds it, until `signal` aborts (then `undefined`).
 */
export const acquire = async (redis: RedisClient, key: string, token: string, signal: AbortSignal, pollMs = 250): Promise<Lease | undefined> => {
  while (!signal.aborted) {
    if (await redis.set(key, token, "PX", leaseMs, "NX") === "OK") return hold(redis, key, token)
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
  return undefined
}

const hold = (redis: RedisClient, key: string, token: string): Lease => {
  const timer = setInterval(() => void redis.eval(renewScript, 1, key, token, leaseMs).catch(() => undefined), renewMs)
  return {
    release: async () => {
      clearInterval(timer)
      await redis.eval(releaseScript, 1, key, token).catch(() => undefined)
    }
  }
}
