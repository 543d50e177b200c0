export { plain, type PlainOptions } from "./plain.ts"
export { json } from "./json.ts"
