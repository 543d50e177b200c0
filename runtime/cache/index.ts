/**
 * The cache: where step results and memoized calls are kept between runs,
 * and the hashing that names them.
 */
export type { CacheEntry, CacheStore, EntryInfo, StoredFile, StoreStats } from "./CacheStore.ts"
export { CachePutError, isCachePutError } from "./CachePutError.ts"
export { makeFileStore, type FileStoreOptions } from "./FileStore.ts"
export { makeMemoryStore, type MemoryStoreOptions } from "./MemoryStore.ts"
export { deserializeValue, isUnstorableValueError, serializeValue, UnstorableValueError, type SerializeWhere } from "./serialize.ts"
export { canonicalHash, isUnhashableValueError, UnhashableValueError } from "./canonical.ts"
export {
  FileHashError,
  isFileHashError,
  makeFileHasher,
  type FileDigest,
  type FileHasher,
  type FileHasherOptions,
  type FileSetDigest
} from "./fileHashes.ts"
