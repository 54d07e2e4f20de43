/**
 * @module session-verifier
 * What a service that accepts consumer-auth session tokens needs, without the rest of consumer-auth (docs/behaviour.md, the token: verification): a
 * verifier built from the same pieces the server uses (the key ring or the published JWKS, the core's
 * verifySessionToken, the revocation cache) and the Koa middleware bound to it.
 *
 * ```ts
 * import { createSessionVerifier } from 'consumer-auth/http'
 * const sessions = await createSessionVerifier({ jwksUrl: 'https://auth.example.com/.well-known/jwks.json' })
 * router.get('/accounts_receivable/show', sessions.middleware(), (ctx) => { ctx.state.session.accountsReceivableId ... })
 * ```
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Middleware } from 'koa'
import { verifySessionToken, type AuthError, type Clock, type ConsumerSession, type RevocationCheck, type SessionVerifier } from '../../core/index.js'
import { systemClock } from '../clock/system-clock.js'
import { jwksSessionVerifier, type JwksSessionVerifierOptions } from '../crypto/jwks-session-verifier.js'
import { createKeyRing } from '../crypto/create-key-ring.js'
import { createReloadableKeyRing } from '../crypto/reloadable-key-ring.js'
import { loadSecrets } from '../crypto/load-secrets.js'
import type { Secrets } from '../crypto/secrets-codec.js'
import type { HttpStatusMode } from '../http/envelope.js'
import { consumerSession } from '../http/session-middleware.js'
import { cachedRevocationCheck } from '../store/revocation-cache.js'

/** Where the keys that verify come from: exactly one of these. */
export type SessionKeySource =
  /** The signing key ring itself (HS256 needs its secrets; for ES256/EdDSA prefer `jwksUrl`). */
  | { readonly secrets: Pick<Secrets, 'signingKeys' | 'activeKid'>; readonly secretsFile?: never; readonly jwksUrl?: never }
  /** consumer-auth's secrets file; `reload()` reads it again (after a rotation). */
  | { readonly secretsFile: string; readonly secrets?: never; readonly jwksUrl?: never }
  /** The `/.well-known/jwks.json` of a consumer-auth with an ES256 or EdDSA ring: no secret needed. */
  | { readonly jwksUrl: string | URL; readonly jwks?: JwksSessionVerifierOptions; readonly secrets?: never; readonly secretsFile?: never }

export type CreateSessionVerifierOptions = SessionKeySource & {
  /** Now, in seconds (default: the system clock). */
  readonly clock?: Clock
  /**
   * Refuse sessions that were released (logged out), or whose key was revoked or access token is no longer effective:
   * e.g. a store on consumer-auth's database. Answers are cached for `revocationCacheSeconds`.
   */
  readonly revocation?: RevocationCheck
  /** How long revocation answers are cached (default 30 s; 0 asks every time). */
  readonly revocationCacheSeconds?: number
  /** How failures are answered by the middleware (default `standard`). */
  readonly httpStatus?: HttpStatusMode
}

export interface EmbeddedSessionVerifier {
  /** The core's verify use case: the session, or INVALIDTOKEN (SERVICEUNAVAILABLE when keys or store are out of reach). */
  readonly verify: (token: unknown) => TaskEither<AuthError, ConsumerSession>
  /** The same as a Promise: `{ session }`, or `{ error }` saying why not. */
  verifyToken(token: unknown): Promise<{ readonly session: ConsumerSession } | { readonly error: AuthError }>
  /** Koa middleware: token from `token` (query, JSON body) or `Authorization: Bearer`, session on `ctx.state.session`. */
  middleware(options?: { readonly httpStatus?: HttpStatusMode }): Middleware
  /** Reads a secrets file again (a key rotation); a no-op for the other sources. Rejects, keeping the keys in use, when the file is bad. */
  reload(): Promise<void>
}

const keysFrom = async (source: SessionKeySource, clock: Clock): Promise<{ readonly verifier: SessionVerifier; readonly reload: () => Promise<void> }> => {
  const noReload = async () => undefined
  if (source.jwksUrl !== undefined) return { verifier: jwksSessionVerifier(source.jwksUrl, source.jwks, clock), reload: noReload }
  if (source.secretsFile !== undefined) {
    const file = source.secretsFile
    // `production` only means "never generate": an embedder reads the file consumer-auth wrote, it never writes one.
    const reloadable = await createReloadableKeyRing(() => loadSecrets({ file, production: true }), clock)
    return { verifier: reloadable.ring.verifier, reload: reloadable.reload }
  }
  if (source.secrets !== undefined) return { verifier: (await createKeyRing(source.secrets, clock)).verifier, reload: noReload }
  throw new TypeError('createSessionVerifier needs one of secrets, secretsFile or jwksUrl')
}

export const createSessionVerifier = async (options: CreateSessionVerifierOptions): Promise<EmbeddedSessionVerifier> => {
  const given = [options.secrets, options.secretsFile, options.jwksUrl].filter((s) => s !== undefined).length
  if (given !== 1) throw new TypeError('createSessionVerifier needs exactly one of secrets, secretsFile or jwksUrl')
  const clock = options.clock ?? systemClock
  const { verifier, reload } = await keysFrom(options, clock)
  const revocation = options.revocation && cachedRevocationCheck(options.revocation, clock, options.revocationCacheSeconds ?? 30)
  const verify = verifySessionToken({ verifier, clock, ...(revocation ? { revocation } : {}) })
  return {
    verify,
    verifyToken: async (token) => {
      const r = await verify(token)()
      return E.isRight(r) ? { session: r.right } : { error: r.left }
    },
    middleware: (mw = {}) => consumerSession({ verify, httpStatus: mw.httpStatus ?? options.httpStatus ?? 'standard' }),
    reload,
  }
}
