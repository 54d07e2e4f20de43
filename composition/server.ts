/**
 * @module server
 * Start, readiness and graceful stop of the HTTP service: build the object graph once, listen, and on SIGTERM or
 * SIGINT stop accepting, let in-flight requests finish within the grace period, close the store, exit 0.
 * SIGHUP reloads the signing key ring (rotation without a restart). The storage pruning job runs beside it.
 *
 * Start-up checks everything that can refuse the start before it changes anything (docs/operations.md, "Start-up"):
 * the port is bound first (answering 503 until ready), given secrets are read before the database is touched, the
 * database must accept a write; only then are secrets generated (outside production) and the demo seeded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { authError, formatRelease } from '../core/index.js'
import type { ReloadableKeyRing } from '../adapters/crypto/reloadable-key-ring.js'
import { SecretsError } from '../adapters/crypto/secrets-codec.js'
import { errorEnvelope } from '../adapters/http/envelope.js'
import { answerClientError, answerUnmetExpectation } from '../adapters/http/protocol-errors.js'
import type { Store } from '../adapters/store/store.js'
import { warnIfSecretsFileOpen } from './file-modes.js'
import { buildContainer, type Overrides } from './container.js'
import { TYPES } from './services.js'
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

const HEADERS_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 15_000

const listen = (server: Server, port: number, host: string) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })

const STARTING = JSON.stringify(errorEnvelope(authError('SERVICEUNAVAILABLE', 'The service is starting; try again shortly')))

/** Until the service is ready, every request is answered 503 (the port is bound before the store is opened). */
const answerStarting = (res: ServerResponse) => {
  res.shouldKeepAlive = false
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', 'cache-control': 'no-store' })
  res.end(STARTING)
}

/** Secrets that would be generated on first start (none given, outside production) are not read before the store. */
const secretsAreGiven = (config: Config): boolean =>
  config.production || config.secrets !== undefined || config.secretsFile !== undefined

/** Starts the service in this process; the caller owns its lifetime (tests, embedding). */
export const startServer = async (config: Config, overrides: Overrides = {}): Promise<RunningServer> => {
  const root = buildContainer(config, overrides)
  const log = root.get(TYPES.Logger)

  // The responses being written, so that a shutdown can tell their clients not to reuse the connection.
  const inFlight = new Set<ServerResponse>()
  let draining = false
  let handle: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined
  // Bounded request handling: a client that sends headers or a body too slowly is cut off. node:http looks for
  // such clients every `connectionsCheckingInterval` (30 s by default, which let a slow sender stay up to 45 s):
  // every second, the time-outs hold within a second.
  const serverOptions = {
    headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000,
    // The app refuses a request without Host itself, in the envelope (adapters/http/protocol-errors.ts).
    requireHostHeader: false,
  }
  const server = createServer(serverOptions, (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
    if (handle) void handle(req, res)
    else answerStarting(res)
  })
  // The operations listener (OPS_PORT): health, metrics and the document, also 503 until the service is ready.
  let opsHandle: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined
  const opsServer = config.opsPort === undefined
    ? undefined
    : createServer(serverOptions, (req, res) => (opsHandle ? void opsHandle(req, res) : answerStarting(res)))
  // node:http's own refusals (bad framing, time-outs, oversized heads) answer the envelope too.
  for (const s of [server, opsServer]) {
    s?.on('clientError', answerClientError({ headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS }, log))
    s?.on('checkExpectation', answerUnmetExpectation(log))
  }
  const closeListeners = () =>
    Promise.all([server, opsServer].map((s) => s?.listening && new Promise<void>((resolve) => s.close(() => resolve()))))
  // A port that cannot be bound refuses the start before anything is opened, generated or written.
  await listen(server, config.port, config.host)
  if (opsServer) {
    try {
      await listen(opsServer, config.opsPort!, config.host)
    } catch (e) {
      await closeListeners()
      throw e
    }
  }
  let store: Store | undefined
  let keys: ReloadableKeyRing
  try {
    if (secretsAreGiven(config)) await root.getAsync(TYPES.Secrets)
    store = await root.getAsync(TYPES.WritableStore)
    const app = await root.getAsync(TYPES.HttpApp)
    keys = await root.getAsync(TYPES.KeyRing)
    const opsApp = await root.getAsync(TYPES.OpsApp)
    handle = app.callback()
    if (opsApp) opsHandle = opsApp.callback()
  } catch (e) {
    await closeListeners()
    await store?.close().catch(() => undefined)
    throw e
  }
  const openStore = store
  warnIfSecretsFileOpen(config, log)
  const pruner = await root.getAsync(TYPES.Pruner)
  const { port } = server.address() as AddressInfo
  const shownHost = config.host === '::' || config.host === '0.0.0.0' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host
  const opsPort = opsServer ? (opsServer.address() as AddressInfo).port : undefined
  log.info({ port, release: formatRelease(config.release), basePath: config.basePath, db: config.db.engine, opsPort }, 'consumer-auth listening')

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      const stopped = closeListeners()
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
      await pruner.stop()
      await openStore.close()
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
