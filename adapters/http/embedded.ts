/**
 * @module embedded
 * The Web API routes as one Koa middleware for a host app (createConsumerAuth's `middleware()`): requests to the
 * token route, the session route or the JWKS under the base path are answered exactly as the standalone service
 * answers them (the same router, behind the same error guard); every other request goes on to the host's next
 * middleware untouched. The client address is the host's `ctx.ip`, so the host's own `proxy` setting decides whether
 * X-Forwarded-For is believed.
 */
import type { IncomingMessage } from 'node:http'
import type { Middleware } from 'koa'
import { authError } from '../../core/index.js'
import { credentialPaths, webApiRouter, type WebApiDeps } from './app.js'
import { errorsMiddleware, type ErrorLogger } from './errors-middleware.js'
import { noStore } from './no-store.js'
import { answerOptions } from './options.js'
import { sendFailure } from './respond.js'
import { TOKEN_PATH } from './token-route.js'

export interface EmbeddedWebApiDeps extends WebApiDeps {
  readonly log: ErrorLogger
}

/** Where the JWKS is served when embedded: under the base path, beside the routes (the host owns its root). */
const embeddedJwksPath = (basePath: string): string => `${basePath}/.well-known/jwks.json`

/**
 * Did a middleware before ours read the body already (a body parser)? The token route reads the raw bytes itself (the
 * 16 KiB bound, duplicate names, the exact JSON), and would wait forever for a stream that has ended.
 */
const bodyAlreadyRead = (req: IncomingMessage): boolean =>
  req.readableEnded && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0)

export const embeddedWebApi = (deps: EmbeddedWebApiDeps): Middleware => {
  const router = webApiRouter(deps, embeddedJwksPath(deps.basePath))
  const guard = errorsMiddleware(deps.httpStatus, deps.log)
  const routes = router.routes() as unknown as Middleware
  const allowedMethods = router.allowedMethods() as unknown as Middleware
  const done = async () => undefined
  const cacheControl = noStore(credentialPaths(deps.basePath))
  const options = answerOptions(router)
  const tokenPath = deps.basePath + TOKEN_PATH
  return async (ctx, next) => {
    // Not one of ours (by path, whatever the method): the host's.
    if (router.match(ctx.path, ctx.method).path.length === 0) return next()
    if (ctx.method === 'POST' && ctx.path === tokenPath && bodyAlreadyRead(ctx.req)) {
      deps.log.error({ path: ctx.path }, "the token route's body was read by a middleware mounted before consumer-auth's (a body parser): mount consumer-auth before it, or keep it off the issuer's paths")
      return sendFailure(ctx, authError('MALFORMEDREQUEST', 'The request body was read before it reached the token route'), deps.httpStatus)
    }
    // One of ours, through the same chain as in the standalone app (adapters/http/app.ts): no-store on credential
    // answers, OPTIONS as the envelope, routed, a method the route does not serve answered 405 with Allow, an escaped
    // exception INTERNALERROR; the host's later middleware is not run, as no later middleware runs in the standalone app.
    await guard(ctx, () => cacheControl(ctx, () => options(ctx, () => routes(ctx, () => allowedMethods(ctx, done)))))
  }
}
