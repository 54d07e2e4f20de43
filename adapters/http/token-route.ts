/**
 * @module token-route
 * POST {base}/authentication/consumer_application_key/token: read the key (Basic) and the bounded JSON body, hand
 * them to the issue use case, answer the envelope.
 */
import type { IncomingMessage } from 'node:http'
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

/**
 * The Authorization header as sent: node:http keeps only the first of several in `headers` (it drops the others), so
 * a second one would pass unseen; all of them are handed over then, and readBasicAuth refuses more than one. Counted
 * in `rawHeaders`: `headersDistinct` would build an array for every header of the request, on every request.
 */
const authorizationHeaders = (req: IncomingMessage): string | string[] | undefined => {
  const raw = req.rawHeaders
  let all: string[] | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 13 && name.toLowerCase() === 'authorization') (all ??= []).push(raw[i + 1]!)
  }
  return all !== undefined && all.length > 1 ? all : req.headers.authorization
}

export const tokenRoute = (deps: TokenRouteDeps): Middleware => {
  const unavailable = releaseOffer(deps.release).methodAvailable ? undefined : methodNotAvailable(deps.release)
  return async (ctx) => {
    if (unavailable) return sendFailure(ctx, unavailable, deps.httpStatus)
    const body = await readJsonBody(ctx.req)
    if (E.isLeft(body)) return sendFailure(ctx, body.left, deps.httpStatus)
    const result = await deps.issue({ body: body.right, key: readBasicAuth(authorizationHeaders(ctx.req)), clientAddress: ctx.ip })()
    if (E.isLeft(result)) return sendFailure(ctx, result.left, deps.httpStatus)
    ;(ctx.state as IssuedState).issued = result.right
    sendOk(ctx, { token: result.right.token })
  }
}
