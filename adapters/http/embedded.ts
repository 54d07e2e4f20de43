/**
 * @module embedded
 * The Web API routes as one Koa middleware for a host app (createConsumerAuth's `middleware()`): requests to the
 * token route, the session route or the JWKS under the base path are answered exactly as the standalone service
 * answers them (the same router, behind the same error guard); every other request goes on to the host's next
 * middleware untouched. The client address is the host's `ctx.ip`, so the host's own `proxy` setting decides whether
 * X-Forwarded-For is believed.
 */
import type { Middleware } from 'koa'
import { webApiRouter, type WebApiDeps } from './app.js'
import { errorsMiddleware, type ErrorLogger } from './errors-middleware.js'

export interface EmbeddedWebApiDeps extends WebApiDeps {
  readonly log: ErrorLogger
}

/** Where the JWKS is served when embedded: under the base path, beside the routes (the host owns its root). */
export const embeddedJwksPath = (basePath: string): string => `${basePath}/.well-known/jwks.json`

export const embeddedWebApi = (deps: EmbeddedWebApiDeps): Middleware => {
  const router = webApiRouter(deps, embeddedJwksPath(deps.basePath))
  const guard = errorsMiddleware(deps.httpStatus, deps.log)
  const routes = router.routes() as unknown as Middleware
  const allowedMethods = router.allowedMethods() as unknown as Middleware
  const done = async () => undefined
  return async (ctx, next) => {
    // Not one of ours (by path, whatever the method): the host's.
    if (router.match(ctx.path, ctx.method).path.length === 0) return next()
    // One of ours: routed, a method the route does not serve answered 405 with Allow, an escaped exception
    // INTERNALERROR; the host's later middleware is not run, as no later middleware runs in the standalone app.
    await guard(ctx, () => routes(ctx, () => allowedMethods(ctx, done)))
  }
}
