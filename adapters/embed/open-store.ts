/**
 * @module open-store
 * `openStore(url)`: the store a URL names, migrated, ready for the core's ports. `memory:` is a fresh memory store
 * (tests, demos); `sqlite:PATH` and `postgres://...` the SQL store, whose drivers are loaded only then, so that the
 * verify entry, which links this module for its revocation check, loads no database driver until one is asked for.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parseStoreUrl, shownUrl, type StoreUrl } from '../store/database-url.js'
import { MemoryStore } from '../store/memory/memory-store.js'
import type { Store } from '../store/store.js'
import { StoreError } from './errors.js'

export interface OpenStoreOptions {
  /** Apply pending migrations first (default true). With false, a store whose schema is behind fails its ping. */
  readonly migrate?: boolean
}

/** The URL decoded, or a StoreError naming it (password masked) and the rule it broke. */
export const storeUrl = (url: string): StoreUrl => {
  const parsed = parseStoreUrl(url)
  if (E.isLeft(parsed)) throw new StoreError(`Invalid store URL ${JSON.stringify(shownUrl(url))}: ${parsed.left}`)
  return parsed.right
}

export const openStore = async (url: string | StoreUrl, options: OpenStoreOptions = {}): Promise<Store> => {
  const parsed = typeof url === 'string' ? storeUrl(url) : url
  if (parsed.engine === 'memory') return new MemoryStore()
  const { openSqlStore } = await import('../store/sql/open-store.js')
  try {
    return await openSqlStore(parsed, { migrate: options.migrate ?? true })
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e)
    throw new StoreError(`Could not open the store at ${shownUrl(parsed.url)}: ${why}`, { cause: e })
  }
}
