/**
 * @module session
 * The consumer session and its token claims (docs/behaviour.md, the token): built from the authenticated subject, the unit, the clock
 * and a new id; and parsed back from a verified token's payload into a typed session.
 */
import * as E from 'fp-ts/lib/Either.js'
import { isPlainObject } from './codec.js'
import { authError, type AuthError } from './errors.js'
import { MAX_PARAMETER_LENGTH } from './request.js'

/** A session lives two hours from issue, used or not. */
export const SESSION_LIFETIME_SECONDS = 7200
/** Clock skew tolerated when checking `exp` on verification (docs/behaviour.md, the token: verification). */
export const EXPIRY_TOLERANCE_SECONDS = 30

export type ClaimTimes = 'number' | 'string'

/** Who a session is for: the consumer, and the user and organisation it runs as. */
export interface SessionSubject {
  readonly contactInformationId: string
  readonly accountsReceivableId: string
  readonly username: string
  readonly organisation: string
}

export interface ConsumerSession extends SessionSubject {
  readonly unit: string
  readonly sessionId: string
  readonly issuedAt: number
  readonly expiresAt: number
}

/** The token payload, in the order of CRM.COM's documented example. */
export interface SessionClaims {
  readonly cii: string
  readonly usr: string
  readonly org: string
  readonly ari: string
  readonly oun: string
  readonly exp: number | string
  readonly iat: number | string
  readonly jti: string
}

export const SESSION_ID = /^[0-9A-F]{32}$/

export const newSession = (subject: SessionSubject, unit: string, nowSeconds: number, sessionId: string): ConsumerSession => ({
  contactInformationId: subject.contactInformationId,
  accountsReceivableId: subject.accountsReceivableId,
  username: subject.username,
  organisation: subject.organisation,
  unit,
  sessionId,
  issuedAt: nowSeconds,
  expiresAt: nowSeconds + SESSION_LIFETIME_SECONDS,
})

export const buildClaims = (s: ConsumerSession, times: ClaimTimes = 'number'): SessionClaims => {
  const time = times === 'string' ? String : (n: number) => n
  return {
    cii: s.contactInformationId,
    usr: s.username,
    org: s.organisation,
    ari: s.accountsReceivableId,
    oun: s.unit,
    exp: time(s.expiresAt),
    iat: time(s.issuedAt),
    jti: s.sessionId,
  }
}

const invalid = (why: string): AuthError => authError('INVALIDTOKEN', `The session token is not valid: ${why}`, ['token'])

const text = (p: Record<string, unknown>, name: string): string | undefined => {
  const v = p[name]
  return typeof v === 'string' && v.trim() !== '' && v.length <= MAX_PARAMETER_LENGTH ? v : undefined
}

/** A time claim as a JSON number or a string of digits (the documented example's form). */
const seconds = (p: Record<string, unknown>, name: string): number | undefined => {
  const v = p[name]
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : NaN
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/** The claims a session token carries: these eight, no more (a claim we did not write means we did not sign it). */
const CLAIM_NAMES: ReadonlySet<string> = new Set(['cii', 'usr', 'org', 'ari', 'oun', 'iat', 'exp', 'jti'])

/** Claims parsed back into a session; only shapes are checked here, time is checked by the verify use case. */
export const parseClaims = (payload: unknown): E.Either<AuthError, ConsumerSession> => {
  if (!isPlainObject(payload)) return E.left(invalid('the payload is not a JSON object'))
  const p = payload
  // Missing claims are named below; here only claims beyond the eight are refused.
  for (const name in p) {
    if (!CLAIM_NAMES.has(name)) return E.left(invalid('the payload must carry exactly the claims cii, usr, org, ari, oun, iat, exp, jti'))
  }
  const [cii, usr, org, ari, oun] = (['cii', 'usr', 'org', 'ari', 'oun'] as const).map((n) => text(p, n))
  const jti = p['jti']
  const iat = seconds(p, 'iat')
  const exp = seconds(p, 'exp')
  if (!cii || !usr || !org || !ari || !oun) return E.left(invalid('a claim of cii, usr, org, ari, oun is missing or not a string'))
  if (typeof jti !== 'string' || !SESSION_ID.test(jti)) return E.left(invalid('jti is not 32 upper-case hexadecimal characters'))
  if (iat === undefined || exp === undefined) return E.left(invalid('iat or exp is not a time in seconds'))
  if (exp - iat !== SESSION_LIFETIME_SECONDS) return E.left(invalid(`exp is not iat + ${SESSION_LIFETIME_SECONDS}`))
  return E.right({
    contactInformationId: cii,
    accountsReceivableId: ari,
    username: usr,
    organisation: org,
    unit: oun,
    sessionId: jti,
    issuedAt: iat,
    expiresAt: exp,
  })
}
