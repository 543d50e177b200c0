import { UsageError, type Io } from "./common.ts"

export const watchCommand = async (_args: ReadonlyArray<string>, _io: Io): Promise<number> => {
  throw new UsageError("watch is not built yet")
}
