/**
 * @module session-middleware
 * For the services that accept session tokens (docs/behaviour.md, the token: verification): takes the token from the `token` query parameter, the
 * `token` field of a JSON body, or `Authorization: Bearer`; puts the verified ConsumerSession on
 * `ctx.state.session`, or answers 401 INVALIDTOKEN in the envelope.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Context, Middleware } from 'koa'
import { isPlainObject } from '../../core/codec.js'
import { authError, type AuthError, type ConsumerSession } from '../../core/index.js'
import type { HttpStatusMode } from './envelope.js'
import { hasRequestBody, isJsonContentType, readJsonBody } from './json-body.js'
import { sendFailure } from './respond.js'

export interface SessionState {
  session?: ConsumerSession
}

export interface SessionMiddlewareOptions {
  /** The verify use case: `verifySessionToken(deps)` from the core. */
  readonly verify: (token: unknown) => TaskEither<AuthError, ConsumerSession>
  readonly httpStatus?: HttpStatusMode
}

const bearer = (header: string | undefined): string | undefined => {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m ? m[1] : undefined
}

/** The `token` member of a parsed JSON body, if the body is an object. */
const tokenOf = (body: unknown): unknown =>
  isPlainObject(body) ? body['token'] : undefined

/**
 * A JSON body's `token`: from a body parser that ran before us, or read here (at most 16 KiB) and left for those after
 * us. CRM.COM clients send it in the body of a POST; a GET that does carry a JSON body is read the same way, so that
 * every route behind this middleware (the session route is a GET) takes the token by all three carriers.
 */
const readBodyToken = async (ctx: Context, request: { body?: unknown }): Promise<E.Either<AuthError, unknown>> => {
  const read = await readJsonBody(ctx.req)
  if (E.isLeft(read)) return read
  request.body = read.right
  return E.right(tokenOf(read.right))
}

const TWICE = authError('INVALIDTOKEN', 'The session token is not valid: token is given more than once', ['token'])
const NONE = authError('INVALIDTOKEN', 'No session token: give token (query or JSON body) or Authorization: Bearer', ['token'])

const found = (token: unknown): E.Either<AuthError, unknown> => (token === undefined ? E.left(NONE) : E.right(token))
const bodyOf = (ctx: Context) => ctx.request as typeof ctx.request & { body?: unknown }

/**
 * The token, when it can be had without reading the body: `token` in the query, `token` of a body a parser already
 * read, or `Authorization: Bearer`, in that order; 'body' when a JSON body is still to be read for it. Nothing is
 * parsed that the request does not carry (no query string: no query parse).
 */
const tokenWithoutReading = (ctx: Context): E.Either<AuthError, unknown> | 'body' => {
  const query: unknown = ctx.querystring === '' ? undefined : ctx.query['token']
  if (Array.isArray(query)) return E.left(TWICE)
  if (query !== undefined) return E.right(query)
  const request = bodyOf(ctx)
  if (request.body === undefined && ctx.method !== 'HEAD' && hasRequestBody(ctx.req) && isJsonContentType(ctx.get('content-type'))) return 'body'
  return found(tokenOf(request.body) ?? bearer(ctx.get('authorization') || undefined))
}

const tokenAfterReading = async (ctx: Context): Promise<E.Either<AuthError, unknown>> => {
  const fromBody = await readBodyToken(ctx, bodyOf(ctx))
  return E.isLeft(fromBody) ? fromBody : found(fromBody.right ?? bearer(ctx.get('authorization') || undefined))
}

/** The token a request carries: `token` in the query, `token` of a JSON body, or `Authorization: Bearer`, in that order. */
export const requestToken = async (ctx: Context): Promise<E.Either<AuthError, unknown>> => {
  const token = tokenWithoutReading(ctx)
  return token === 'body' ? tokenAfterReading(ctx) : token
}

export const consumerSession = (options: SessionMiddlewareOptions): Middleware => {
  const mode = options.httpStatus ?? 'standard'
  const { verify } = options
  // Every request of a service that accepts the tokens passes here: nothing is awaited that the request does not
  // carry (no body: straight to the Authorization header), and the verification is the only await before `next`.
  return async (ctx, next) => {
    const carried = tokenWithoutReading(ctx)
    const token = carried === 'body' ? await tokenAfterReading(ctx) : carried
    if (E.isLeft(token)) return sendFailure(ctx, token.left, mode)
    const session = await verify(token.right)()
    if (E.isLeft(session)) return sendFailure(ctx, session.left, mode)
    ;(ctx.state as SessionState).session = session.right
    await next()
  }
}
