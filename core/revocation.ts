/**
 * @module revocation
 * The one rule that says whether a session, once issued, is still honoured: it was not released (logged out), the
 * key that created it is still active and still a consumer application key, and the access token behind it is still
 * effective. `revocationOf` is the rule, pure, over a small record (SessionStanding); `sessionRevocationCheck` reads
 * that record through the store's ports and answers the RevocationCheck port that verifySessionToken composes.
 */
import type { KeyStore, RevocationCheck } from './ports.js'
import { isAccessTokenUsable, type AccessToken, type WebApiKey } from './model.js'

/** What the audit log knows of a session: whose it is, what produced it, and whether it was released since. */
export interface SessionRecord {
  readonly organisation: string
  readonly accountsReceivableId: string
  readonly expiresAt: number
  readonly keyDigest?: string
  readonly accessTokenId?: string
  readonly released: boolean
}

/** The session's record with the key and access token behind it as they are now. */
export interface SessionStanding {
  readonly released: boolean
  /** Absent when no key created the session (keyless modes); null when that key no longer exists. */
  readonly key?: Pick<WebApiKey, 'status' | 'classification'> | null
  /** Absent when no access token was used (identity-provider mode); null when it no longer exists. */
  readonly accessToken?: AccessToken | null
}

/** Why a session is refused. */
export type RevocationReason = 'unknown' | 'released' | 'key' | 'access_token'

/**
 * What is checked: `release` only the explicit act of releasing (the service's own session route always checks it);
 * `all` also the key and access token behind the session, and refuses sessions the audit log does not know.
 */
export type RevocationScope = 'release' | 'all'

/** The rule itself: undefined when the session stands, else the first reason it does not. */
export const revocationOf = (
  standing: SessionStanding | undefined,
  nowSeconds: number,
  scope: RevocationScope = 'all',
): RevocationReason | undefined => {
  // A session the log does not know (issued by another deployment, or its event is past retention) was never
  // released here; only the full check refuses it, since nothing vouches for its key and access token.
  if (standing === undefined) return scope === 'all' ? 'unknown' : undefined
  if (standing.released) return 'released'
  if (scope === 'release') return undefined
  const { key, accessToken } = standing
  if (key !== undefined && (key === null || key.status !== 'ACTIVE' || key.classification !== 'CONSUMER_APPLICATION_KEY')) return 'key'
  if (accessToken !== undefined && (accessToken === null || !isAccessTokenUsable(accessToken, nowSeconds))) return 'access_token'
  return undefined
}

/** The audit log's side: the record of a session (undefined when no session of that id was issued). */
export interface SessionLedger {
  sessionRecord(sessionId: string): Promise<SessionRecord | undefined>
}

export interface SessionRevocationDeps {
  readonly ledger: SessionLedger
  readonly keys: KeyStore
  readonly accessTokens: { findAccessToken(id: string): Promise<AccessToken | undefined> }
}

/** Reads a session's standing: the key and access token only when the scope looks at them. */
export const readSessionStanding = async (
  deps: SessionRevocationDeps,
  sessionId: string,
  scope: RevocationScope,
): Promise<SessionStanding | undefined> => {
  const record = await deps.ledger.sessionRecord(sessionId)
  if (record === undefined || record.released || scope === 'release') return record && { released: record.released }
  const [key, accessToken] = await Promise.all([
    record.keyDigest === undefined ? undefined : deps.keys.findKeyWithUser(record.keyDigest).then((found) => found?.key ?? null),
    record.accessTokenId === undefined ? undefined : deps.accessTokens.findAccessToken(record.accessTokenId).then((t) => t ?? null),
  ])
  return { released: false, ...(key !== undefined && { key }), ...(accessToken !== undefined && { accessToken }) }
}

/** The RevocationCheck port over the store: the rule applied to what the store answers. */
export const sessionRevocationCheck = (deps: SessionRevocationDeps, scope: RevocationScope = 'all'): RevocationCheck => ({
  isRevoked: async (sessionId, nowSeconds) => revocationOf(await readSessionStanding(deps, sessionId, scope), nowSeconds, scope) !== undefined,
})

/** Refused when either check refuses (the first one is asked first; the second only when the first lets it stand). */
export const eitherRevocation = (first: RevocationCheck, second: RevocationCheck): RevocationCheck => ({
  isRevoked: async (sessionId, nowSeconds) => (await first.isRevoked(sessionId, nowSeconds)) || second.isRevoked(sessionId, nowSeconds),
})
