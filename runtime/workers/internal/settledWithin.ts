/**
 * Whether `work` settled within `ms`. With Redis gone, ioredis keeps every
 * command until it reconnects, so a worker's or a coordinator's goodbye
 * (closing BullMQ, sending a cancellation) may never end: callers wait this
 * long, then go on without it.
 */
export const settledWithin = (work: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([
    work.then(() => true, () => true),
    new Promise<false>((resolve) => setTimeout(resolve, ms, false).unref())
  ])
