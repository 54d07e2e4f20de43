/**
 * @module memory-store
 * The Store in memory: for tests and for embedding without a database. Behaves as the SQL stores do; the store
 * contract suite holds it to that.
 */
import {
  afterClaim, afterGiveBack, sessionRevocationCheck, type CounterClaim, type SessionRecord, type AccessToken, type AccessTokenState, type AuditEvent, type Consumer, type IdentityLink,
  type IdentityProvider, type KeyStatus, type Organisation, type Unit, type User,
} from '../../../core/index.js'
import { aggregationBucket } from '../audit-buckets.js'
import { auditMatches, recordOf, summaryOf } from '../operations.js'
import type { AttemptCount, AuditQuery, Store, StoredAuditEvent, StoredKey } from '../store.js'

const k2 = (a: string, b: string) => `${a}\u0000${b}`
const k3 = (a: string, b: string, c: string) => `${a}\u0000${b}\u0000${c}`
const inOrganisation = <T extends { organisation: string }>(organisation?: string) => (x: T) =>
  organisation === undefined || x.organisation === organisation

interface Tables {
  organisations: Map<string, Organisation>
  units: Map<string, Unit>
  users: Map<string, User>
  keys: Map<string, StoredKey>
  consumers: Map<string, Consumer>
  accessTokens: Map<string, AccessToken>
  providers: Map<string, IdentityProvider>
  links: Map<string, IdentityLink>
  attempts: Map<string, AttemptCount>
  audit: StoredAuditEvent[]
  /** The aggregation bucket of each aggregated row (audit-buckets.ts) and its row's id. */
  buckets: Map<string, number>
  /** Ids keep increasing after pruning. */
  nextAuditId: number
}

const emptyTables = (): Tables => ({
  organisations: new Map(), units: new Map(), users: new Map(), keys: new Map(), consumers: new Map(),
  accessTokens: new Map(), providers: new Map(), links: new Map(), attempts: new Map(), audit: [], buckets: new Map(), nextAuditId: 1,
})

const copyTables = (t: Tables): Tables => ({
  organisations: new Map(t.organisations), units: new Map(t.units), users: new Map(t.users), keys: new Map(t.keys),
  consumers: new Map(t.consumers), accessTokens: new Map(t.accessTokens), providers: new Map(t.providers),
  links: new Map(t.links), attempts: new Map(t.attempts), audit: [...t.audit], buckets: new Map(t.buckets), nextAuditId: t.nextAuditId,
})

export class MemoryStore implements Store {
  private t: Tables = emptyTables()
  /** Set to make every operation fail, as a store that is down would. */
  unavailable = false

  private async op<T>(f: () => T): Promise<T> {
    if (this.unavailable) throw new Error('memory store is unavailable')
    return f()
  }

  findOrganisation = (id: string) => this.op(() => this.t.organisations.get(id))
  findUser = (organisation: string, username: string) => this.op(() => this.t.users.get(k2(organisation, username)))
  findKeyByDigest = (digest: string) => this.op(() => this.t.keys.get(digest))
  // Typed, not inferred: an inferred `user?: undefined` breaks consumers built with exactOptionalPropertyTypes.
  findKeyWithUser = (digest: string): Promise<{ readonly key: StoredKey; readonly user?: User } | undefined> =>
    this.op(() => {
      const key = this.t.keys.get(digest)
      const user = key && this.t.users.get(k2(key.organisation, key.user))
      return key && (user ? { key, user } : { key })
    })
  findByAuthenticationCode = (codeDigest: string, organisation?: string) =>
    this.op(() => [...this.t.accessTokens.values()].filter((a) => a.authenticationCodeDigest === codeDigest && inOrganisation(organisation)(a)))
  findByIdentifier = (organisation: string, identifier: string) =>
    this.op(() => [...this.t.accessTokens.values()].find((a) => a.organisation === organisation && a.identifier === identifier))
  findConsumer = (issuer: string, subject: string, organisation: string) =>
    this.op(() => {
      const link = this.t.links.get(k3(issuer, subject, organisation))
      return link && this.t.consumers.get(k2(organisation, link.accountsReceivableId))
    })

  record = (event: AuditEvent) =>
    this.op(() => {
      const bucket = aggregationBucket(event)
      const id = bucket === undefined ? undefined : this.t.buckets.get(bucket)
      const i = id === undefined ? -1 : this.t.audit.findIndex((e) => e.id === id)
      const row = this.t.audit[i]
      if (row) {
        this.t.audit[i] = { ...row, count: row.count + 1, lastAt: Math.max(row.lastAt, event.at) }
        return
      }
      const next = this.t.nextAuditId++
      if (bucket !== undefined) this.t.buckets.set(bucket, next)
      this.t.audit.push({ id: next, event, count: 1, lastAt: event.at })
    })
  listAuditEvents = (sinceId = 0) => this.op(() => this.t.audit.filter((e) => e.id > sinceId))

  sessionRecord = (sessionId: string) =>
    this.op((): SessionRecord | undefined => {
      const issued = this.t.audit.find((e) => e.event.type === 'issued' && e.event.sessionId === sessionId)?.event
      if (issued?.type !== 'issued') return undefined
      const released = this.t.audit.some((e) => e.event.type === 'released' && e.event.sessionId === sessionId)
      return recordOf(issued, released)
    })
  isRevoked = sessionRevocationCheck({ ledger: this, keys: this, accessTokens: this }).isRevoked

  listSessions = (organisation: string, accountsReceivableId: string, nowSeconds: number) =>
    this.op(() => {
      const released = new Set(this.t.audit.flatMap((e) => (e.event.type === 'released' ? [e.event.sessionId] : [])))
      return this.t.audit
        .flatMap((e) => (e.event.type === 'issued' ? [e.event] : []))
        .filter((e) => e.organisation === organisation && e.accountsReceivableId === accountsReceivableId && e.expiresAt > nowSeconds)
        .reverse()
        .map((e) => summaryOf(e, released.has(e.sessionId)))
    })
  listAttemptCounts = () => this.op(() => [...this.t.attempts.values()].sort((a, b) => a.subject.localeCompare(b.subject)))
  queryAuditEvents = (q: AuditQuery) => this.op(() => [...this.t.audit].reverse().filter(auditMatches(q)).slice(0, q.limit))

  upsertOrganisation = (o: Organisation) => this.op(() => void this.t.organisations.set(o.id, o))
  upsertUnit = (u: Unit) => this.op(() => void this.t.units.set(k2(u.organisation, u.id), u))
  upsertUser = (u: User) => this.op(() => void this.t.users.set(k2(u.organisation, u.username), u))
  upsertKey = (k: StoredKey) => this.op(() => void this.t.keys.set(k.digest, k))
  setKeyStatus = (digest: string, status: KeyStatus) =>
    this.op(() => {
      const k = this.t.keys.get(digest)
      if (k) this.t.keys.set(digest, { ...k, status })
      return k !== undefined
    })
  upsertConsumer = (c: Consumer) => this.op(() => void this.t.consumers.set(k2(c.organisation, c.accountsReceivableId), c))
  upsertAccessToken = (a: AccessToken) => this.op(() => void this.t.accessTokens.set(a.id, a))
  setAccessTokenState = (id: string, state: AccessTokenState) =>
    this.op(() => {
      const a = this.t.accessTokens.get(id)
      if (a) this.t.accessTokens.set(id, { ...a, state })
      return a !== undefined
    })
  upsertIdentityProvider = (p: IdentityProvider) => this.op(() => void this.t.providers.set(p.issuer, p))
  upsertIdentityLink = (l: IdentityLink) => this.op(() => void this.t.links.set(k3(l.issuer, l.subject, l.organisation), l))

  listOrganisations = () => this.op(() => [...this.t.organisations.values()])
  listUnits = (organisation?: string) => this.op(() => [...this.t.units.values()].filter(inOrganisation(organisation)))
  listUsers = (organisation?: string) => this.op(() => [...this.t.users.values()].filter(inOrganisation(organisation)))
  listKeys = (organisation?: string) => this.op(() => [...this.t.keys.values()].filter(inOrganisation(organisation)))
  listConsumers = (organisation?: string) => this.op(() => [...this.t.consumers.values()].filter(inOrganisation(organisation)))
  listAccessTokens = (organisation?: string) => this.op(() => [...this.t.accessTokens.values()].filter(inOrganisation(organisation)))
  listIdentityProviders = () => this.op(() => [...this.t.providers.values()])
  listIdentityLinks = (organisation?: string) => this.op(() => [...this.t.links.values()].filter(inOrganisation(organisation)))
  findConsumerByAccountsReceivable = (organisation: string, accountsReceivableId: string) =>
    this.op(() => this.t.consumers.get(k2(organisation, accountsReceivableId)))
  findAccessToken = (id: string) => this.op(() => this.t.accessTokens.get(id))

  getAttempts = (subject: string) => this.op(() => this.t.attempts.get(subject))
  // The rules of the claim are the core's (afterClaim, afterGiveBack); one synchronous step is atomic here.
  claimAttempt = (subject: string, claim: CounterClaim) =>
    this.op(() => {
      const next = afterClaim(this.t.attempts.get(subject), claim)
      if (next === undefined) return undefined
      const row = { subject, ...next }
      this.t.attempts.set(subject, row)
      return row
    })
  giveBackAttempt = (subject: string, windowStart: number) =>
    this.op(() => {
      const next = afterGiveBack(this.t.attempts.get(subject), windowStart)
      if (next === undefined) this.t.attempts.delete(subject)
      else this.t.attempts.set(subject, { subject, ...next })
    })
  clearAttempts = (subject: string) => this.op(() => void this.t.attempts.delete(subject))

  /** All or nothing: work runs against the live tables, which are put back as they were if it fails. */
  async transaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    const before = copyTables(this.t)
    try {
      return await work(this)
    } catch (e) {
      this.t = before
      throw e
    }
  }

  pruneAuditEvents = (before: number, now: number, limit: number) =>
    this.op(() => {
      const doomed = new Set(
        this.t.audit
          .filter((e) => e.event.at < before && !((e.event.type === 'issued' || e.event.type === 'released') && e.event.expiresAt > now))
          .sort((a, b) => a.event.at - b.event.at)
          .slice(0, limit)
          .map((e) => e.id),
      )
      this.t.audit = this.t.audit.filter((e) => !doomed.has(e.id))
      for (const [bucket, id] of this.t.buckets) if (doomed.has(id)) this.t.buckets.delete(bucket)
      return doomed.size
    })
  pruneAttemptCounters = (windowStart: number, limit: number) =>
    this.op(() => {
      let deleted = 0
      for (const [subject, c] of this.t.attempts) {
        if (deleted >= limit) break
        if (c.windowStart <= windowStart) {
          this.t.attempts.delete(subject)
          deleted++
        }
      }
      return deleted
    })
  checkWritable = () => this.op(() => undefined)

  ping = () => this.op(() => undefined)
  close = async () => undefined
}
