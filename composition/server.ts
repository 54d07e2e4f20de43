/**
 * @module server
 * Start, readiness and graceful stop of the HTTP service: build the object graph once, listen, and on SIGTERM or
 * SIGINT stop accepting, let in-flight requests finish within the grace period, close the store, exit 0.
 * SIGHUP reloads the signing key ring (rotation without a restart).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buildContainer, TYPES, type Overrides } from './container.js'
import type { Config } from './config.js'

export interface RunningServer {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string
  readonly port: number
  /** Stop accepting, finish in-flight requests (up to the grace period), close the store. */
  close(): Promise<void>
  /** Reload the signing key ring from the secrets (as on SIGHUP). */
  reloadKeys(): Promise<void>
}

const listen = (server: Server, port: number, host: string) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })

/** Starts the service in this process; the caller owns its lifetime (tests, embedding). */
export const startServer = async (config: Config, overrides: Overrides = {}): Promise<RunningServer> => {
  const container = buildContainer(config, overrides)
  const app = await container.getAsync(TYPES.HttpApp)
  const store = await container.getAsync(TYPES.Store)
  const keys = await container.getAsync(TYPES.KeyRing)
  const log = container.get(TYPES.Logger)
  const server = createServer(app.callback())
  // Bounded request handling: a client that sends headers or a body too slowly is cut off.
  server.headersTimeout = 10_000
  server.requestTimeout = 15_000
  server.keepAliveTimeout = 5_000
  await listen(server, config.port, config.host)
  const { port } = server.address() as AddressInfo
  const shownHost = config.host === '::' || config.host === '0.0.0.0' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host
  log.info({ port, release: config.release, basePath: config.basePath, db: config.db.engine }, 'consumer-auth listening')

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceSeconds * 1000)
      await stopped
      clearTimeout(grace)
      await store.close()
      log.info({}, 'consumer-auth stopped')
      log.flush?.()
    })())

  return { url: `http://${shownHost}:${port}`, port, close, reloadKeys: () => keys.reload() }
}

/** The `serve` command: start, and stop gracefully on SIGTERM/SIGINT; reload keys on SIGHUP. */
export const runServer = async (config: Config): Promise<RunningServer> => {
  const running = await startServer(config)
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.on('SIGHUP', () => void running.reloadKeys().catch(() => undefined))
  return running
}
