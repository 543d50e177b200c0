import { executorContract } from "../Executor.contract.ts"
import { isolated } from "./isolated.ts"

// Each body starts a Node process (about a second on a loaded machine).
executorContract("isolated", () => isolated, 60_000)
