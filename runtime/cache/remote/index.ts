/**
 * The shared cache: a remote over the Turborepo Remote Cache API behind the
 * local store (see `TieredStore.ts`).
 */
export { makeRemoteCache, type RemoteCache, type RemoteCacheOptions, type RemoteCacheSettings } from "./RemoteCache.ts"
export { makeTieredStore, settleUploads, type TieredStoreOptions } from "./TieredStore.ts"
export { remoteCacheFromEnv } from "./remoteSettings.ts"
