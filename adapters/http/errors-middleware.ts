/**
 * @module errors-middleware
 * The outermost guard: an unknown route gets the 404 envelope, a method the route does not serve gets 405, and any
 * exception that escapes becomes INTERNALERROR with a correlation id that is logged, never the exception itself.
 */
import { randomUUID } from 'node:crypto'
import type { Middleware } from 'koa'
import { authError } from '../../core/index.js'
import type { HttpStatusMode } from './envelope.js'
import { bounded, loggedPath, type RequestIdState } from './request-log.js'
import { sendFailure } from './respond.js'

export interface ErrorLogger {
  error(obj: object, msg: string): void
}

export const errorsMiddleware = (mode: HttpStatusMode, log: ErrorLogger): Middleware => async (ctx, next) => {
  try {
    await next()
    if (ctx.body !== undefined) return
    if (ctx.status === 404) {
      sendFailure(ctx, authError('METHODNOTAVAILABLE', `There is no method at ${ctx.method} ${bounded(ctx.path)}`), mode)
    } else if ((ctx.status === 405 || ctx.status === 501) && ctx.response.get('Allow') === '') {
      // A method no route serves, on a path no route has: nothing is there, whatever the method.
      ctx.remove('Allow')
      sendFailure(ctx, authError('METHODNOTAVAILABLE', `There is no method at ${ctx.method} ${bounded(ctx.path)}`), mode)
    } else if (ctx.status === 405 || ctx.status === 501) {
      // The router's allowedMethods() set the status and the Allow header; the envelope says the same.
      const allow = ctx.response.get('Allow')
      sendFailure(ctx, authError('METHODNOTALLOWED', `${ctx.method} is not allowed on ${bounded(ctx.path)}${allow ? `; use ${allow}` : ''}`), mode)
    }
  } catch (err) {
    const correlationId = randomUUID()
    const reqId = (ctx.state as RequestIdState).requestId
    log.error({ err, correlationId, reqId, method: ctx.method, ...loggedPath(ctx.path) }, 'unexpected error while handling a request')
    sendFailure(ctx, authError('INTERNALERROR', `An internal error occurred; correlation id ${correlationId}`), mode)
  }
}
