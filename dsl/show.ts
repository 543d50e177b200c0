/**
 * A value as a message shows it: JSON where it can be (`5`, `"a"`, `{}`),
 * else something short. Never throws, so a strange value (a loop of YAML
 * aliases, a BigInt, an object without a prototype) cannot turn a message
 * about it into a crash.
 */
export const show = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (typeof value === "function") return "a function"
  if (typeof value === "bigint") return `${value}`
  try {
    const text = JSON.stringify(value)
    if (text !== undefined) return text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    // Circular: fall through.
  }
  return Array.isArray(value) ? "a list" : typeof value === "object" ? "a map" : typeof value
}
