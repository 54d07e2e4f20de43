/**
 * @module operations
 * What every store shares in answering the operator's questions (adapters/store/store.ts `Operations`): a session's record
 * and summary from its 'issued' event, and the meaning of the audit filters (the memory store applies them here; the
 * SQL store says the same in SQL, and the store contract holds both to it).
 */
import type { AuditEvent, SessionRecord } from '../../core/index.js'
import type { AuditQuery, SessionSummary, StoredAuditEvent } from './store.js'

export type Issued = Extract<AuditEvent, { type: 'issued' }>

export const recordOf = (issued: Issued, released: boolean): SessionRecord => ({
  organisation: issued.organisation,
  accountsReceivableId: issued.accountsReceivableId,
  expiresAt: issued.expiresAt,
  ...(issued.keyDigest !== undefined && { keyDigest: issued.keyDigest }),
  ...(issued.accessTokenId !== undefined && { accessTokenId: issued.accessTokenId }),
  released,
})

export const summaryOf = (issued: Issued, released: boolean): SessionSummary => ({
  sessionId: issued.sessionId,
  issuedAt: issued.at,
  expiresAt: issued.expiresAt,
  mode: issued.mode,
  organisation: issued.organisation,
  accountsReceivableId: issued.accountsReceivableId,
  ...(issued.keyPrefix !== undefined && { keyPrefix: issued.keyPrefix }),
  released,
})

/** The consumer an event concerns, when it names one ('failed' and 'locked_out' events do not). */
const consumerOf = (e: AuditEvent): string | undefined =>
  e.type === 'issued' || e.type === 'released' ? e.accountsReceivableId : undefined

const organisationOf = (e: AuditEvent): string | undefined =>
  e.type === 'issued' || e.type === 'released' || e.type === 'failed' ? e.organisation : undefined

const keyPrefixOf = (e: AuditEvent): string | undefined => (e.type === 'issued' || e.type === 'failed' ? e.keyPrefix : undefined)

export const auditMatches =
  (q: AuditQuery) =>
  ({ id, event }: StoredAuditEvent): boolean =>
    (q.beforeId === undefined || id < q.beforeId) &&
    (q.since === undefined || event.at >= q.since) &&
    (q.until === undefined || event.at < q.until) &&
    (q.types === undefined || q.types.includes(event.type)) &&
    (q.organisation === undefined || organisationOf(event) === q.organisation) &&
    (q.accountsReceivableId === undefined || consumerOf(event) === q.accountsReceivableId) &&
    (q.keyPrefix === undefined || keyPrefixOf(event) === q.keyPrefix)
