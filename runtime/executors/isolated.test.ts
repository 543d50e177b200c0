import { executorContract } from "../Executor.contract.ts"
import { isolatedExecutor } from "./isolated.ts"

// Each body starts a Node process (about a second on a loaded machine).
executorContract("isolated", () => isolatedExecutor, 60_000)
