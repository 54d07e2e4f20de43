/**
 * @module app
 * The Koa app factory: a tiny core of composable middleware (request log, error guard, observer) and a router with
 * the Web API routes under the base path plus the operational routes.
 */
import { Router } from '@koa/router'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import Koa, { type Middleware } from 'koa'
import { authError, type AuthError, type ConsumerSession, type IssuedToken, type IssueRequest, type Release } from '../../core/index.js'
import { errorEnvelope, okEnvelope, type HttpStatusMode } from './envelope.js'
import { errorsMiddleware, type ErrorLogger } from './errors-middleware.js'
import { requestLog, type RequestLogger } from './request-log.js'
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
  readonly log: RequestLogger & ErrorLogger
  /** Public keys of an asymmetric ring, served at /.well-known/jwks.json; absent for HS256. */
  readonly jwks?: () => { keys: ReadonlyArray<object> }
  /** Is the store reachable and migrated? */
  readonly ready: () => Promise<boolean>
  /** Middleware that sees every request after the request log (metrics). */
  readonly observe?: Middleware
  /** Extra routes (metrics, openapi) mounted at the root. */
  readonly extraRoutes?: (router: Router) => void
}

export const createHttpApp = (deps: HttpAppDeps): Koa => {
  const app = new Koa({ proxy: deps.trustProxy })
  const router = new Router()
  const base = deps.basePath

  router.post(base + TOKEN_PATH, tokenRoute(deps))
  router.get(
    base + SESSION_PATH,
    consumerSession({ verify: deps.verify, httpStatus: deps.httpStatus }),
    (ctx) => sendOk(ctx, { session: (ctx.state as SessionState).session }),
  )
  if (deps.jwks) {
    const jwks = deps.jwks
    router.get('/.well-known/jwks.json', (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300')
      ctx.body = jwks()
    })
  }
  router.get('/health/live', (ctx) => sendOk(ctx, { status: 'live' }))
  router.get('/health/ready', async (ctx) => {
    const ready = await deps.ready().catch(() => false)
    ctx.status = ready ? 200 : 503
    // Always the real status, even in `envelope` mode: load balancers read the status, not the envelope.
    ctx.body = ready ? okEnvelope({ status: 'ready' }) : errorEnvelope(authError('SERVICEUNAVAILABLE', 'The store is not reachable or not migrated'))
  })
  deps.extraRoutes?.(router)

  app.use(requestLog(deps.log))
  app.use(errorsMiddleware(deps.httpStatus, deps.log))
  if (deps.observe) app.use(deps.observe)
  app.use(router.routes())
  app.use(router.allowedMethods({ throw: true }))
  // Koa's own error listener prints stacks to stderr; the error guard already logged what matters.
  app.silent = true
  return app
}
