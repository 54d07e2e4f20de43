/**
 * Accepting consumer-auth session tokens in a Koa service, from `consumer-auth/verify` (it loads no database driver,
 * logger or container). GET /me answers the session's consumer; a missing, forged or expired token answers 401
 * INVALIDTOKEN in the CRM.COM envelope. Keys: consumer-auth's secrets file (HS256) or its JWKS URL (ES256/EdDSA);
 * with `db`, sessions whose key or access token was revoked since are refused too.
 */
import { Router } from '@koa/router'
import Koa from 'koa'
import { createSessionVerifier, databaseRevocationCheck, type SessionKeySource, type SessionState } from 'consumer-auth/verify'

export const acceptTokensApp = async (keys: SessionKeySource, db?: string): Promise<{ app: Koa; close(): Promise<void> }> => {
  const revocation = db === undefined ? undefined : databaseRevocationCheck(db)
  const sessions = await createSessionVerifier({ ...keys, ...(revocation ? { revocation, revocationCacheSeconds: 0 } : {}) })
  const router = new Router()
  router.get('/me', sessions.middleware(), (ctx) => {
    const { organisation, accountsReceivableId } = (ctx.state as SessionState).session!
    ctx.body = { organisation, accountsReceivableId }
  })
  const app = new Koa()
  app.use(router.routes())
  return { app, close: async () => revocation?.close() }
}
