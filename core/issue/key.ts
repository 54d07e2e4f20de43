/**
 * @module issue/key
 * The application key of the keyed modes: read first, and only a usable key (ACTIVE, a consumer application key,
 * its user present) goes on to become a throttling subject. A key that does not exist, is revoked or is not a
 * consumer application key is refused on that one read and counted against nothing: its requests cannot check any
 * credential, so there is nothing to throttle, and counting them would give every random key a counter row of its
 * own (a store-filling flood) and make each of these failures cost a write.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from '../task-either.js'
import { keySubject, type AttemptSubject } from '../lockout.js'
import { keyPrefix, type User, type WebApiKey } from '../model.js'
import { INVALID_KEY, step, type AttemptContext, type Failure, type IssueDeps } from './attempt.js'

export interface UsableKey {
  readonly key: WebApiKey
  readonly user: User
  /** The key's throttling subject (by digest). */
  readonly subject: AttemptSubject
  /** The key's prefix and organisation, for the audit. */
  readonly context: AttemptContext
}

/** The key must be ACTIVE and a consumer application key. */
const isUsableKey = (k: WebApiKey): boolean => k.status === 'ACTIVE' && k.classification === 'CONSUMER_APPLICATION_KEY'

interface Found {
  readonly key: WebApiKey
  readonly user: User
}

/** A key whose user does not exist is as good as none. */
const isUsable = (found: { readonly key: WebApiKey; readonly user?: User } | undefined): found is Found =>
  found !== undefined && isUsableKey(found.key) && found.user !== undefined

export const authenticateKey = (deps: IssueDeps, key: string): TE.TaskEither<Failure, UsableKey> => {
  const keyDigest = deps.digest.digest(key)
  const context: AttemptContext = { keyPrefix: keyPrefix(key), claims: [] }
  // The key and its user, read in one look-up, with the failure's context from the start (a step fewer).
  return pipe(
    step(context, () => deps.keys.findKeyWithUser(keyDigest)),
    TE.filterOrElse(isUsable, (): Failure => ({ error: INVALID_KEY, context })),
    TE.map(({ key: k, user }) => ({ key: k, user, subject: keySubject(keyDigest), context: { ...context, organisation: k.organisation } })),
  )
}
