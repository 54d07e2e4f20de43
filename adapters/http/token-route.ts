/**
 * @module token-route
 * POST {base}/authentication/consumer_application_key/token: read the key (Basic) and the bounded JSON body, hand
 * them to the issue use case, answer the envelope.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Middleware } from 'koa'
import { methodNotAvailable, releaseOffer, type AuthError, type IssuedToken, type IssueRequest, type Release } from '../../core/index.js'
import { readBasicAuth } from './basic-auth.js'
import type { HttpStatusMode } from './envelope.js'
import { readJsonBody } from './json-body.js'
import { sendFailure, sendOk } from './respond.js'

export const TOKEN_PATH = '/authentication/consumer_application_key/token'

export interface IssuedState {
  issued?: IssuedToken
}

export interface TokenRouteDeps {
  readonly release: Release
  readonly httpStatus: HttpStatusMode
  readonly issue: (request: IssueRequest) => TaskEither<AuthError, IssuedToken>
}

export const tokenRoute = (deps: TokenRouteDeps): Middleware => {
  const unavailable = releaseOffer(deps.release).methodAvailable ? undefined : methodNotAvailable(deps.release)
  return async (ctx) => {
    if (unavailable) return sendFailure(ctx, unavailable, deps.httpStatus)
    const body = await readJsonBody(ctx.req)
    if (E.isLeft(body)) return sendFailure(ctx, body.left, deps.httpStatus)
    const result = await deps.issue({ body: body.right, key: readBasicAuth(ctx.req.headers.authorization), clientAddress: ctx.ip })()
    if (E.isLeft(result)) return sendFailure(ctx, result.left, deps.httpStatus)
    ;(ctx.state as IssuedState).issued = result.right
    ctx.set('Cache-Control', 'no-store')
    sendOk(ctx, { token: result.right.token })
  }
}
