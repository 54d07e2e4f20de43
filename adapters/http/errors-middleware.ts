/**
 * @module errors-middleware
 * The outermost guard: an unknown route gets the 404 envelope, a method the route does not serve gets 405, and any
 * exception that escapes becomes INTERNALERROR with a correlation id that is logged, never the exception itself.
 */
import { randomUUID } from 'node:crypto'
import type { Context, Middleware } from 'koa'
import { authError } from '../../core/index.js'
import type { HttpStatusMode } from './envelope.js'
import { bounded, loggedPath, type RequestIdState } from './request-log.js'
import { sendFailure } from './respond.js'

export interface ErrorLogger {
  error(obj: object, msg: string): void
}

/**
 * After the routes: an answer no route gave becomes the envelope of what is there (404, or 405 with Allow).
 */
export const answerUnrouted = (ctx: Context, mode: HttpStatusMode): void => {
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
}

/** An exception that escaped: logged with a correlation id, answered INTERNALERROR with that id and nothing else. */
export const answerInternalError = (ctx: Context, err: unknown, mode: HttpStatusMode, log: ErrorLogger): void => {
  const correlationId = randomUUID()
  const reqId = (ctx.state as RequestIdState).requestId
  log.error({ err, correlationId, reqId, method: ctx.method, ...loggedPath(ctx.path) }, 'unexpected error while handling a request')
  sendFailure(ctx, authError('INTERNALERROR', `An internal error occurred; correlation id ${correlationId}`), mode)
}

/** The guard as a middleware of its own (the embedded Web API; the standalone app's edge does the same). */
export const errorsMiddleware = (mode: HttpStatusMode, log: ErrorLogger): Middleware => async (ctx, next) => {
  try {
    await next()
    answerUnrouted(ctx, mode)
  } catch (err) {
    answerInternalError(ctx, err, mode, log)
  }
}
