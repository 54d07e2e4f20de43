/**
 * @module modules/store
 * The store family: the store the config names, opened and migrated (what the CLI's commands work on); the same
 * store held to accepting a write (what the service starts on); the service's store, with the documented example
 * seeded into an empty one when `demo` is on; and what a provisioning import needs beside the store.
 */
import { openStore } from '../../adapters/embed/open-store.js'
import { seedDemoIfEmpty } from '../../adapters/provisioning/demo.js'
import { isWriteRefusal, StoreNotWritableError } from '../../adapters/store/store-readiness.js'
import type { Store } from '../../adapters/store/store.js'
import type { Config } from '../config.js'
import { serviceModule } from '../binder.js'
import { TYPES, type Resolver } from '../services.js'

/** How the database is named in a start-up refusal: the SQLite path, never a PostgreSQL URL (it may hold a password). */
const shownDatabase = (config: Config): string => (config.db.engine === 'sqlite' ? config.db.path : '(PostgreSQL, DATABASE_URL)')

/**
 * The store, refused (StoreNotWritableError) when it refuses a write (read-only, full, no privilege): the service
 * must not start, and say it is ready, on a database where no token can be issued. Other failures of the probe (a
 * store given unmigrated, a lock held for long) start the service; readiness tells. A caller's store (rebound
 * Store) is held to the same rule as one opened here.
 */
const writableStore = async (r: Resolver): Promise<Store> => {
  const config = r.get(TYPES.Config)
  let store: Store
  try {
    store = await r.getAsync(TYPES.Store)
  } catch (e) {
    // openStore wraps the driver's error in a StoreError: the refusal is its cause.
    const cause = (e as { cause?: unknown }).cause ?? e
    throw isWriteRefusal(cause) ? new StoreNotWritableError(shownDatabase(config), cause) : e
  }
  try {
    await store.checkWritable()
  } catch (e) {
    if (!isWriteRefusal(e)) return store
    await store.close().catch(() => undefined)
    throw new StoreNotWritableError(shownDatabase(config), e)
  }
  return store
}

export const storeModule = serviceModule((b) => {
  b.async(TYPES.Store, (r) => openStore(r.get(TYPES.Config).db))
  b.async(TYPES.WritableStore, writableStore)
  b.async(TYPES.ServiceStore, async (r) => {
    const store = await r.getAsync(TYPES.WritableStore)
    if (r.get(TYPES.Config).demo && (await seedDemoIfEmpty(store, await r.getAsync(TYPES.ImportDeps)))) {
      r.get(TYPES.Logger).info({}, 'seeded the documented example (ps_dev); --no-demo turns this off')
    }
    return store
  })
  b.async(TYPES.ImportDeps, async (r) => ({
    digest: await r.getAsync(TYPES.Digest),
    hasher: r.get(TYPES.Hasher),
    clock: r.get(TYPES.Clock),
  }))
})
