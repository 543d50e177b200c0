import { makeMemoryStore } from "./MemoryStore.ts"
import { storeContract } from "./store.contract.ts"

storeContract("MemoryStore", async (env) => makeMemoryStore({ now: env.now }))
