/**
 * @module server
 * Start, readiness and graceful stop of the HTTP service (placeholder signature; being built).
 */
import type { Config } from './config.js'

export interface RunningServer {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Starts the service from a decoded config and stops it gracefully on SIGTERM/SIGINT. */
export const runServer = async (_config: Config): Promise<RunningServer> => {
  throw new Error('not built yet')
}
