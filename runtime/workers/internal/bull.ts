/**
 * BullMQ's timings for weft's workers. A worker SIGKILLed mid-step stops
 * renewing its job's lock; the stall check then gives the job to another
 * worker. With BullMQ's defaults (30 s lock, 30 s check) that took about
 * 60 s; with a 4 s lock and a 2 s check it took 3.1 s (issue 15's
 * measurement), well inside the 10 s weft promises. A worker renews its locks
 * every 2 s (half the lock), so only an event loop blocked for 4 s loses one:
 * the lease (`Lease.ts`) then keeps the second delivery from running the body
 * alongside the first.
 */
export const bullOptions = {
  lockDuration: 4000,
  stalledInterval: 2000,
  maxStalledCount: 1
} as const

/** Finished jobs are kept this long (seconds): long enough for a coordinator that reconnects to read its results. */
export const keepSeconds = 3600
