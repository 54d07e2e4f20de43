/**
 * @module server
 * Start, readiness and graceful stop of the HTTP service: build the object graph once, listen, and on SIGTERM or
 * SIGINT stop accepting, let in-flight requests finish within the grace period, close the store, exit 0.
 * SIGHUP reloads the signing key ring (rotation without a restart).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { formatRelease } from '../core/index.js'
import { SecretsError } from '../adapters/crypto/secrets.js'
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
  /** The operations listener (OPS_PORT), when there is one: /metrics, /health/*, /openapi.json. */
  readonly ops?: { readonly url: string; readonly port: number }
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

  // The responses being written, so that a shutdown can tell their clients not to reuse the connection.
  const inFlight = new Set<ServerResponse>()
  let draining = false
  const handle = app.callback()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
    void handle(req, res)
  })
  // Bounded request handling: a client that sends headers or a body too slowly is cut off.
  server.headersTimeout = 10_000
  server.requestTimeout = 15_000
  server.keepAliveTimeout = 5_000
  const opsApp = await container.getAsync(TYPES.OpsApp)
  const opsServer = opsApp ? createServer(opsApp.callback()) : undefined
  if (opsServer) {
    opsServer.headersTimeout = server.headersTimeout
    opsServer.requestTimeout = server.requestTimeout
    opsServer.keepAliveTimeout = server.keepAliveTimeout
  }
  try {
    await listen(server, config.port, config.host)
    if (opsServer) await listen(opsServer, config.opsPort!, config.host)
  } catch (e) {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    await store.close().catch(() => undefined)
    throw e
  }
  const { port } = server.address() as AddressInfo
  const shownHost = config.host === '::' || config.host === '0.0.0.0' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host
  const opsPort = opsServer ? (opsServer.address() as AddressInfo).port : undefined
  log.info({ port, release: formatRelease(config.release), basePath: config.basePath, db: config.db.engine, opsPort }, 'consumer-auth listening')

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      const stopped = Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        opsServer && new Promise<void>((resolve) => opsServer.close(() => resolve())),
      ])
      draining = true
      // Answers still to be written say `Connection: close`, so no client sends another request on a closing socket.
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false
      log.info({ graceSeconds: config.shutdownGraceSeconds, inFlight: inFlight.size }, 'consumer-auth stopping: no new connections, finishing requests in flight')
      // server.close() closes only the keep-alive connections idle right now; one whose answer was already on its
      // way becomes idle afterwards and would hold the close open until its keep-alive timeout. Sweep them.
      const closeIdle = () => {
        server.closeIdleConnections()
        opsServer?.closeIdleConnections()
      }
      closeIdle()
      const sweep = setInterval(closeIdle, 50)
      const grace = setTimeout(() => {
        log.warn({ graceSeconds: config.shutdownGraceSeconds, inFlight: inFlight.size }, 'grace period over: closing the connections still open')
        server.closeAllConnections()
        opsServer?.closeAllConnections()
      }, config.shutdownGraceSeconds * 1000)
      try {
        await stopped
      } finally {
        clearInterval(sweep)
        clearTimeout(grace)
      }
      await store.close()
      log.info({}, 'consumer-auth stopped')
      await new Promise<void>((resolve) => log.flush(() => resolve()))
    })())

  // A reload that fails keeps the ring in use; either way the log says so (and which key now signs), never a secret:
  // a SecretsError names the file and the field at fault only.
  const reloadKeys = () =>
    keys.reload().then(
      () => log.info({ activeKid: keys.ring.activeKid, alg: keys.ring.alg }, 'signing keys reloaded'),
      (e: unknown) => {
        log.error({ reason: e instanceof SecretsError ? e.message : 'unexpected error' }, 'signing keys not reloaded: the keys in use stay')
        throw e
      },
    )

  return {
    url: `http://${shownHost}:${port}`, port, close, reloadKeys,
    ...(opsPort !== undefined && { ops: { url: `http://${shownHost}:${opsPort}`, port: opsPort } }),
  }
}

/**
 * The `serve` command: start, and stop gracefully on SIGTERM/SIGINT (exit 0 once stopped; 1 if stopping failed); a
 * second signal while stopping ends the process at once (the handlers are `once`). SIGHUP reloads the key ring.
 */
export const runServer = async (config: Config, overrides: Overrides = {}): Promise<RunningServer> => {
  const running = await startServer(config, overrides)
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
