/**
 * @module ops-routes
 * The operations routes (/health/live, /health/ready, and the extra ones: /metrics, /openapi.json), mounted on the
 * main app or, with OPS_PORT, on an app of their own that listens on that port only, so that metrics and the route
 * map need not be public.
 */
import { Router } from '@koa/router'
import Koa from 'koa'
import { authError } from '../../core/index.js'
import { edge } from './edge.js'
import { errorEnvelope, okEnvelope, type HttpStatusMode } from './envelope.js'
import type { ErrorLogger } from './errors-middleware.js'
import { answerOptions } from './options.js'
import type { RequestLogger } from './request-log.js'
import { sendOk } from './respond.js'

export interface OperationsRoutesDeps {
  /** Is the store reachable and migrated? */
  readonly ready: () => Promise<boolean>
  /** Extra routes (metrics, openapi) mounted at the root. */
  readonly extraRoutes?: (router: Router) => void
}

export const mountOperationsRoutes = (router: Router, deps: OperationsRoutesDeps): void => {
  router.get('/health/live', (ctx) => sendOk(ctx, { status: 'live' }))
  router.get('/health/ready', async (ctx) => {
    const ready = await deps.ready().catch(() => false)
    ctx.status = ready ? 200 : 503
    // Always the real status, even in `envelope` mode: load balancers read the status, not the envelope.
    ctx.body = ready ? okEnvelope({ status: 'ready' }) : errorEnvelope(authError('SERVICEUNAVAILABLE', 'The store is not reachable, not migrated, or does not accept writes'))
  })
  deps.extraRoutes?.(router)
}

export interface OperationsAppDeps extends OperationsRoutesDeps {
  readonly httpStatus: HttpStatusMode
  readonly log: RequestLogger & ErrorLogger
}

/** The operations routes as an app of their own (OPS_PORT), with the edge of the main one (app.ts), CORS apart. */
export const createOperationsApp = (deps: OperationsAppDeps): Koa => {
  const app = new Koa()
  const router = new Router({ sensitive: true, strict: true })
  mountOperationsRoutes(router, deps)
  app.use(edge({ log: deps.log, httpStatus: deps.httpStatus }))
  app.use(answerOptions(router))
  app.use(router.routes())
  app.use(router.allowedMethods())
  app.silent = true
  return app
}
