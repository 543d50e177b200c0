import { UsageError, type Io } from "./common.ts"

export const historyCommand = async (_args: ReadonlyArray<string>, _io: Io): Promise<number> => {
  throw new UsageError("history is not built yet")
}

export const reportCommand = async (_args: ReadonlyArray<string>, _io: Io): Promise<number> => {
  throw new UsageError("report is not built yet")
}
