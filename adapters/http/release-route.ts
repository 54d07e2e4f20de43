/**
 * @module release-route
 * POST {base}/authentication/token/release (logout, after CRM.COM's method of that name): the session token from
 * the JSON body's `token` or `Authorization: Bearer` (the query too, as on the session route); the OK envelope with
 * no data, or 401 INVALIDTOKEN for a token that is not valid or has expired. Releasing twice answers OK twice.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Middleware } from 'koa'
import type { AuthError, ConsumerSession, ReleaseRequest } from '../../core/index.js'
import type { HttpStatusMode } from './envelope.js'
import { sendFailure, sendOk } from './respond.js'
import { requestToken } from './session-middleware.js'

export const RELEASE_PATH = '/authentication/token/release'

export interface ReleaseRouteDeps {
  readonly httpStatus: HttpStatusMode
  readonly releaseSession: (request: ReleaseRequest) => TaskEither<AuthError, ConsumerSession>
}

export const releaseRoute = (deps: ReleaseRouteDeps): Middleware => async (ctx) => {
  const token = await requestToken(ctx)
  if (E.isLeft(token)) return sendFailure(ctx, token.left, deps.httpStatus)
  const released = await deps.releaseSession({ token: token.right, clientAddress: ctx.ip })()
  if (E.isLeft(released)) return sendFailure(ctx, released.left, deps.httpStatus)
  ctx.set('Cache-Control', 'no-store')
  sendOk(ctx, null)
}
