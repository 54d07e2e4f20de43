// What `npm run bench` and `npm run profile` share: the route, the documented example they seed, the service's
// environment under load, and a free port.
import { createServer } from 'node:net'

export const KEY = 'EE73C0AE64524371B5DDEFF5F7BB2192'
export const ROUTE = '/crmapi/rest/v2/authentication/consumer_application_key/token'

/** The documented example (SPEC): one organisation, its user and key, one consumer with its authentication code. */
export const documentedExample = {
  organisations: [{ id: 'ps_dev', name: 'PS Dev', consumer_user: 'maytemplate' }],
  units: [{ organisation: 'ps_dev', id: '1', name: 'Head office' }],
  users: [{ organisation: 'ps_dev', username: 'maytemplate', default_unit: '1', units: ['1'] }],
  web_api_keys: [{ organisation: 'ps_dev', user: 'maytemplate', key: KEY, classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE' }],
  consumers: [{ organisation: 'ps_dev', contact_information_id: '2695FED3FCFD4084AB39F44B18889123', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC' }],
  access_tokens: [{ organisation: 'ps_dev', accounts_receivable_id: '261BF2B79198401D89A79C545F16CBEC', authentication_code: 'p_kestora1!', state: 'EFFECTIVE' }],
}

/**
 * The service's environment under load. Lock-out thresholds far above the load, so that the failure scenario measures
 * the unknown-key path itself (a locked-out key is answered earlier and cheaper) and the success scenarios never trip.
 */
export const serviceEnv = (secretsFile, databaseUrl) => ({
  ...process.env, SECRETS_FILE: secretsFile, NODE_ENV: 'development', DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', DEMO_SEED: 'false',
  LOCKOUT_KEY_THRESHOLD: '1000000', LOCKOUT_ADDRESS_THRESHOLD: '1000000', LOCKOUT_IDENTIFIER_THRESHOLD: '1000000',
})

/** A port free right now (the kernel's choice), so that runs beside other services and tests do not collide. */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
