/**
 * @module errors-middleware
 * The outermost guard: an unknown route gets the 404 envelope, a method the route does not serve gets 405, and any
 * exception that escapes becomes INTERNALERROR with a correlation id that is logged, never the exception itself.
 */
import { randomUUID } from 'node:crypto'
import type { Middleware } from 'koa'
import { authError } from '../../core/index.js'
import type { HttpStatusMode } from './envelope.js'
import { sendFailure } from './respond.js'

export interface ErrorLogger {
  error(obj: object, msg: string): void
}

export const errorsMiddleware = (mode: HttpStatusMode, log: ErrorLogger): Middleware => async (ctx, next) => {
  try {
    await next()
    if (ctx.body === undefined && ctx.status === 404) {
      sendFailure(ctx, authError('METHODNOTAVAILABLE', `There is no method at ${ctx.method} ${ctx.path}`), mode)
    }
  } catch (err) {
    const status = (err as { status?: unknown }).status
    if (status === 405 || status === 501) {
      const allow = (err as { headers?: Record<string, string> }).headers?.['Allow'] ?? ctx.response.get('Allow')
      sendFailure(ctx, authError('METHODNOTALLOWED', `${ctx.method} is not allowed on ${ctx.path}${allow ? `; use ${allow}` : ''}`), mode)
      if (allow) ctx.set('Allow', allow)
      return
    }
    const correlationId = randomUUID()
    log.error({ err, correlationId }, 'unexpected error while handling a request')
    sendFailure(ctx, authError('INTERNALERROR', `An internal error occurred; correlation id ${correlationId}`), mode)
  }
}
