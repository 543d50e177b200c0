/**
 * A batching window: the first item opens it, items added while it is open
 * join it, and when it closes they are handed over together. Effect's
 * `RequestResolver` collects requests the same way (a pending batch per
 * resolver, run after its `delay`); this is its Promise-world twin, for
 * `memo.batched`.
 *
 *   add ──▶ no window open? ──▶ open one: closes at the next macrotask (`setImmediate`),
 *   │                                     or after `windowMs` when given
 *   ▼
 *   the item joins the open window ──(window closes, or `maxItems` joined)──▶ flush(its items, in order)
 *
 * A full window closes at once (Effect's `batchN`): waiting longer could only
 * add items to the next one. A window's items are handed over once; an item
 * added while `flush` runs opens the next window.
 */
export const makeBatchWindow = <T>(
  options: { readonly windowMs: number | undefined; readonly maxItems: number },
  flush: (items: ReadonlyArray<T>) => void
): ((item: T) => void) => {
  let open: { readonly items: Array<T>; readonly close: () => void } | undefined
  const openWindow = () => {
    const items: Array<T> = []
    const close = () => {
      if (open?.items !== items) return // already closed, full
      open = undefined
      cancel()
      flush(items)
    }
    // `setImmediate` runs after the I/O callbacks and promise jobs already due:
    // every step that started in this turn of the event loop has made its call.
    let cancel: () => void
    if (options.windowMs === undefined) {
      const timer = setImmediate(close)
      cancel = () => clearImmediate(timer)
    } else {
      const timer = setTimeout(close, options.windowMs)
      cancel = () => clearTimeout(timer)
    }
    return { items, close }
  }
  return (item) => {
    const window = (open ??= openWindow())
    window.items.push(item)
    if (window.items.length >= options.maxItems) window.close()
  }
}
