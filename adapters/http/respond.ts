/**
 * @module respond
 * Writing the envelope onto a Koa context: success, or a core AuthError through the one mapping of envelope.ts.
 */
import type { Context } from 'koa'
import type { AuthError } from '../../core/index.js'
import { okEnvelope, toHttpFailure, type HttpStatusMode } from './envelope.js'

/** Set on ctx.state so that logging and metrics can see which failure was answered. */
export interface FailureState {
  failure?: AuthError
}

export const sendOk = <T>(ctx: Context, data: T): void => {
  ctx.status = 200
  ctx.body = okEnvelope(data)
}

export const sendFailure = (ctx: Context, e: AuthError, mode: HttpStatusMode): void => {
  const f = toHttpFailure(e, mode)
  ;(ctx.state as FailureState).failure = e
  ctx.status = f.status
  // One by one: Koa's object form copies the headers into entry arrays first.
  for (const name in f.headers) ctx.set(name, f.headers[name]!)
  ctx.body = f.body
}
