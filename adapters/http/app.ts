/**
 * @module app
 * The Koa app factory: a tiny core of composable middleware (closing connections whose body was not read, request
 * log, observer, Host check, error guard, no-store on credential routes, OPTIONS) and a router, matching paths
 * exactly, with the Web API routes under the base path plus the operational routes.
 */
import { Router } from '@koa/router'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import Koa, { type Middleware } from 'koa'
import { authError, type AuthError, type ConsumerSession, type IssuedToken, type IssueRequest, type Release } from '../../core/index.js'
import { errorEnvelope, okEnvelope, type HttpStatusMode } from './envelope.js'
import { answerOptions } from './options.js'
import { requireHost } from './protocol-errors.js'
import { errorsMiddleware, type ErrorLogger } from './errors-middleware.js'
import { requestLog, type RequestLogger } from './request-log.js'
import { sendOk } from './respond.js'
import { consumerSession, type SessionState } from './session-middleware.js'
import { TOKEN_PATH, tokenRoute } from './token-route.js'
import { closeIfBodyUnread } from './unread-body.js'

export const SESSION_PATH = '/authentication/consumer_application_key/session'

export interface HttpAppDeps {
  readonly basePath: string
  readonly release: Release
  readonly httpStatus: HttpStatusMode
  readonly trustProxy: boolean
  readonly issue: (request: IssueRequest) => TaskEither<AuthError, IssuedToken>
  readonly verify: (token: unknown) => TaskEither<AuthError, ConsumerSession>
  readonly log: RequestLogger & ErrorLogger
  /** Public keys of an asymmetric ring, served at /.well-known/jwks.json; absent for HS256. */
  readonly jwks?: () => { keys: ReadonlyArray<object> }
  /** Is the store reachable and migrated? */
  readonly ready: () => Promise<boolean>
  /**
   * Middleware that sees every request inside the request log and outside the error guard (metrics), so that it sees
   * the final status and failure of 404s, 405s and escaped exceptions too.
   */
  readonly observe?: Middleware
  /** Extra routes (metrics, openapi) mounted at the root. */
  readonly extraRoutes?: (router: Router) => void
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

export const createHttpApp = (deps: HttpAppDeps): Koa => {
  // Behind a trusted proxy the client address is the last X-Forwarded-For entry, the one that proxy appended: the
  // entries before it are whatever the client sent, and would let it dodge the per-address lock-out (SPEC 4).
  const app = new Koa({ proxy: deps.trustProxy, maxIpsCount: 1 })
  // Paths match exactly: `.../TOKEN` and `.../token/` are no route (a proxy's allow-list and the service must agree).
  const router = new Router({ sensitive: true, strict: true })
  const base = deps.basePath
  // Answers about credentials are never stored by a cache, whatever they say: success, failure, 405, OPTIONS.
  const noStorePaths = new Set([base + TOKEN_PATH, base + SESSION_PATH])

  router.post(base + TOKEN_PATH, tokenRoute(deps))
  router.get(
    base + SESSION_PATH,
    consumerSession({ verify: deps.verify, httpStatus: deps.httpStatus }),
    (ctx) => sendOk(ctx, { session: (ctx.state as SessionState).session }),
  )
  if (deps.jwks) {
    const jwks = deps.jwks
    router.get('/.well-known/jwks.json', (ctx) => {
      // The max-age bounds how long an embedding verifier (or an HTTP cache) keeps a key this ring withdrew.
      ctx.set('Cache-Control', 'public, max-age=60')
      ctx.body = jwks()
    })
  }
  router.get('/health/live', (ctx) => sendOk(ctx, { status: 'live' }))
  router.get('/health/ready', async (ctx) => {
    const ready = await deps.ready().catch(() => false)
    ctx.status = ready ? 200 : 503
    // Always the real status, even in `envelope` mode: load balancers read the status, not the envelope.
    ctx.body = ready ? okEnvelope({ status: 'ready' }) : errorEnvelope(authError('SERVICEUNAVAILABLE', 'The store is not reachable, not migrated, or does not accept writes'))
  })
  deps.extraRoutes?.(router)

  app.use(closeIfBodyUnread)
  app.use(requestLog(deps.log))
  if (deps.observe) app.use(deps.observe)
  app.use(requireHost)
  app.use(errorsMiddleware(deps.httpStatus, deps.log))
  app.use(async (ctx, next) => {
    if (noStorePaths.has(ctx.path)) ctx.set('Cache-Control', 'no-store')
    await next()
  })
  app.use(answerOptions(router))
  app.use(router.routes())
  app.use(router.allowedMethods())
  // Koa's own error listener prints stacks to stderr; the error guard already logged what matters.
  app.silent = true
  routers.set(app, router)
  return app
}
