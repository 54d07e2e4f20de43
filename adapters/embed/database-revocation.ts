/**
 * @module database-revocation
 * A revocation check for createSessionVerifier read straight from consumer-auth's database, given its URL: a session
 * is refused once its key is revoked or its access token is no longer effective. The URL is checked at once; the
 * store (and its driver) is opened on the first question only, never migrated (the issuer owns its schema), and a
 * failed opening is tried again on the next question, which meanwhile answers SERVICEUNAVAILABLE.
 */
import type { RevocationCheck } from '../../core/index.js'
import type { Store } from '../store/store.js'
import { openStore, storeUrl } from './open-store.js'

export interface DatabaseRevocationCheck extends RevocationCheck {
  /** Closes the database connection, if one was opened. */
  close(): Promise<void>
}

export const databaseRevocationCheck = (url: string): DatabaseRevocationCheck => {
  const parsed = storeUrl(url)
  let opening: Promise<Store> | undefined
  const store = () =>
    (opening ??= openStore(parsed, { migrate: false }).catch((e: unknown) => {
      opening = undefined
      throw e
    }))
  return {
    isRevoked: async (sessionId, nowSeconds) => (await store()).isRevoked(sessionId, nowSeconds),
    close: async () => {
      const open = opening
      opening = undefined
      if (open) await (await open.catch(() => undefined))?.close()
    },
  }
}
