/**
 * @module demo
 * The development seed: the organisation of CRM.COM's documented example (ps_dev), so that the documented
 * request works as written on a fresh `npm start`. Never for production: the key and the code are public.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Store } from '../store/store.js'
import { importDocument, type ImportDeps } from './import.js'
import type { ImportDocument } from './import-document.js'

/** the documented example without the `maria` token (and without identity providers, which the example only sketches). */
export const demoDocument: ImportDocument = {
  organisations: [{ id: 'ps_dev', name: 'PS Dev', consumer_user: 'maytemplate' }],
  units: [{ organisation: 'ps_dev', id: '1', name: 'Head office' }],
  users: [{ organisation: 'ps_dev', username: 'maytemplate', default_unit: '1', units: ['1'] }],
  web_api_keys: [
    {
      organisation: 'ps_dev', user: 'maytemplate', key: 'EE73C0AE64524371B5DDEFF5F7BB2192',
      classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE',
    },
  ],
  consumers: [
    { organisation: 'ps_dev', contact_information_id: '2695FED3FCFD4084AB39F44B18889123', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC' },
  ],
  access_tokens: [
    { organisation: 'ps_dev', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC', authentication_code: 'p_kestora1!', state: 'EFFECTIVE' },
  ],
}

/** Imports the demo seed when the store has no organisation at all; answers whether it did. */
export const seedDemoIfEmpty = async (store: Store, deps: ImportDeps): Promise<boolean> => {
  if ((await store.listOrganisations()).length > 0) return false
  const r = await importDocument(store, demoDocument, deps)
  if (E.isLeft(r)) throw new Error(`the demo seed does not import: ${r.left.join('; ')}`)
  return true
}
