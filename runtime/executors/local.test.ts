import { executorContract } from "../Executor.contract.ts"
import { local } from "./local.ts"

executorContract("local", () => local)
