/**
 * The forecast: how long the rest of a run should take, simulated with the
 * engine's own scheduler (`Scheduler.ts`) and rate-limit window
 * (`RateWindow.ts`), so the ETA follows the rules the run follows. The
 * dashboard and the plain reporter fold a run's events into a `Forecast`;
 * the run-overrun alert asks `eta` once at the start.
 *
 * @example
 * import { Forecast, formatEta } from "./runtime/forecast/index.ts"
 * const forecast = new Forecast()
 * forecast.begin(runStart)
 * for (const event of later) forecast.apply(event)
 * formatEta(forecast.eta(runTimeNow)!) // => "ETA ~12s"
 */
export { Forecast, typicalOf } from "./Forecast.ts"
export { formatEta } from "./formatEta.ts"
export { etaGraphOf, makeEtaGraph, withLimits, type EtaGraph, type EtaLimits, type EtaLimitsInfo } from "./EtaGraph.ts"
export { defaultFloorMs, eta, overrunShare, type Eta, type EtaProgress } from "./eta.ts"
