/**
 * @module app
 * The Koa app factory: a tiny core of composable middleware (the edge: request id and log line, observer, Host check,
 * error guard, closing connections whose body was not read; then no-store on credential routes, CORS, OPTIONS) and a router, matching paths
 * exactly, with the Web API routes under the base path (webApiRouter, shared with the embedded middleware of
 * embedded.ts) plus the operational routes.
 */
import { Router } from '@koa/router'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import Koa, { type Middleware } from 'koa'
import type { AuthError, ConsumerSession, IssuedToken, IssueRequest, Release, ReleaseRequest } from '../../core/index.js'
import { corsFor } from './cors.js'
import type { HttpStatusMode } from './envelope.js'
import { answerOptions, whilePresent } from './options.js'
import { noStore } from './no-store.js'
import { edge } from './edge.js'
import type { ErrorLogger } from './errors-middleware.js'
import type { RequestObserver } from './metrics.js'
import { mountOperationsRoutes } from './ops-routes.js'
import { RELEASE_PATH, releaseRoute } from './release-route.js'
import type { RequestLogger } from './request-log.js'
import { sendOk } from './respond.js'
import { consumerSession, type SessionState } from './session-middleware.js'
import { TOKEN_PATH, tokenRoute } from './token-route.js'

export const SESSION_PATH = '/authentication/consumer_application_key/session'

export interface HttpAppDeps {
  readonly basePath: string
  readonly release: Release
  readonly httpStatus: HttpStatusMode
  readonly trustProxy: boolean
  readonly issue: (request: IssueRequest) => TaskEither<AuthError, IssuedToken>
  readonly verify: (token: unknown) => TaskEither<AuthError, ConsumerSession>
  /** Releases (logs out) a session: POST {base}/authentication/token/release (the route exists when given). */
  readonly releaseSession?: (request: ReleaseRequest) => TaskEither<AuthError, ConsumerSession>
  readonly log: RequestLogger & ErrorLogger
  /** Public keys of the ring's asymmetric keys, served at /.well-known/jwks.json (404 while there are none). */
  readonly jwks?: () => { keys: ReadonlyArray<object> }
  /** Is the store reachable and migrated? */
  readonly ready: () => Promise<boolean>
  /**
   * Sees every request once its answer is decided (metrics: createMetrics' observeRequest), with its final status and
   * failure, 404s, 405s and escaped exceptions too; called by the edge, with no middleware of its own.
   */
  readonly observer?: RequestObserver
  /**
   * The same as a middleware (metrics' observe), run inside the request log and outside the error guard. An
   * observer costs less: it is called, not awaited around the rest of the chain.
   */
  readonly observe?: Middleware
  /** Browser origins allowed (CORS) on the token, session and release routes; none when absent. */
  readonly corsOrigins?: ReadonlyArray<string>
  /** Extra routes (metrics, openapi) mounted at the root. */
  readonly extraRoutes?: (router: Router) => void
  /** The operations routes (health, extra routes) are served by an app of their own (OPS_PORT), not this one. */
  readonly operationsElsewhere?: boolean
}

/** One registered route: its path pattern and methods, as @koa/router holds them. */
export interface RouteEntry {
  readonly path: string
  readonly methods: ReadonlyArray<string>
}

const routers = new WeakMap<Koa, Router>()

/** The routes an app built here serves, read from its router (the OpenAPI document is checked against this). */
export const routeTable = (app: Koa): ReadonlyArray<RouteEntry> =>
  (routers.get(app)?.stack ?? [])
    .filter((layer) => layer.methods.length > 0)
    .map((layer) => ({ path: String(layer.path), methods: [...layer.methods] }))

/** The Web API routes (token, session, release, and the JWKS of an asymmetric ring), on a router of their own. */
export type WebApiDeps = Pick<HttpAppDeps, 'basePath' | 'release' | 'httpStatus' | 'issue' | 'verify' | 'releaseSession' | 'jwks'>

/** The Web API paths under a base path, whose answers are never cached and which browsers may reach (CORS). */
export const credentialPaths = (basePath: string): ReadonlyArray<string> => [basePath + TOKEN_PATH, basePath + SESSION_PATH, basePath + RELEASE_PATH]

/**
 * The token route, the session route, the release route and the JWKS (at `jwksPath`), under the base path: what the
 * standalone app serves and what an embedding host mounts (adapters/http/embedded.ts); one registration for both.
 * Paths match exactly: `.../TOKEN` and `.../token/` are no route (a proxy's allow-list and the service must agree).
 */
export const webApiRouter = (deps: WebApiDeps, jwksPath = '/.well-known/jwks.json'): Router => {
  const router = new Router({ sensitive: true, strict: true })
  const base = deps.basePath
  router.post(base + TOKEN_PATH, tokenRoute(deps))
  router.get(
    base + SESSION_PATH,
    consumerSession({ verify: deps.verify, httpStatus: deps.httpStatus }),
    (ctx) => sendOk(ctx, { session: (ctx.state as SessionState).session }),
  )
  if (deps.releaseSession) router.post(base + RELEASE_PATH, releaseRoute({ httpStatus: deps.httpStatus, releaseSession: deps.releaseSession }))
  if (deps.jwks) {
    const jwks = deps.jwks
    whilePresent(router, jwksPath, () => jwks().keys.length > 0)
    router.get(jwksPath, (ctx) => {
      const set = jwks()
      // Read per request, so the route follows the ring through reloads; a ring without an asymmetric key has
      // nothing to publish, and the path answers as an unknown one does (404 METHODNOTAVAILABLE).
      if (set.keys.length === 0) return void (ctx.status = 404)
      // The max-age bounds how long an embedding verifier (or an HTTP cache) keeps a key this ring withdrew.
      ctx.set('Cache-Control', 'public, max-age=60')
      ctx.body = set
    })
  }
  return router
}

export const createHttpApp = (deps: HttpAppDeps): Koa => {
  // Behind a trusted proxy the client address is the last X-Forwarded-For entry, the one that proxy appended: the
  // entries before it are whatever the client sent, and would let it dodge the per-address lock-out (docs/behaviour.md, the method: authentication).
  const app = new Koa({ proxy: deps.trustProxy, maxIpsCount: 1 })
  const router = webApiRouter(deps)
  const paths = credentialPaths(deps.basePath)

  if (!deps.operationsElsewhere) mountOperationsRoutes(router, deps)

  app.use(edge({
    log: deps.log, httpStatus: deps.httpStatus,
    ...(deps.observer ? { observer: deps.observer } : {}), ...(deps.observe ? { observe: deps.observe } : {}),
  }))
  app.use(noStore(paths))
  // In front of the OPTIONS answer: a preflight from an allowed origin is answered by CORS; others go on to it.
  const cors = corsFor(paths, deps.corsOrigins ?? [])
  if (cors) app.use(cors)
  app.use(answerOptions(router))
  app.use(router.routes())
  app.use(router.allowedMethods())
  // Koa's own error listener prints stacks to stderr; the error guard already logged what matters.
  app.silent = true
  routers.set(app, router)
  return app
}
