// Shared fixture for the issue-session-token use-case tests: a MemoryStore seeded with two organisations, and pure
// test instances of the other ports (the test clock and fake digest of test/support/doubles.ts, sequential ids, a
// counting hasher, a JSON signer, an identity verifier that knows three JWT strings).
import * as E from 'fp-ts/lib/Either.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import {
  attemptLimiter, defaultLockoutPolicy, issueSessionToken, type LockoutPolicy, R16_2_0, type AuditEvent, type AuthError, type IdentityClaims, type IssueDeps, type IssuedToken, type PassCodeHasher,
  type Release, type SessionClaims,
} from '../../core/index.js'
import { EXAMPLE_CODE, EXAMPLE_CONSUMER, EXAMPLE_ISSUER as ISSUER, EXAMPLE_KEY as KEY } from '../support/example.js'
import { fakeDigest, testClock } from '../support/doubles.js'

export const T0 = 1_800_000_000
export const ADDRESS = '203.0.113.7'

/** The documented example's key and identity provider (test/support/example.ts). */
export { KEY }
export const REVOKED_KEY = 'REVOKED0AE64524371B5DDEFF5F7BB21'
export const SYSTEMIC_KEY = 'SYSTEMIC0E64524371B5DDEFF5F7BB21'
export const OTHER_KEY = 'OTHER0C0AE64524371B5DDEFF5F7BB21'

/** Consumers: C1 holds the documented example's code, C2 the identifier `maria`, C3 lives in the other organisation. */
export const C1 = EXAMPLE_CONSUMER
export const C2 = { organisation: 'ps_dev', contactInformationId: 'CII2', accountsReceivableId: 'ARI2' }
export const C3 = { organisation: 'other', contactInformationId: 'CII3', accountsReceivableId: 'ARI3' }

/** JWT strings the fake identity verifier accepts, and who they identify. */
const IDENTITIES: Record<string, IdentityClaims> = {
  'jwt-u42': { issuer: ISSUER, subject: 'u-42' },
  'jwt-unlinked': { issuer: ISSUER, subject: 'u-99' },
  'jwt-other': { issuer: ISSUER, subject: 'u-other' },
}

export interface CountingHasher extends PassCodeHasher {
  readonly calls: { verify: number; verifyDummy: number }
}

const countingHasher = (): CountingHasher => {
  const calls = { verify: 0, verifyDummy: 0 }
  return {
    calls,
    hash: async (p) => `hash:${p}`,
    verify: async (p, h) => {
      calls.verify++
      return h === `hash:${p}`
    },
    verifyDummy: async () => {
      calls.verifyDummy++
      return false
    },
  }
}

const seed = async (store: MemoryStore) => {
  await store.upsertOrganisation({ id: 'ps_dev', name: 'PS Dev', consumerUser: 'ps_consumer' })
  await store.upsertOrganisation({ id: 'other', name: 'Other', consumerUser: 'other_consumer' })
  await store.upsertOrganisation({ id: 'no_user', name: 'No consumer user', consumerUser: 'ghost' })
  for (const [organisation, id] of [['ps_dev', '1'], ['ps_dev', '2'], ['ps_dev', '3'], ['other', 'A']] as const) {
    await store.upsertUnit({ organisation, id, name: `Unit ${id}` })
  }
  await store.upsertUser({ organisation: 'ps_dev', username: 'maytemplate', defaultUnit: '1', units: ['1', '2'] })
  await store.upsertUser({ organisation: 'ps_dev', username: 'ps_consumer', defaultUnit: '3', units: ['3'] })
  await store.upsertUser({ organisation: 'other', username: 'other_user', defaultUnit: 'A', units: ['A'] })
  await store.upsertUser({ organisation: 'other', username: 'other_consumer', defaultUnit: 'A', units: ['A'] })
  const key = (k: string, organisation: string, user: string, classification: 'CONSUMER_APPLICATION_KEY' | 'SYSTEMIC_KEY', status: 'ACTIVE' | 'REVOKED') =>
    store.upsertKey({ digest: fakeDigest.digest(k), prefix: k.slice(0, 6), organisation, user, classification, status, createdAt: T0 - 86_400 })
  await key(KEY, 'ps_dev', 'maytemplate', 'CONSUMER_APPLICATION_KEY', 'ACTIVE')
  await key(REVOKED_KEY, 'ps_dev', 'maytemplate', 'CONSUMER_APPLICATION_KEY', 'REVOKED')
  await key(SYSTEMIC_KEY, 'ps_dev', 'maytemplate', 'SYSTEMIC_KEY', 'ACTIVE')
  await key(OTHER_KEY, 'other', 'other_user', 'CONSUMER_APPLICATION_KEY', 'ACTIVE')
  for (const c of [C1, C2, C3]) await store.upsertConsumer(c)
  const code = (id: string, consumer: typeof C1, c: string, state: 'EFFECTIVE' | 'SUSPENDED' | 'CANCELLED' = 'EFFECTIVE', window = {}) =>
    store.upsertAccessToken({ id, organisation: consumer.organisation, consumer, authenticationCodeDigest: fakeDigest.digest(c), state, ...window })
  const ident = (id: string, consumer: typeof C1, identifier: string, pass: string, state: 'EFFECTIVE' | 'SUSPENDED' = 'EFFECTIVE') =>
    store.upsertAccessToken({ id, organisation: consumer.organisation, consumer, identifier, passCodeHash: `hash:${pass}`, state })
  await code('at-code', C1, EXAMPLE_CODE)
  await code('at-suspended', C1, 'code-suspended', 'SUSPENDED')
  await code('at-cancelled', C1, 'code-cancelled', 'CANCELLED')
  await code('at-window', C1, 'code-window', 'EFFECTIVE', { validFrom: T0 + 100, validTo: T0 + 1000 })
  await code('at-other', C3, 'code-other')
  await code('at-dup-ps', C1, 'code-dup')
  await code('at-dup-other', C3, 'code-dup')
  await ident('at-maria', C2, 'maria', '4711')
  await ident('at-nikos', C1, 'nikos', '0000')
  await ident('at-suspended-id', C2, 'sleepy', '1234', 'SUSPENDED')
  await store.upsertAccessToken({ id: 'at-ghost', organisation: 'no_user', consumer: { ...C1, organisation: 'no_user' }, authenticationCodeDigest: fakeDigest.digest('code-ghost'), state: 'EFFECTIVE' })
  await store.upsertIdentityLink({ issuer: ISSUER, subject: 'u-42', organisation: 'ps_dev', accountsReceivableId: C1.accountsReceivableId })
  await store.upsertIdentityLink({ issuer: ISSUER, subject: 'u-other', organisation: 'other', accountsReceivableId: C3.accountsReceivableId })
}

export interface FixtureOptions {
  readonly release?: Release
  readonly claimTimes?: 'number' | 'string'
  readonly policy?: LockoutPolicy
}

export const fixture = async (options: FixtureOptions = {}) => {
  const store = new MemoryStore()
  await seed(store)
  const clock = testClock(T0)
  let next = 0
  const ids = { newSessionId: () => (++next).toString(16).toUpperCase().padStart(32, '0') }
  const hasher = countingHasher()
  const deps: IssueDeps = {
    release: options.release ?? R16_2_0,
    claimTimes: options.claimTimes ?? 'number',
    clock,
    ids,
    digest: fakeDigest,
    hasher,
    directory: store,
    keys: store,
    accessTokens: store,
    identity: { verify: async (jwt) => (IDENTITIES[jwt] ? { ok: true, identity: IDENTITIES[jwt] } : { ok: false, reason: 'signature does not verify' }) },
    identityLinks: store,
    limiter: attemptLimiter(store, options.policy ?? defaultLockoutPolicy),
    signer: { sign: async (claims) => JSON.stringify(claims) },
    audit: store,
  }
  const run = issueSessionToken(deps)
  /** Issue a token: body as sent, key as the Basic auth username (absent when undefined). */
  const issue = (body: unknown, key?: string, clientAddress = ADDRESS): Promise<E.Either<AuthError, IssuedToken>> =>
    run({ body, key: key === undefined ? { _tag: 'NoKey' } : { _tag: 'Key', key }, clientAddress })()
  const audit = async (): Promise<AuditEvent[]> => (await store.listAuditEvents()).map((e) => e.event)
  return { store, clock, hasher, deps, issue, audit }
}

export const ok = (r: E.Either<AuthError, IssuedToken>): IssuedToken => {
  if (E.isLeft(r)) throw new Error(`expected a token, got ${r.left.name}: ${r.left.message}`)
  return r.right
}

export const failure = (r: E.Either<AuthError, IssuedToken>): AuthError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got a token for ${r.right.session.username}`)
  return r.left
}

export const claimsOf = (t: IssuedToken): SessionClaims => JSON.parse(t.token) as SessionClaims

export const code = (authentication_code: string, extra: Record<string, unknown> = {}) => ({ access_token_identifier: { authentication_code }, ...extra })
export const pass = (identifier: string, pass_code: string, extra: Record<string, unknown> = {}) => ({ access_token_identifier: { identifier, pass_code }, ...extra })
