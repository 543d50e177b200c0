import { executorContract } from "../Executor.contract.ts"
import { localExecutor } from "./local.ts"

executorContract("local", () => localExecutor)
