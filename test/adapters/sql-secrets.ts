import { createHmac } from 'node:crypto'
import type { Store } from '../../adapters/store/store.js'
import { EXAMPLE_CODE, EXAMPLE_KEY } from '../support/example.js'

/**
 * Columns that could hold a clear-text secret. Secrets reach the SQL stores only as keyed digests (`digest`,
 * `*_digest`) or scrypt hashes (`*_hash`); a column otherwise named after a key, code, pass code, password, secret
 * or token is a problem. (`prefix` holds the first characters of a key, shown in lists: not a secret.)
 */
const secretish = /(^|_)(key|code|pass|passcode|password|secret|token|pepper)(_|$)/
const allowed = /(^|_)(digest|hash|id|ids|prefix|state)$/

/** table.column names that look like they could hold a secret in clear. */
export const secretColumnProblems = (qualifiedColumns: ReadonlyArray<string>): string[] =>
  qualifiedColumns.filter((qc) => {
    const column = qc.split('.').at(-1) ?? qc
    return secretish.test(column) && !allowed.test(column)
  })

/** Clear secrets as a client sends them, and what provisioning stores for them (a keyed digest; fakes stand in here). */
export const testDigest = (s: string) => createHmac('sha256', 'test-pepper').update(s).digest('hex')

export const secretsConsumer = { organisation: 'ps_dev', contactInformationId: 'c', accountsReceivableId: 'a' }

/** Provisions an organisation, user, key and an access token with an authentication code, as digests only. */
export const provisionDigestedSecrets = async (store: Store): Promise<void> => {
  await store.upsertOrganisation({ id: 'ps_dev', name: 'PS Dev', consumerUser: 'maytemplate' })
  await store.upsertUser({ organisation: 'ps_dev', username: 'maytemplate', units: [] })
  await store.upsertKey({
    digest: testDigest(EXAMPLE_KEY), prefix: EXAMPLE_KEY.slice(0, 6), organisation: 'ps_dev', user: 'maytemplate',
    classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE', createdAt: 1,
  })
  await store.upsertConsumer(secretsConsumer)
  await store.upsertAccessToken({ id: 't1', organisation: 'ps_dev', consumer: secretsConsumer, authenticationCodeDigest: testDigest(EXAMPLE_CODE), state: 'EFFECTIVE' })
}
